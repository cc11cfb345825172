// httpd: a small HTTP/1.1 static file server in the style of nginx (keep-alive, pipelining,
// GET/HEAD, /stats, limits, an idle timeout). One event loop thread.
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <memory>

#include "../common/event_loop.h"
#include "../common/options.h"
#include "../common/shutdown.h"
#include "../common/tcp_server.h"
#include "http_connection.h"
#include "http_site.h"

int main(int argc, char** argv) {
    apps::block_shutdown_signals();
    int port = 8080;
    int max_connections = 10000;
    int idle_timeout_s = 60;
    int max_header_bytes = 8192;
    httpd::HttpSite site;
    site.root = ".";
    int status =
        apps::parse_flags(argc, argv,
                          "HTTP/1.1 static file server: GET and HEAD of the files under --root, keep-alive and\n"
                          "pipelining, and GET /stats (the server's and the network stack's counters, JSON).\n"
                          "Ends on SIGINT/SIGTERM, or on POST /admin/shutdown when started with --admin (off by\n"
                          "default: anyone who reaches the port could stop the server).",
                          {{"port", apps::Flag::Kind::Int, &port, "TCP port (default 8080)"},
                           {"root", apps::Flag::Kind::String, &site.root, "directory to serve (default .)"},
                           {"admin", apps::Flag::Kind::Bool, &site.admin, "accept POST /admin/shutdown"},
                           {"max-connections", apps::Flag::Kind::Int, &max_connections,
                            "connections beyond this are closed at once (default 10000, 0 = no limit)"},
                           {"idle-timeout", apps::Flag::Kind::Int, &idle_timeout_s,
                            "seconds before an idle connection is closed (default 60, 0 = never)"},
                           {"max-header-bytes", apps::Flag::Kind::Int, &max_header_bytes,
                            "request line + headers beyond this get 414 or 431 (default 8192)"}});
    if (status >= 0) return status;
    if (port == 0 || port > 65535) {
        fprintf(stderr, "httpd: --port is 1..65535\n");
        return 2;
    }
    while (site.root.size() > 1 && site.root.back() == '/') site.root.pop_back();
    // open(O_DIRECTORY) rather than stat(): the unikernel serves only the file calls listed.
    int root_fd = open(site.root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) {
        fprintf(stderr, "httpd: --root %s is not a directory\n", site.root.c_str());
        return 2;
    }
    close(root_fd);
    site.limits.max_header_bytes = static_cast<size_t>(max_header_bytes);

    int shutdown_fd = apps::start_shutdown_watch();
    apps::EventLoop loop;
    if (shutdown_fd < 0 || !loop.open(shutdown_fd)) {
        perror("httpd: event loop");
        return 1;
    }
    site.started_ms = loop.now_ms();
    apps::TcpServer server(
        loop, [&site](apps::TcpServer& s, int fd) { return std::make_unique<httpd::HttpConnection>(s, fd, site); });
    if (!server.start(static_cast<uint16_t>(port), static_cast<uint32_t>(max_connections), idle_timeout_s * 1000)) {
        perror("httpd: listen");
        return 1;
    }
    fprintf(stderr, "httpd: serving %s on port %d, admin %s\n", site.root.c_str(), port, site.admin ? "on" : "off");
    loop.run();
    fprintf(stderr, "httpd: shutting down (%llu requests served)\n",
            static_cast<unsigned long long>(site.counters.requests));
    server.close_all();
    apps::stop_shutdown_watch();
    return 0;
}
