// Unit tests for AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET socketpairs (eventpoll/unix_dgram.cc)
// in Pollux's own fd table and eventpoll, which the hosted conformance run reaches only
// through the shim: epoll readiness and wake-ups, a blocked reader and a blocked writer woken
// from another thread, record boundaries through recvmsg's flags, the send-buffer accounting
// (SIOCOUTQ), and what a close does to each type. Expected values were measured on Linux 6.18.
#include <gtest/gtest.h>
#include <linux/errno.h>

#include <chrono>
#include <cstring>
#include <future>
#include <vector>

#include "eventpoll/fd_table.h"
#include "eventpoll/sys.h"
#include "eventpoll/unix_stream.h"

namespace pollux {
namespace {

using namespace std::chrono_literals;

constexpr unsigned long kSIOCOUTQ = 0x5411;
constexpr PollMask kIn = abi::kEPOLLIN | abi::kEPOLLRDNORM;
constexpr PollMask kOut = abi::kEPOLLOUT | abi::kEPOLLWRNORM | abi::kEPOLLWRBAND;

PollMask mask_of(int fd) { return FdTable::instance().get(fd)->poll(nullptr); }

long ioctl_int(int fd, unsigned long cmd) {
    int n = -1;
    kstd::Result<long> r = FdTable::instance().get(fd)->ioctl(cmd, reinterpret_cast<uintptr_t>(&n));
    return r.ok() ? n : -r.error_code();
}

long send_(int fd, const void* buf, size_t n, int flags = 0) { return sys_sendto(fd, buf, n, flags, nullptr, 0); }
long recv_(int fd, void* buf, size_t n, int flags = 0) { return sys_recvfrom(fd, buf, n, flags, nullptr, nullptr); }

class UnixDgramTest : public ::testing::TestWithParam<int> {
protected:
    void SetUp() override { ASSERT_EQ(sys_socketpair(abi::kAF_UNIX, GetParam() | abi::kSOCK_NONBLOCK, 0, sv_), 0); }
    void TearDown() override {
        for (int fd : {sv_[0], sv_[1], ep_}) {
            if (fd >= 0) {
                EXPECT_EQ(sys_close(fd), 0);
            }
        }
    }
    bool seqpacket() const { return GetParam() == abi::kSOCK_SEQPACKET; }
    int a() const { return sv_[0]; }
    int b() const { return sv_[1]; }
    void close_a() {
        EXPECT_EQ(sys_close(sv_[0]), 0);
        sv_[0] = -1;
    }
    int epoll_on(int fd, uint32_t events) {
        ep_ = static_cast<int>(sys_epoll_create1(0));
        EXPECT_GE(ep_, 0);
        abi::EpollEvent e{};
        e.events = events;
        e.data = static_cast<uint64_t>(fd);
        EXPECT_EQ(sys_epoll_ctl(ep_, abi::kEPOLL_CTL_ADD, fd, &e), 0);
        return ep_;
    }

    int sv_[2] = {-1, -1};
    int ep_ = -1;
};

TEST_P(UnixDgramTest, IsOneOfOurSockets) {
    EXPECT_EQ(FdTable::instance().get(a())->kind(), FileKind::unix_stream);
    EXPECT_EQ(mask_of(a()), kOut);
    int type = 0;
    unsigned len = sizeof type;
    EXPECT_EQ(sys_getsockopt(a(), abi::kSOL_SOCKET, abi::kSO_TYPE, &type, &len), 0);
    EXPECT_EQ(type, GetParam());
}

TEST_P(UnixDgramTest, RecvmsgFlagsAndTruncation) {
    ASSERT_EQ(send_(a(), "datagram", 8), 8);
    char buf[16] = {};
    IoVec seg{buf, 4};
    abi::MsgHdr m{};
    m.msg_iov = &seg;
    m.msg_iovlen = 1;
    EXPECT_EQ(sys_recvmsg(b(), &m, abi::kMSG_TRUNC), 8);  // the datagram's whole length
    EXPECT_EQ(m.msg_flags, abi::kMSG_TRUNC);
    EXPECT_EQ(std::memcmp(buf, "data", 4), 0);
    EXPECT_EQ(recv_(b(), buf, sizeof buf), -EAGAIN);  // the rest went with it
}

// Each datagram is charged its truesize (768 bytes for up to 64, as a stream chunk) until read.
TEST_P(UnixDgramTest, SenderChargedUntilRead) {
    EXPECT_EQ(ioctl_int(a(), kSIOCOUTQ), 0);
    ASSERT_EQ(send_(a(), "x", 1), 1);
    ASSERT_EQ(send_(a(), "y", 1), 1);
    EXPECT_EQ(ioctl_int(a(), kSIOCOUTQ), 2 * 768);
    EXPECT_EQ(ioctl_int(b(), abi::kFIONREAD), seqpacket() ? 2 : 1);
    char c;
    ASSERT_EQ(recv_(b(), &c, 1), 1);
    EXPECT_EQ(ioctl_int(a(), kSIOCOUTQ), 768);
}

TEST_P(UnixDgramTest, EpollWokenByDatagramOnce) {
    int ep = epoll_on(b(), abi::kEPOLLIN | abi::kEPOLLET);
    abi::EpollEvent out[2] = {};
    EXPECT_EQ(sys_epoll_wait(ep, out, 2, 0), 0);
    auto woken = std::async(std::launch::async, [&] { return sys_epoll_wait(ep, out, 2, 2000); });
    EXPECT_EQ(woken.wait_for(30ms), std::future_status::timeout);
    ASSERT_EQ(send_(a(), "ping", 4), 4);
    ASSERT_EQ(woken.wait_for(2s), std::future_status::ready);
    ASSERT_EQ(woken.get(), 1);
    EXPECT_EQ(out[0].events, abi::kEPOLLIN);
    EXPECT_EQ(sys_epoll_wait(ep, out, 2, 0), 0);  // edge-triggered: once per datagram
    ASSERT_EQ(send_(a(), "pong", 4), 4);
    EXPECT_EQ(sys_epoll_wait(ep, out, 2, 0), 1);
}

// A blocking writer whose send buffer is full sleeps until the reader frees room.
TEST_P(UnixDgramTest, BlockedWriterWokenByReader) {
    int v = 4096;  // 8192 doubled: one 8000-byte datagram fills it
    ASSERT_EQ(sys_setsockopt(a(), abi::kSOL_SOCKET, abi::kSO_SNDBUF, &v, sizeof v), 0);
    std::vector<char> big(8000, 'w');
    ASSERT_EQ(send_(a(), big.data(), big.size()), 8000);
    EXPECT_EQ(send_(a(), big.data(), big.size()), -EAGAIN);
    EXPECT_EQ(mask_of(a()) & kOut, 0u);
    ASSERT_EQ(sys_fcntl(a(), abi::kF_SETFL, abi::kO_RDWR), 0);  // blocking from here
    auto blocked = std::async(std::launch::async, [&] { return send_(a(), big.data(), 10, 0); });
    EXPECT_EQ(blocked.wait_for(30ms), std::future_status::timeout);
    std::vector<char> in(9000);
    ASSERT_EQ(recv_(b(), in.data(), in.size()), 8000);
    ASSERT_EQ(blocked.wait_for(2s), std::future_status::ready);
    EXPECT_EQ(blocked.get(), 10);
}

TEST_P(UnixDgramTest, CloseOfThePeer) {
    ASSERT_EQ(send_(b(), "queued", 6), 6);
    ASSERT_EQ(send_(a(), "unread", 6), 6);
    close_a();
    char buf[8];
    if (seqpacket()) {
        // As a stream: shut both ways and reset (a left data unread); but the reset comes
        // before b's queued datagram (__skb_try_recv_datagram()), then EOF.
        EXPECT_EQ(mask_of(b()), kIn | kOut | abi::kEPOLLRDHUP | abi::kEPOLLHUP | abi::kEPOLLERR);
        EXPECT_EQ(recv_(b(), buf, sizeof buf), -ECONNRESET);
        EXPECT_EQ(recv_(b(), buf, sizeof buf), 6);
        EXPECT_EQ(recv_(b(), buf, sizeof buf), 0);
        EXPECT_EQ(send_(b(), "x", 1), -EPIPE);
    } else {
        // Nothing until b's next send, which is refused and drops b's queue.
        EXPECT_EQ(mask_of(b()), kIn | kOut);
        EXPECT_EQ(send_(b(), "x", 1), -ECONNREFUSED);
        EXPECT_EQ(send_(b(), "x", 1), -ENOTCONN);
        EXPECT_EQ(recv_(b(), buf, sizeof buf), -EAGAIN);
        EXPECT_EQ(mask_of(b()), kOut);
    }
}

INSTANTIATE_TEST_SUITE_P(Types, UnixDgramTest, ::testing::Values(abi::kSOCK_DGRAM, abi::kSOCK_SEQPACKET),
                         [](const ::testing::TestParamInfo<int>& info) {
                             return info.param == abi::kSOCK_DGRAM ? std::string("Dgram") : std::string("Seqpacket");
                         });

}  // namespace
}  // namespace pollux
