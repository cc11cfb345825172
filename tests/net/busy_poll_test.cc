// epoll busy polling: an eventpoll with busy_poll_usecs (EPIOCSPARAMS) spins the NAPI context its
// socket's traffic arrives on before sleeping, and the counters say it did.
#include <gtest/gtest.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>

#include <chrono>
#include <thread>

#include "eventpoll/busy_poll.h"
#include "eventpoll/sys.h"
#include "netstack/stack.h"
#include "two_hosts.h"

namespace {

// A connected pair across the wire whose client end has learnt its NAPI id from a first
// exchange; the server end sends without Nagle (one-way small writes would otherwise wait for
// delayed ACKs).
class BusyPoll : public ::testing::Test {
protected:
    void SetUp() override {
        nettest::setup_hosts();
        sockaddr_in srv = nettest::addr4(0, 1, 0);
        uint16_t port = 0;
        l = nettest::tcp_listener(reinterpret_cast<sockaddr*>(&srv), sizeof(srv), 4, &port);
        srv.sin_port = htons(port);
        c = nettest::tcp_connect(reinterpret_cast<sockaddr*>(&srv), sizeof(srv));
        s = static_cast<int>(pollux::sys_accept4(l, nullptr, nullptr, 0));
        ASSERT_GE(s, 0);
        int one = 1;
        ASSERT_EQ(pollux::sys_setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
        ASSERT_EQ(pollux::sys_write(s, &b, 1), 1);
        ASSERT_EQ(pollux::sys_read(c, &b, 1), 1);
    }
    void TearDown() override {
        EXPECT_EQ(pollux::sys_close(c), 0);
        EXPECT_EQ(pollux::sys_close(s), 0);
        EXPECT_EQ(pollux::sys_close(l), 0);
    }
    int l = -1, c = -1, s = -1;
    char b = 'x';
};

TEST_F(BusyPoll, EpollWaitSpinsTheSocketsNapiContext) {
    int napi_id = 0;
    unsigned len = sizeof(napi_id);
    ASSERT_EQ(pollux::sys_getsockopt(c, SOL_SOCKET, SO_INCOMING_NAPI_ID, &napi_id, &len), 0);
    EXPECT_GT(napi_id, 0);

    int ep = static_cast<int>(pollux::sys_epoll_create1(0));
    pollux::abi::EpollParams params{2000, 16, 0, 0};
    ASSERT_EQ(pollux::sys_ioctl(ep, pollux::abi::kEPIOCSPARAMS, reinterpret_cast<unsigned long>(&params)), 0);
    pollux::abi::EpollEvent ev{EPOLLIN, 0};
    ASSERT_EQ(pollux::sys_epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev), 0);

    pollux::BusyPollCounters before = pollux::busy_poll_counters();
    uint64_t stack_before = pollux::net::stack_counters().busy_poll_rounds;
    for (int i = 0; i < 20; ++i) {
        std::thread server([&] { EXPECT_EQ(pollux::sys_write(s, &b, 1), 1); });
        pollux::abi::EpollEvent out;
        ASSERT_EQ(pollux::sys_epoll_wait(ep, &out, 1, 2000), 1);
        ASSERT_EQ(pollux::sys_read(c, &b, 1), 1);
        server.join();
    }
    pollux::BusyPollCounters after = pollux::busy_poll_counters();
    EXPECT_GT(after.loops, before.loops);
    EXPECT_GT(after.rounds, before.rounds);
    EXPECT_GT(pollux::net::stack_counters().busy_poll_rounds, stack_before);
    EXPECT_EQ(pollux::sys_close(ep), 0);
}

// SO_BUSY_POLL (sk_busy_loop): a blocking read on the socket spins its NAPI context before it
// sleeps; without the option it does not.
TEST_F(BusyPoll, SoBusyPollSpinsABlockingRead) {
    auto rounds_for_reads = [&](int usecs) {
        EXPECT_EQ(pollux::sys_setsockopt(c, SOL_SOCKET, SO_BUSY_POLL, &usecs, sizeof(usecs)), 0);
        uint64_t before = pollux::net::stack_counters().busy_poll_rounds;
        for (int i = 0; i < 10; ++i) {
            std::thread server([&] {
                std::this_thread::sleep_for(std::chrono::microseconds(300));
                EXPECT_EQ(pollux::sys_write(s, &b, 1), 1);
            });
            EXPECT_EQ(pollux::sys_read(c, &b, 1), 1);
            server.join();
        }
        return pollux::net::stack_counters().busy_poll_rounds - before;
    };
    EXPECT_GT(rounds_for_reads(5000), 0u);
    EXPECT_EQ(rounds_for_reads(0), 0u);
}

}  // namespace
