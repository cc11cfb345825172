// EventPoll against TestFiles: the ready list, LT/ET/ONESHOT, EXCLUSIVE, nesting, loop checks,
// close/dup lifetime and introspection, through the sys_* layer.
#include "eventpoll/event_poll.h"

#include <gtest/gtest.h>
#include <linux/errno.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "eventpoll/sys.h"
#include "test_file.h"

namespace pollux {
namespace {

using test::install_test_file;
using test::TestFile;
using abi::EpollEvent;

constexpr uint32_t IN = abi::kEPOLLIN;
constexpr uint32_t OUT = abi::kEPOLLOUT;

EpollEvent ev(uint32_t events, uint64_t data) { return EpollEvent{events, data}; }

class EventPollTest : public ::testing::Test {
protected:
    void SetUp() override {
        ep = static_cast<int>(sys_epoll_create1(0));
        ASSERT_GE(ep, 0);
    }
    void TearDown() override {
        for (int fd : fds) sys_close(fd);
        sys_close(ep);
    }
    int add_file(TestFile** f) {
        int fd = install_test_file(f);
        fds.push_back(fd);
        return fd;
    }
    int wait(EpollEvent* out, int max, int timeout_ms = 0) { return static_cast<int>(sys_epoll_wait(ep, out, max, timeout_ms)); }

    int ep = -1;
    std::vector<int> fds;
};

TEST_F(EventPollTest, LevelTriggeredReportsUntilIdle) {
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(IN, 7);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    EpollEvent out[4];
    EXPECT_EQ(wait(out, 4), 0);
    f->set(IN);
    ASSERT_EQ(wait(out, 4), 1);
    EXPECT_EQ(out[0].events, IN);
    EXPECT_EQ(uint64_t{out[0].data}, 7u);
    EXPECT_EQ(wait(out, 4), 1);  // still ready: level-triggered
    f->set(0, 0);
    EXPECT_EQ(wait(out, 4), 0);
}

TEST_F(EventPollTest, EdgeTriggeredReportsOncePerWakeup) {
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(IN | abi::kEPOLLET, 1);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    EpollEvent out[4];
    f->set(IN);
    EXPECT_EQ(wait(out, 4), 1);
    EXPECT_EQ(wait(out, 4), 0);
    f->set(IN);  // a new wake-up while still ready: a new edge
    EXPECT_EQ(wait(out, 4), 1);
}

TEST_F(EventPollTest, KeyedWakeupForOtherEventsIsIgnored) {
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(IN | abi::kEPOLLET, 1);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    EpollEvent out[4];
    f->set(IN | OUT, OUT);  // woken for OUT only: the item asked for IN
    EXPECT_EQ(wait(out, 4), 0);
}

TEST_F(EventPollTest, OneshotDisarmsUntilMod) {
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(IN | abi::kEPOLLONESHOT, 3);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    f->set(IN);
    EpollEvent out[4];
    EXPECT_EQ(wait(out, 4), 1);
    f->set(IN);
    EXPECT_EQ(wait(out, 4), 0);
    EpollEvent m = ev(IN | abi::kEPOLLONESHOT, 4);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_MOD, fd, &m), 0);
    ASSERT_EQ(wait(out, 4), 1);
    EXPECT_EQ(uint64_t{out[0].data}, 4u);
}

TEST_F(EventPollTest, ErrAndHupAlwaysReported) {
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(0, 9);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    f->set(IN);
    EpollEvent out[4];
    EXPECT_EQ(wait(out, 4), 0);
    f->set(IN | abi::kEPOLLHUP);
    ASSERT_EQ(wait(out, 4), 1);
    EXPECT_EQ(out[0].events, abi::kEPOLLHUP);
}

TEST_F(EventPollTest, CtlErrors) {
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(IN, 0);
    EXPECT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, nullptr), -EFAULT);
    EXPECT_EQ(sys_epoll_ctl(ep, 99, fd, nullptr), -EFAULT);  // only DEL skips the copy
    EXPECT_EQ(sys_epoll_ctl(ep, 99, fd, &e), -EINVAL);
    EXPECT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_MOD, fd, &e), -ENOENT);
    EXPECT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_DEL, fd, nullptr), -ENOENT);
    EXPECT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, ep, &e), -EINVAL);
    EXPECT_EQ(sys_epoll_ctl(fd, abi::kEPOLL_CTL_ADD, ep, &e), -EINVAL);
    EXPECT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, 1 << 19, &e), -EBADF);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    EXPECT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), -EEXIST);
    EpollEvent x = ev(IN | abi::kEPOLLEXCLUSIVE, 0);
    EXPECT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_MOD, fd, &x), -EINVAL);
    EpollEvent xo = ev(IN | abi::kEPOLLEXCLUSIVE | abi::kEPOLLONESHOT, 0);
    EXPECT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &xo), -EINVAL);
    EXPECT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_DEL, fd, nullptr), 0);
}

TEST_F(EventPollTest, WaitArgumentErrors) {
    EpollEvent out[1];
    EXPECT_EQ(wait(out, 0), -EINVAL);
    EXPECT_EQ(sys_epoll_wait(1 << 19, out, 1, 0), -EBADF);
    EXPECT_EQ(wait(nullptr, 1), 0);  // nothing to copy: no fault, as Linux
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(IN, 0);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    f->set(IN);
    EXPECT_EQ(wait(nullptr, 1), -EFAULT);
    EXPECT_EQ(wait(out, 1), 1);  // the failed copy left the item ready
}

TEST_F(EventPollTest, MaxeventsRotatesLevelTriggeredItems) {
    TestFile* f[3];
    for (int i = 0; i < 3; ++i) {
        int fd = add_file(&f[i]);
        EpollEvent e = ev(IN, static_cast<uint64_t>(i));
        ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    }
    for (int i = 0; i < 3; ++i) f[i]->set(IN);
    EpollEvent out[1];
    std::vector<uint64_t> order;
    for (int i = 0; i < 6; ++i) {
        ASSERT_EQ(wait(out, 1), 1);
        order.push_back(uint64_t{out[0].data});
    }
    EXPECT_EQ(order, (std::vector<uint64_t>{0, 1, 2, 0, 1, 2}));
}

TEST_F(EventPollTest, CloseRemovesItemDupKeepsIt) {
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(IN, 5);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    int dupfd = static_cast<int>(sys_dup(fd));
    ASSERT_GE(dupfd, 0);
    ASSERT_EQ(sys_close(fd), 0);
    fds.erase(fds.begin());
    f->set(IN);
    EpollEvent out[2];
    ASSERT_EQ(wait(out, 2), 1);  // the description lives on through the dup
    EXPECT_EQ(uint64_t{out[0].data}, 5u);
    EXPECT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_DEL, dupfd, nullptr), -ENOENT);  // keyed by the old fd
    ASSERT_EQ(sys_close(dupfd), 0);  // last reference: the item goes
    EXPECT_EQ(wait(out, 2), 0);
}

TEST_F(EventPollTest, NestedEpollReportsInnerReadiness) {
    int inner = static_cast<int>(sys_epoll_create1(0));
    fds.push_back(inner);
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(IN, 1);
    ASSERT_EQ(sys_epoll_ctl(inner, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    EpollEvent o = ev(IN, 2);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, inner, &o), 0);
    EpollEvent out[2];
    EXPECT_EQ(wait(out, 2), 0);
    f->set(IN);
    ASSERT_EQ(wait(out, 2), 1);
    EXPECT_EQ(out[0].events, IN);
    EXPECT_EQ(uint64_t{out[0].data}, 2u);
    // A cycle is refused.
    EXPECT_EQ(sys_epoll_ctl(inner, abi::kEPOLL_CTL_ADD, ep, &o), -ELOOP);
    // EPOLLEXCLUSIVE cannot watch an epoll.
    EpollEvent x = ev(IN | abi::kEPOLLEXCLUSIVE, 0);
    int other = static_cast<int>(sys_epoll_create1(0));
    fds.push_back(other);
    EXPECT_EQ(sys_epoll_ctl(other, abi::kEPOLL_CTL_ADD, inner, &x), -EINVAL);
}

TEST_F(EventPollTest, NestingDepthLimitBothDirections) {
    int chain[6];
    for (int& c : chain) {
        c = static_cast<int>(sys_epoll_create1(0));
        fds.push_back(c);
    }
    EpollEvent e = ev(IN, 0);
    for (int i = 0; i < 4; ++i) ASSERT_EQ(sys_epoll_ctl(chain[i], abi::kEPOLL_CTL_ADD, chain[i + 1], &e), 0) << i;
    EXPECT_EQ(sys_epoll_ctl(chain[4], abi::kEPOLL_CTL_ADD, chain[5], &e), -ELOOP);  // 5th link below
    int top = static_cast<int>(sys_epoll_create1(0));
    fds.push_back(top);
    EXPECT_EQ(sys_epoll_ctl(top, abi::kEPOLL_CTL_ADD, chain[0], &e), -ELOOP);  // 5th link above
}

TEST_F(EventPollTest, BlockedWaiterWokenByEvent) {
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(IN, 11);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    std::atomic<int> got{-1};
    std::thread t([&] {
        EpollEvent out[1];
        got = static_cast<int>(sys_epoll_wait(ep, out, 1, 5000));
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    f->set(IN);
    t.join();
    EXPECT_EQ(got.load(), 1);
}

TEST_F(EventPollTest, TimeoutExpires) {
    EpollEvent out[1];
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(wait(out, 1, 30), 0);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    EXPECT_GE(ms, 29);
}

TEST_F(EventPollTest, OneEventWakesOneWaiter) {
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(IN | abi::kEPOLLET, 0);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    std::atomic<int> woken{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 3; ++i) {
        threads.emplace_back([&] {
            EpollEvent out[1];
            if (sys_epoll_wait(ep, out, 1, 300) == 1) ++woken;
        });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    f->set(IN);
    for (auto& t : threads) t.join();
    EXPECT_EQ(woken.load(), 1);
}

TEST_F(EventPollTest, FdinfoListsItemsAndReadiness) {
    TestFile* f;
    int fd = add_file(&f);
    EpollEvent e = ev(IN, 0xabc);
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, fd, &e), 0);
    char buf[512];
    ASSERT_GT(pollux_epoll_fdinfo(ep, buf, sizeof buf), 0);
    std::string s(buf);
    EXPECT_NE(s.find("tfd: " + std::string(8 - std::to_string(fd).size(), ' ') + std::to_string(fd)), std::string::npos) << s;
    EXPECT_NE(s.find("events:       19"), std::string::npos) << s;  // IN|ERR|HUP
    EXPECT_NE(s.find("data:              abc"), std::string::npos) << s;
    EXPECT_NE(s.find("ready:0"), std::string::npos) << s;
    f->set(IN);
    ASSERT_GT(pollux_epoll_fdinfo(ep, buf, sizeof buf), 0);
    EXPECT_NE(std::string(buf).find("ready:1"), std::string::npos);
}

TEST_F(EventPollTest, BusyPollParamsValidatedAsLinux) {
    abi::EpollParams p{};
    ASSERT_EQ(sys_ioctl(ep, abi::kEPIOCGPARAMS, reinterpret_cast<unsigned long>(&p)), 0);
    EXPECT_EQ(p.busy_poll_usecs, 0u);
    p = {100, 16, 1, 0};
    ASSERT_EQ(sys_ioctl(ep, abi::kEPIOCSPARAMS, reinterpret_cast<unsigned long>(&p)), 0);
    abi::EpollParams q{};
    ASSERT_EQ(sys_ioctl(ep, abi::kEPIOCGPARAMS, reinterpret_cast<unsigned long>(&q)), 0);
    EXPECT_EQ(q.busy_poll_usecs, 100u);
    EXPECT_EQ(q.busy_poll_budget, 16);
    EXPECT_EQ(q.prefer_busy_poll, 1);
    p = {100, 16, 1, 1};
    EXPECT_EQ(sys_ioctl(ep, abi::kEPIOCSPARAMS, reinterpret_cast<unsigned long>(&p)), -EINVAL);
    p = {0x80000000u, 16, 0, 0};
    EXPECT_EQ(sys_ioctl(ep, abi::kEPIOCSPARAMS, reinterpret_cast<unsigned long>(&p)), -EINVAL);
    p = {1, 16, 2, 0};
    EXPECT_EQ(sys_ioctl(ep, abi::kEPIOCSPARAMS, reinterpret_cast<unsigned long>(&p)), -EINVAL);
    EXPECT_EQ(sys_ioctl(ep, abi::kEPIOCSPARAMS, 0), -EFAULT);
}

}  // namespace
}  // namespace pollux
