// tcp-bench's two backends behind one interface. Every call returns what the Linux system call
// returns: a value >= 0 or -errno (the sys_* convention), so a row is written once for both.
//  - Linux: libc's socket calls on 127.0.0.1. tcp-bench does not link libpollux-hosted, so the
//    standard names are the host kernel's.
//  - Pollux: pollux::sys_* directly, between host B (client) and host A (server) on the wire.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "bench_hosts.h"
#include "eventpoll/sys.h"

namespace tcpbench {

// Pollux's EpollEvent is the kernel's packed struct epoll_event, so one array serves both.
static_assert(sizeof(epoll_event) == sizeof(pollux::abi::EpollEvent));

struct Linux {
    static constexpr const char* kName = "linux";
    // Ephemeral ports suffice: Linux never has more than 10 000 connections open here.
    static constexpr bool kNeedsExplicitPorts = false;
    static long ret(long r) { return r < 0 ? -errno : r; }
    static sockaddr_in server_addr(uint16_t port) {
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return sa;
    }
    static sockaddr_in client_addr(uint16_t port) { return server_addr(port); }
    static long socket(int flags) { return ret(::socket(AF_INET, SOCK_STREAM | flags, 0)); }
    static long bind(int fd, const sockaddr_in& sa) {
        return ret(::bind(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)));
    }
    static long listen(int fd, int backlog) { return ret(::listen(fd, backlog)); }
    static long accept(int fd, int flags) { return ret(::accept4(fd, nullptr, nullptr, flags)); }
    static long connect(int fd, const sockaddr_in& sa) {
        return ret(::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)));
    }
    static long local_port(int fd) {
        sockaddr_in sa{};
        socklen_t len = sizeof(sa);
        long r = ret(::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len));
        return r < 0 ? r : ntohs(sa.sin_port);
    }
    static long setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
        return ret(::setsockopt(fd, level, name, val, len));
    }
    static long read(int fd, void* buf, size_t n) { return ret(::read(fd, buf, n)); }
    static long write(int fd, const void* buf, size_t n) { return ret(::send(fd, buf, n, MSG_NOSIGNAL)); }
    static long shutdown(int fd, int how) { return ret(::shutdown(fd, how)); }
    static long close(int fd) { return ret(::close(fd)); }
    static long epoll_create() { return ret(::epoll_create1(EPOLL_CLOEXEC)); }
    static long epoll_ctl(int ep, int op, int fd, uint32_t events, uint64_t data) {
        epoll_event ev{};
        ev.events = events;
        ev.data.u64 = data;
        return ret(::epoll_ctl(ep, op, fd, &ev));
    }
    static long epoll_wait(int ep, epoll_event* evs, int max, int timeout_ms) {
        return ret(::epoll_wait(ep, evs, max, timeout_ms));
    }
    static long wait_readable(int fd) {
        pollfd p{fd, POLLIN, 0};
        return ret(::poll(&p, 1, -1));
    }
};

struct Pollux {
    static constexpr const char* kName = "pollux";
    // lwIP hands out ephemeral ports from 0xc000-0xffff only and never shares one between
    // connections, so beyond ~16 000 clients they bind their own (see IdleSet).
    static constexpr bool kNeedsExplicitPorts = true;
    static sockaddr_in server_addr(uint16_t port) { return pollux_addr(1, port); }
    static sockaddr_in client_addr(uint16_t port) { return pollux_addr(2, port); }
    static long socket(int flags) { return pollux::sys_socket(AF_INET, SOCK_STREAM | flags, 0); }
    static long bind(int fd, const sockaddr_in& sa) { return pollux::sys_bind(fd, &sa, sizeof(sa)); }
    static long listen(int fd, int backlog) { return pollux::sys_listen(fd, backlog); }
    static long accept(int fd, int flags) { return pollux::sys_accept4(fd, nullptr, nullptr, flags); }
    static long connect(int fd, const sockaddr_in& sa) { return pollux::sys_connect(fd, &sa, sizeof(sa)); }
    static long local_port(int fd) {
        sockaddr_in sa{};
        unsigned len = sizeof(sa);
        long r = pollux::sys_getsockname(fd, &sa, &len);
        return r < 0 ? r : ntohs(sa.sin_port);
    }
    static long setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
        return pollux::sys_setsockopt(fd, level, name, val, static_cast<int>(len));
    }
    static long read(int fd, void* buf, size_t n) { return pollux::sys_read(fd, buf, n); }
    static long write(int fd, const void* buf, size_t n) {
        return pollux::sys_sendto(fd, buf, n, MSG_NOSIGNAL, nullptr, 0);
    }
    static long shutdown(int fd, int how) { return pollux::sys_shutdown(fd, how); }
    static long close(int fd) { return pollux::sys_close(fd); }
    static long epoll_create() { return pollux::sys_epoll_create1(EPOLL_CLOEXEC); }
    static long epoll_ctl(int ep, int op, int fd, uint32_t events, uint64_t data) {
        pollux::abi::EpollEvent ev{events, data};
        return pollux::sys_epoll_ctl(ep, op, fd, &ev);
    }
    static long epoll_wait(int ep, epoll_event* evs, int max, int timeout_ms) {
        return pollux::sys_epoll_wait(ep, reinterpret_cast<pollux::abi::EpollEvent*>(evs), max, timeout_ms);
    }
    static long wait_readable(int fd) {
        pollux::PollFd p{fd, POLLIN, 0};
        return pollux::sys_poll(&p, 1, -1);
    }
};

template <class B>
long set_int(int fd, int level, int name, int value) {
    return B::setsockopt(fd, level, name, &value, sizeof(value));
}

// Reads exactly n bytes, waiting for them even on a nonblocking socket; false on EOF or error.
template <class B>
bool read_full(int fd, void* buf, size_t n) {
    auto* p = static_cast<char*>(buf);
    while (n > 0) {
        long r = B::read(fd, p, n);
        if (r == -EAGAIN) {
            B::wait_readable(fd);
            continue;
        }
        if (r <= 0) return false;
        p += r;
        n -= static_cast<size_t>(r);
    }
    return true;
}

// Closing with SO_LINGER {1, 0} resets the connection: no TIME_WAIT left behind to hold ports
// and memory into the next row.
template <class B>
void close_with_reset(int fd) {
    linger l{1, 0};
    B::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    B::close(fd);
}

}  // namespace tcpbench
