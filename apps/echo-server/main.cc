// echo-server: TCP and UDP echo on one port, edge-triggered, for latency and correctness tests.
// An optional admin port takes the line "shutdown" (SIGINT/SIGTERM work as well).
#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string_view>

#include "../common/event_loop.h"
#include "../common/net.h"
#include "../common/options.h"
#include "../common/shutdown.h"
#include "../common/tcp_server.h"

namespace {

class EchoConnection : public apps::StreamConnection {
public:
    using StreamConnection::StreamConnection;

protected:
    void on_input() override {
        out_.append(in_.view());
        in_.clear();
    }
};

// One line per command; the only command is "shutdown".
class AdminConnection : public apps::StreamConnection {
public:
    using StreamConnection::StreamConnection;

protected:
    void on_input() override {
        std::string_view v = in_.view();
        size_t eol = v.find('\n');
        if (eol == std::string_view::npos) {
            if (v.size() > 256) close();
            return;
        }
        std::string_view line = v.substr(0, eol);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line == "shutdown") {
            out_.append("bye\n");
            apps::request_shutdown();
        } else {
            out_.append("unknown command (try: shutdown)\n");
        }
        in_.clear();
        close_after_flush();
    }
};

class UdpEcho : public apps::EventLoop::Handler {
public:
    explicit UdpEcho(int fd) : fd_(fd) {}
    ~UdpEcho() override { close(fd_); }
    void on_events(uint32_t) override {
        char buf[65536];
        for (;;) {
            sockaddr_storage peer;
            socklen_t len = sizeof peer;
            ssize_t n = recvfrom(fd_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&peer), &len);
            if (n < 0) {
                if (errno == EINTR) continue;
                return;  // EAGAIN: drained (edge-triggered)
            }
            // A full send queue drops the reply, as any UDP service would.
            sendto(fd_, buf, static_cast<size_t>(n), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&peer), len);
        }
    }

private:
    int fd_;
};

template <typename Connection>
apps::TcpServer::Factory factory() {
    return [](apps::TcpServer& s, int fd) { return std::make_unique<Connection>(s, fd); };
}

}  // namespace

int main(int argc, char** argv) {
    apps::block_shutdown_signals();
    int port = 7000;
    int admin_port = 0;
    int max_connections = 10000;
    int status = apps::parse_flags(
        argc, argv,
        "TCP and UDP echo on one port. Ends on SIGINT/SIGTERM, or when a client sends the line\n"
        "\"shutdown\" to the admin port (off unless --admin-port is given; bind it where only\n"
        "operators reach it).",
        {{"port", apps::Flag::Kind::Int, &port, "TCP and UDP port to echo on (default 7000)"},
         {"admin-port", apps::Flag::Kind::Int, &admin_port, "TCP port for the \"shutdown\" command (default: off)"},
         {"max-connections", apps::Flag::Kind::Int, &max_connections,
          "connections beyond this are closed at once (default 10000, 0 = no limit)"}});
    if (status >= 0) return status;
    if (port == 0 || port > 65535 || admin_port > 65535) {
        fprintf(stderr, "echo-server: ports are 1..65535\n");
        return 2;
    }

    int shutdown_fd = apps::start_shutdown_watch();
    apps::EventLoop loop;
    if (shutdown_fd < 0 || !loop.open(shutdown_fd)) {
        perror("echo-server: event loop");
        return 1;
    }
    apps::TcpServer tcp(loop, factory<EchoConnection>());
    if (!tcp.start(static_cast<uint16_t>(port), static_cast<uint32_t>(max_connections), 0)) {
        perror("echo-server: tcp listen");
        return 1;
    }
    int udp_fd = apps::bind_udp(static_cast<uint16_t>(port));
    if (udp_fd < 0) {
        perror("echo-server: udp bind");
        return 1;
    }
    UdpEcho udp(udp_fd);
    loop.add(udp_fd, EPOLLIN | EPOLLET, &udp);
    apps::TcpServer admin(loop, factory<AdminConnection>());
    if (admin_port != 0 && !admin.start(static_cast<uint16_t>(admin_port), 16, 10000)) {
        perror("echo-server: admin listen");
        return 1;
    }
    char admin_text[32] = "off";
    if (admin_port != 0) snprintf(admin_text, sizeof admin_text, "on port %d", admin_port);
    fprintf(stderr, "echo-server: tcp+udp echo on port %d, admin %s\n", port, admin_text);
    loop.run();
    fprintf(stderr, "echo-server: shutting down (%llu connections served)\n",
            static_cast<unsigned long long>(tcp.counters().accepted));
    tcp.close_all();
    admin.close_all();
    apps::stop_shutdown_watch();
    return 0;
}
