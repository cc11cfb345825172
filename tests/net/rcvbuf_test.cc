// SO_RCVBUF sizes a connection's receive window (lwIP patch 0014): a tiny window still moves
// data at full pace (its window updates are sent, not left to persist probes), and a window
// lowered and raised on a live connection, with data queued, holds what it should and loses
// nothing. The conformance suite checks the listener case against Linux.
#include <gtest/gtest.h>
#include <sys/ioctl.h>

#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "eventpoll/sys.h"
#include "two_hosts.h"

namespace {

using Clock = std::chrono::steady_clock;

std::vector<uint8_t> pattern(size_t n) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(i * 2654435761u >> 13);
    return v;
}

int set_int(int fd, int name, int value) {
    return static_cast<int>(pollux::sys_setsockopt(fd, SOL_SOCKET, name, &value, sizeof value));
}

int queued(int fd) {
    int q = -1;
    EXPECT_EQ(pollux::sys_ioctl(fd, FIONREAD, reinterpret_cast<unsigned long>(&q)), 0);
    return q;
}

// A connection over the clean link, the server side accepted from a listener whose SO_RCVBUF
// was set to listener_rcvbuf (0: left alone) before listen().
struct Conn {
    int client = -1, server = -1;
    ~Conn() {
        if (client >= 0) pollux::sys_close(client);
        if (server >= 0) pollux::sys_close(server);
    }
};

void connect_pair(Conn& c, int listener_rcvbuf) {
    int l = static_cast<int>(pollux::sys_socket(AF_INET, SOCK_STREAM, 0));
    ASSERT_GE(l, 0);
    if (listener_rcvbuf) {
        ASSERT_EQ(set_int(l, SO_RCVBUF, listener_rcvbuf), 0);
    }
    sockaddr_in a = nettest::addr4(0, 1, 0);
    ASSERT_EQ(pollux::sys_bind(l, &a, sizeof a), 0);
    ASSERT_EQ(pollux::sys_listen(l, 1), 0);
    sockaddr_in dst = nettest::addr4(0, 1, nettest::port_of(l));
    c.client = nettest::tcp_connect(reinterpret_cast<sockaddr*>(&dst), sizeof dst);
    ASSERT_GE(c.client, 0);
    c.server = static_cast<int>(pollux::sys_accept4(l, nullptr, nullptr, 0));
    ASSERT_GE(c.server, 0);
    EXPECT_EQ(pollux::sys_close(l), 0);
}

// Sends from `data` at *sent without blocking until the writer is refused for `idle_ms`.
void fill_until_stalled(int fd, const std::vector<uint8_t>& data, size_t* sent, int idle_ms) {
    for (int idle = 0; idle < idle_ms && *sent < data.size();) {
        long n = pollux::sys_sendto(fd, data.data() + *sent, data.size() - *sent, MSG_DONTWAIT, nullptr, 0);
        if (n > 0) {
            *sent += static_cast<size_t>(n);
            idle = 0;
        } else {
            ASSERT_EQ(n, -EAGAIN);
            ++idle;
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    }
}

// Moves `data` across from *sent on (the writer sending, the reader reading, neither
// blocking) until the reader has `until` bytes or `limit` passes.
void move_until(Conn& c, const std::vector<uint8_t>& data, size_t* sent, std::vector<uint8_t>& got, size_t until,
                std::chrono::seconds limit) {
    std::vector<uint8_t> buf(64 * 1024);
    auto deadline = Clock::now() + limit;
    while (got.size() < until && Clock::now() < deadline) {
        if (*sent < data.size()) {
            long n = pollux::sys_sendto(c.client, data.data() + *sent, data.size() - *sent, MSG_DONTWAIT, nullptr, 0);
            if (n > 0) *sent += static_cast<size_t>(n);
        }
        long r = pollux::sys_recvfrom(c.server, buf.data(), buf.size(), MSG_DONTWAIT, nullptr, nullptr);
        if (r > 0) got.insert(got.end(), buf.data(), buf.data() + r);
        if (r == -EAGAIN) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
}

// Moves the rest of `data` across and checks that every byte arrived in order.
void drain_and_check(Conn& c, const std::vector<uint8_t>& data, size_t sent, std::vector<uint8_t>& got,
                     std::chrono::seconds limit) {
    move_until(c, data, &sent, got, data.size(), limit);
    ASSERT_EQ(got.size(), data.size());
    EXPECT_TRUE(got == data);
}

class RcvBuf : public ::testing::Test {
protected:
    void SetUp() override { nettest::setup_hosts(); }
};

// SO_RCVBUF 1: Linux's floor, 2304 bytes reported, a 1152-byte window. 1 MiB crosses it within
// a few seconds only if every window the reader opens is announced; with lwIP's fixed update
// threshold (four MSS) the writer waited for persist probes, and took minutes.
TEST_F(RcvBuf, TinyWindowStillMoves) {
    Conn c;
    connect_pair(c, 1);
    int reported = -1;
    unsigned len = sizeof reported;
    ASSERT_EQ(pollux::sys_getsockopt(c.server, SOL_SOCKET, SO_RCVBUF, &reported, &len), 0);
    EXPECT_EQ(reported, 2304);
    std::vector<uint8_t> data = pattern(1 << 20), got;
    auto start = Clock::now();
    drain_and_check(c, data, 0, got, std::chrono::seconds(20));
    EXPECT_LT(Clock::now() - start, std::chrono::seconds(5));
}

// Lowered while 100 000 bytes sit unread in a 512 KiB window: the window already promised to
// the writer is honoured (nothing inside it is dropped), and what the new window cannot take
// from it is a debt that reading pays before the window opens again. Once paid, the reader
// holds no more than the new window; raised again, it opens, and all arrives intact.
TEST_F(RcvBuf, LoweredAndRaisedOnALiveConnection) {
    Conn c;
    connect_pair(c, 0);
    ASSERT_EQ(set_int(c.client, SO_SNDBUF, 16384), 0);  // the writer stalls on its own buffer soon
    std::vector<uint8_t> data = pattern(4 << 20), got;
    size_t sent = 0;
    for (size_t want = 100000; sent < want;) {
        long n = pollux::sys_sendto(c.client, data.data() + sent, want - sent, 0, nullptr, 0);
        ASSERT_GT(n, 0);
        sent += static_cast<size_t>(n);
    }
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (queued(c.server) < 100000 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    ASSERT_EQ(queued(c.server), 100000);

    ASSERT_EQ(set_int(c.server, SO_RCVBUF, 4096), 0);  // a window of 4096
    // Move 1 MiB: more than the promised window and the debt together.
    move_until(c, data, &sent, got, 1u << 20, std::chrono::seconds(30));
    ASSERT_GE(got.size(), 1u << 20);
    fill_until_stalled(c.client, data, &sent, 300);
    int q = queued(c.server);
    EXPECT_GT(q, 0);
    EXPECT_LE(q, 4096);
    EXPECT_LT(sent, data.size());

    ASSERT_EQ(set_int(c.server, SO_RCVBUF, 100000), 0);  // a window of 100 000
    fill_until_stalled(c.client, data, &sent, 300);
    q = queued(c.server);
    EXPECT_GT(q, 4096);
    EXPECT_LE(q, 100000);
    drain_and_check(c, data, sent, got, std::chrono::seconds(30));
}

}  // namespace
