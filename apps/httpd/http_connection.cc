#include "http_connection.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

#include "../common/shutdown.h"
#include "stats.h"

namespace httpd {

namespace {

constexpr size_t kFileChunk = 64 * 1024;
constexpr size_t kFileAhead = 256 * 1024;  // file bytes queued in out_ at most

std::string_view reason(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

std::string_view content_type(std::string_view path) {
    size_t dot = path.rfind('.');
    std::string_view ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    if (ext == "html" || ext == "htm") return "text/html";
    if (ext == "txt") return "text/plain";
    if (ext == "css") return "text/css";
    if (ext == "js") return "text/javascript";
    if (ext == "json") return "application/json";
    if (ext == "png") return "image/png";
    if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
    if (ext == "svg") return "image/svg+xml";
    if (ext == "ico") return "image/x-icon";
    return "application/octet-stream";
}

// RFC 9110 5.6.7 IMF-fixdate, formatted once per second.
std::string_view http_date() {
    static char text[40];
    static time_t formatted = -1;
    timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (now.tv_sec != formatted) {
        tm t;
        gmtime_r(&now.tv_sec, &t);
        strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &t);
        formatted = now.tv_sec;
    }
    return text;
}

bool is_known_method(std::string_view m) {
    return m == "POST" || m == "PUT" || m == "DELETE" || m == "PATCH" || m == "OPTIONS" || m == "TRACE" ||
           m == "CONNECT";
}

}  // namespace

HttpConnection::~HttpConnection() {
    if (file_fd_ >= 0) ::close(file_fd_);
}

void HttpConnection::on_input() {
    if (file_fd_ < 0) process_requests();
}

void HttpConnection::on_output_drained() {
    if (file_fd_ >= 0) fill_from_file();
    if (file_fd_ < 0) process_requests();
}

void HttpConnection::process_requests() {
    while (!closed() && !closing() && file_fd_ < 0 && out_.size() < kOutputHighWater) {
        HttpRequest request;
        HttpParse p = parse_http_request(in_.view(), site_.limits, request);
        if (p.state == HttpParse::State::Incomplete) return;
        if (p.state == HttpParse::State::Error) {
            // The stream cannot be trusted past a framing error: answer and close, as nginx does.
            ++site_.counters.bad_requests;
            std::string body = std::to_string(p.status) + " " + std::string(reason(p.status)) + "\n";
            respond(p.status, "text/plain", body, false, false);
            in_.clear();
            return;
        }
        size_t total = p.header_bytes + request.content_length;
        if (in_.size() < total) return;  // the body is still on its way
        handle(request);
        in_.consume(total);
    }
}

void HttpConnection::handle(const HttpRequest& r) {
    ++site_.counters.requests;
    bool head = r.method == "HEAD";
    std::string path;
    if (r.method == "GET" || head) {
        if (!normalize_target(r.target, path)) {
            respond(400, "text/plain", "400 Bad Request\n", head, r.keep_alive);
        } else if (path == "/stats") {
            respond(200, "application/json", stats_json(site_, server_.counters(), server_.loop().now_ms()), head,
                    r.keep_alive, "Cache-Control: no-store\r\n");
        } else {
            serve_file(path, head, r.keep_alive);
        }
        return;
    }
    if (r.method == "POST" && site_.admin && normalize_target(r.target, path) && path == "/admin/shutdown") {
        respond(200, "text/plain", "shutting down\n", false, false);
        apps::request_shutdown();
        return;
    }
    if (is_known_method(r.method)) {
        respond(405, "text/plain", "405 Method Not Allowed\n", false, r.keep_alive, "Allow: GET, HEAD\r\n");
    } else {
        respond(501, "text/plain", "501 Not Implemented\n", false, r.keep_alive);
    }
}

void HttpConnection::serve_file(const std::string& path, bool head, bool keep_alive) {
    std::string full = site_.root + path;
    if (full.back() == '/') full += "index.html";
    int fd = open(full.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        ::close(fd);
        full += "/index.html";
        fd = open(full.c_str(), O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        bool forbidden = fd < 0 && errno == EACCES;
        if (fd >= 0) ::close(fd);
        if (forbidden) {
            respond(403, "text/plain", "403 Forbidden\n", head, keep_alive);
        } else {
            respond(404, "text/plain", "404 Not Found\n", head, keep_alive);
        }
        return;
    }
    ++site_.counters.by_status[200];
    append_head(200, content_type(full), static_cast<uint64_t>(st.st_size), keep_alive, {});
    if (head || st.st_size == 0) {
        ::close(fd);
        if (!keep_alive) close_after_flush();
        return;
    }
    file_fd_ = fd;
    file_remaining_ = static_cast<uint64_t>(st.st_size);
    close_after_file_ = !keep_alive;
    fill_from_file();
}

void HttpConnection::fill_from_file() {
    while (file_remaining_ > 0 && out_.size() < kFileAhead) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(file_remaining_, kFileChunk));
        ssize_t r = read(file_fd_, out_.prepare(want), want);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            // The file shrank or failed under us: the promised length cannot be kept.
            close();
            return;
        }
        out_.commit(static_cast<size_t>(r));
        file_remaining_ -= static_cast<uint64_t>(r);
    }
    if (file_remaining_ == 0) {
        ::close(file_fd_);
        file_fd_ = -1;
        if (close_after_file_) close_after_flush();
    }
}

void HttpConnection::respond(int status, std::string_view type, std::string_view body, bool head, bool keep_alive,
                             std::string_view extra_headers) {
    ++site_.counters.by_status[status];
    append_head(status, type, body.size(), keep_alive, extra_headers);
    if (!head) out_.append(body);
    if (!keep_alive) close_after_flush();
}

void HttpConnection::append_head(int status, std::string_view type, uint64_t length, bool keep_alive,
                                 std::string_view extra_headers) {
    char line[64];
    snprintf(line, sizeof line, "HTTP/1.1 %d ", status);
    out_.append(line);
    out_.append(reason(status));
    out_.append("\r\nServer: pollux-httpd\r\nDate: ");
    out_.append(http_date());
    out_.append("\r\nContent-Type: ");
    out_.append(type);
    snprintf(line, sizeof line, "\r\nContent-Length: %llu\r\n", static_cast<unsigned long long>(length));
    out_.append(line);
    out_.append(keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
    out_.append(extra_headers);
    out_.append("\r\n");
}

}  // namespace httpd
