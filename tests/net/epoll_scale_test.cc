// Many connections through one eventpoll, and send-buffer back-pressure, between two hosts on
// the clean wire.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "eventpoll/sys.h"
#include "netstack/stack.h"
#include "netstack/tcp_index.h"
#include "two_hosts.h"

namespace {

using pollux::abi::EpollEvent;

class EpollScale : public ::testing::Test {
protected:
    void SetUp() override { nettest::setup_hosts(); }
};

long ctl(int ep, int op, int fd, uint32_t events) {
    EpollEvent ev{events, static_cast<uint64_t>(fd)};
    return pollux::sys_epoll_ctl(ep, op, fd, &ev);
}

// 10 000 connections open at once: every accepted socket sits in one edge-triggered eventpoll,
// each client sends its number, the server echoes from epoll_wait, each client gets its own.
TEST_F(EpollScale, TenThousandConnectionsThroughOneEventpoll) {
    const char* numbering = getenv("POLLUX_FD_NUMBERS");
    ASSERT_TRUE(numbering != nullptr && strcmp(numbering, "private") == 0)
        << "20 000 descriptors need POLLUX_FD_NUMBERS=private (ctest sets it)";
    constexpr int kConns = 10000;
    constexpr int kBatch = 500;
    sockaddr_in srv = nettest::addr4(0, 1, 0);
    uint16_t port = 0;
    int l = nettest::tcp_listener(reinterpret_cast<sockaddr*>(&srv), sizeof(srv), 4096, &port);
    ASSERT_GE(l, 0);
    ASSERT_EQ(pollux::sys_fcntl(l, F_SETFL, O_NONBLOCK), 0);
    srv.sin_port = htons(port);
    int sep = static_cast<int>(pollux::sys_epoll_create1(0));
    int cep = static_cast<int>(pollux::sys_epoll_create1(0));
    ASSERT_GE(sep, 0);
    ASSERT_GE(cep, 0);
    ASSERT_EQ(ctl(sep, EPOLL_CTL_ADD, l, EPOLLIN), 0);
    std::vector<int> clients;
    std::vector<int> accepted;
    std::vector<EpollEvent> evs(1024);
    for (int base = 0; base < kConns; base += kBatch) {
        for (int i = base; i < base + kBatch; ++i) {
            int c = static_cast<int>(pollux::sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
            ASSERT_GE(c, 0) << strerror(-c);
            long r = pollux::sys_connect(c, &srv, sizeof(srv));
            ASSERT_EQ(r, -EINPROGRESS);
            clients.push_back(c);
        }
        // Accept this batch before the next: the accept queue holds at most backlog + 1.
        for (int rounds = 0; static_cast<int>(accepted.size()) < base + kBatch && rounds < 2000; ++rounds) {
            int n = static_cast<int>(pollux::sys_epoll_wait(sep, evs.data(), static_cast<int>(evs.size()), 10));
            ASSERT_GE(n, 0);
            for (;;) {
                int a = static_cast<int>(pollux::sys_accept4(l, nullptr, nullptr, SOCK_NONBLOCK));
                if (a == -EAGAIN) break;
                ASSERT_GE(a, 0) << strerror(-a);
                ASSERT_EQ(ctl(sep, EPOLL_CTL_ADD, a, EPOLLIN | EPOLLET), 0);
                accepted.push_back(a);
            }
        }
        ASSERT_EQ(static_cast<int>(accepted.size()), base + kBatch);
    }
    for (int i = 0; i < kConns; ++i) {
        ASSERT_EQ(ctl(cep, EPOLL_CTL_ADD, clients[i], EPOLLIN), 0);
        uint32_t msg = static_cast<uint32_t>(i);
        ASSERT_EQ(pollux::sys_write(clients[i], &msg, sizeof(msg)), static_cast<long>(sizeof(msg)));
    }
    // Server: echo whatever each ready socket has.
    int echoed = 0;
    for (int rounds = 0; echoed < kConns && rounds < 5000; ++rounds) {
        int n = static_cast<int>(pollux::sys_epoll_wait(sep, evs.data(), static_cast<int>(evs.size()), 10));
        ASSERT_GE(n, 0);
        for (int k = 0; k < n; ++k) {
            int fd = static_cast<int>(evs[k].data);
            if (fd == l) continue;
            uint32_t msg;
            long r = pollux::sys_read(fd, &msg, sizeof(msg));
            if (r == -EAGAIN) continue;
            ASSERT_EQ(r, static_cast<long>(sizeof(msg)));
            ASSERT_EQ(pollux::sys_write(fd, &msg, sizeof(msg)), static_cast<long>(sizeof(msg)));
            ++echoed;
        }
    }
    ASSERT_EQ(echoed, kConns);
    // Clients: every one gets its own number back, reported once by a level-triggered epoll.
    std::vector<bool> seen(kConns);
    int got = 0;
    for (int rounds = 0; got < kConns && rounds < 5000; ++rounds) {
        int n = static_cast<int>(pollux::sys_epoll_wait(cep, evs.data(), static_cast<int>(evs.size()), 10));
        ASSERT_GE(n, 0);
        for (int k = 0; k < n; ++k) {
            int fd = static_cast<int>(evs[k].data);
            uint32_t msg;
            ASSERT_EQ(pollux::sys_read(fd, &msg, sizeof(msg)), static_cast<long>(sizeof(msg)));
            ASSERT_LT(msg, static_cast<uint32_t>(kConns));
            ASSERT_EQ(clients[msg], fd);
            ASSERT_FALSE(seen[msg]);
            seen[msg] = true;
            ++got;
            ASSERT_EQ(ctl(cep, EPOLL_CTL_DEL, fd, 0), 0);
        }
    }
    EXPECT_EQ(got, kConns);
    auto index_check = [] {
        pollux::net::StackGuard g;
        return pollux::net::tcp_index_check();
    };
    const char* bad = index_check();  // 20 000 pcbs in the connection index
    EXPECT_EQ(bad, nullptr) << bad;
    // Quiet now: lwIP's timers stop visiting them (the timer list, patch 0011) once the last
    // ACKs are out, or any retransmissions a burst of them needed.
    size_t armed = SIZE_MAX;
    for (int rounds = 0; rounds < 100 && armed >= 100; ++rounds) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        pollux::net::StackGuard g;
        armed = pollux::net::tcp_index_stats().timer_armed;
    }
    EXPECT_LT(armed, 100u) << "of 20 000 idle pcbs, still visited by the TCP timers";
    for (int fd : clients) EXPECT_EQ(pollux::sys_close(fd), 0);
    for (int fd : accepted) EXPECT_EQ(pollux::sys_close(fd), 0);
    EXPECT_EQ(pollux::sys_close(l), 0);
    EXPECT_EQ(pollux::sys_close(sep), 0);
    EXPECT_EQ(pollux::sys_close(cep), 0);
    bad = index_check();  // and after they all closed at once
    EXPECT_EQ(bad, nullptr) << bad;
}

// A reader that stops makes the writer get EAGAIN and lose EPOLLOUT; once the reader drains,
// EPOLLOUT comes back (from lwIP's sent callback, not from polling) and every byte arrives.
TEST_F(EpollScale, BackPressureEagainThenEpollout) {
    sockaddr_in srv = nettest::addr4(0, 1, 0);
    uint16_t port = 0;
    int l = nettest::tcp_listener(reinterpret_cast<sockaddr*>(&srv), sizeof(srv), 4, &port);
    srv.sin_port = htons(port);
    int c = nettest::tcp_connect(reinterpret_cast<sockaddr*>(&srv), sizeof(srv));
    int s = static_cast<int>(pollux::sys_accept4(l, nullptr, nullptr, 0));
    ASSERT_GE(s, 0);
    ASSERT_EQ(pollux::sys_fcntl(c, F_SETFL, O_NONBLOCK), 0);
    int ep = static_cast<int>(pollux::sys_epoll_create1(0));
    ASSERT_EQ(ctl(ep, EPOLL_CTL_ADD, c, EPOLLOUT | EPOLLET), 0);
    EpollEvent ev;
    ASSERT_EQ(pollux::sys_epoll_wait(ep, &ev, 1, 1000), 1);
    std::vector<char> chunk(64 * 1024, 'x');
    size_t written = 0;
    // Write until EAGAIN, and again whenever EPOLLOUT comes back while the peer's window still
    // takes data; once both our buffer and the peer's window are full, EPOLLOUT stays away.
    bool full = false;
    for (int rounds = 0; rounds < 100 && !full; ++rounds) {
        long r;
        while ((r = pollux::sys_write(c, chunk.data(), chunk.size())) > 0) written += static_cast<size_t>(r);
        ASSERT_EQ(r, -EAGAIN);
        full = pollux::sys_epoll_wait(ep, &ev, 1, 1000) == 0;
    }
    ASSERT_TRUE(full);
    EXPECT_GE(written, size_t{512 * 1024});  // at least our send buffer (TCP_SND_BUF)
    // The peer's receive queue holds what crossed the wire, unread (bounded wait: the net-rx
    // thread may still be delivering on a loaded machine).
    int queued = 0;
    for (int rounds = 0; rounds < 200 && queued == 0; ++rounds) {
        ASSERT_EQ(pollux::sys_ioctl(s, FIONREAD, reinterpret_cast<unsigned long>(&queued)), 0);
        if (queued == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_GT(queued, 0);
    size_t drained = 0;
    bool writable = false;
    std::vector<char> buf(256 * 1024);
    for (int rounds = 0; rounds < 400 && !writable; ++rounds) {
        long n = pollux::sys_recvfrom(s, buf.data(), buf.size(), MSG_DONTWAIT, nullptr, nullptr);
        if (n > 0) drained += static_cast<size_t>(n);
        writable = pollux::sys_epoll_wait(ep, &ev, 1, 5) == 1;
    }
    ASSERT_TRUE(writable);
    EXPECT_TRUE(ev.events & EPOLLOUT) << ev.events;
    EXPECT_GT(pollux::sys_write(c, chunk.data(), chunk.size()), 0);
    EXPECT_EQ(pollux::sys_close(c), 0);
    for (;;) {  // everything written arrives before the EOF
        long n = pollux::sys_read(s, buf.data(), buf.size());
        ASSERT_GE(n, 0);
        if (n == 0) break;
        drained += static_cast<size_t>(n);
    }
    EXPECT_GT(drained, written);
    EXPECT_EQ(pollux::sys_close(s), 0);
    EXPECT_EQ(pollux::sys_close(l), 0);
    EXPECT_EQ(pollux::sys_close(ep), 0);
}

}  // namespace
