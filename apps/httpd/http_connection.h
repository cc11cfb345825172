// One HTTP/1.1 client connection: keep-alive, pipelining (requests are answered in order, one
// after another, from whatever the input holds), GET and HEAD of static files, /stats, and the
// admin shutdown. A file body is streamed from its descriptor as the socket drains, so a large
// file never sits whole in memory; the next pipelined request waits until it is sent.
#pragma once

#include <stdint.h>

#include <string>
#include <string_view>

#include "../common/tcp_server.h"
#include "http_site.h"

namespace httpd {

class HttpConnection : public apps::StreamConnection {
public:
    HttpConnection(apps::TcpServer& server, int fd, HttpSite& site) : StreamConnection(server, fd), site_(site) {}
    ~HttpConnection() override;

protected:
    void on_input() override;
    void on_output_drained() override;

private:
    void process_requests();
    void handle(const HttpRequest& request);
    void serve_file(const std::string& path, bool head, bool keep_alive);
    void fill_from_file();
    void respond(int status, std::string_view content_type, std::string_view body, bool head, bool keep_alive,
                 std::string_view extra_headers = {});
    void append_head(int status, std::string_view content_type, uint64_t length, bool keep_alive,
                     std::string_view extra_headers);

    HttpSite& site_;
    int file_fd_ = -1;  // the body being streamed, if any
    uint64_t file_remaining_ = 0;
    bool close_after_file_ = false;
};

}  // namespace httpd
