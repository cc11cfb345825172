// Unit tests for AF_UNIX SOCK_STREAM socketpairs (eventpoll/unix_stream.h): sys_socketpair's
// errno order, send-buffer accounting (truesize, SIOCOUTQ), poll masks after shutdown and
// close, ECONNRESET, MSG_PEEK/MSG_WAITALL, sendto/recvfrom address arguments, wake-up keys,
// and blocked senders/receivers woken from another thread. Expected values were measured on
// Linux 6.18 (net/unix/af_unix.c) with small C probes.
#include "wake_recorder.h"
#include "eventpoll/unix_stream.h"

#include <gtest/gtest.h>
#include <linux/errno.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "eventpoll/fd_table.h"
#include "eventpoll/sys.h"

namespace pollux {
namespace {

using namespace std::chrono_literals;

constexpr int kMSG_PEEK = 0x2;
constexpr int kMSG_OOB = 0x1;
constexpr int kMSG_WAITALL = 0x100;
constexpr unsigned long kSIOCOUTQ = 0x5411;
constexpr PollMask kIn = abi::kEPOLLIN | abi::kEPOLLRDNORM;
constexpr PollMask kOut = abi::kEPOLLOUT | abi::kEPOLLWRNORM | abi::kEPOLLWRBAND;
constexpr PollMask kRdHup = abi::kEPOLLRDHUP | kIn;

std::atomic<int> sigpipes{0};
void on_sigpipe(int) { sigpipes.fetch_add(1); }

FileRef file_of(int fd) { return FdTable::instance().get(fd); }
PollMask mask_of(int fd) { return file_of(fd)->poll(nullptr); }

long send_(int fd, const void* buf, size_t n, int flags = 0) { return sys_sendto(fd, buf, n, flags, nullptr, 0); }
long recv_(int fd, void* buf, size_t n, int flags = 0) { return sys_recvfrom(fd, buf, n, flags, nullptr, nullptr); }

long io_int(int fd, unsigned long cmd) {
    int n = -1;
    kstd::Result<long> r = file_of(fd)->ioctl(cmd, reinterpret_cast<uintptr_t>(&n));
    return r.ok() ? n : -r.error_code();
}

long file_write(int fd, const void* buf, size_t n) {
    FileRef file = file_of(fd);
    IoVec seg{const_cast<void*>(buf), n};
    IoIter it(&seg, 1);
    kstd::Result<size_t> r = file->write(it, file->nonblocking());
    return r.ok() ? static_cast<long>(r.value()) : -r.error_code();
}

long file_read(int fd, void* buf, size_t n) {
    FileRef file = file_of(fd);
    IoVec seg{buf, n};
    IoIter it(&seg, 1);
    kstd::Result<size_t> r = file->read(it, file->nonblocking());
    return r.ok() ? static_cast<long>(r.value()) : -r.error_code();
}

using test::WakeRecorder;

class UnixStreamTest : public ::testing::Test {
protected:
    void SetUp() override {
        struct sigaction sa {};
        sa.sa_handler = on_sigpipe;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, &old_);
        sigpipes = 0;
    }
    void TearDown() override {
        close_a();
        close_b();
        sigaction(SIGPIPE, &old_, nullptr);
    }
    void open(int type_flags = abi::kSOCK_NONBLOCK) {
        ASSERT_EQ(sys_socketpair(abi::kAF_UNIX, abi::kSOCK_STREAM | type_flags, 0, sv_), 0);
    }
    static void close_fd(int& fd) {
        if (fd >= 0) {
            EXPECT_TRUE(FdTable::instance().close(fd).ok());
        }
        fd = -1;
    }
    int a() const { return sv_[0]; }
    int b() const { return sv_[1]; }
    void close_a() { close_fd(sv_[0]); }
    void close_b() { close_fd(sv_[1]); }

    int sv_[2] = {-1, -1};
    struct sigaction old_ {};
    char buf_[300000] = {};
};

TEST_F(UnixStreamTest, SocketpairFlagsModeAndCloexec) {
    open(abi::kSOCK_NONBLOCK | abi::kSOCK_CLOEXEC);
    EXPECT_EQ(file_of(a())->flags(), abi::kO_RDWR | abi::kO_NONBLOCK);
    EXPECT_EQ(file_of(b())->mode(), FMODE_READ | FMODE_WRITE);
    EXPECT_EQ(file_of(b())->kind(), FileKind::unix_stream);
    EXPECT_TRUE(FdTable::instance().cloexec(a()).value());
    int sv[2];
    ASSERT_EQ(sys_socketpair(abi::kAF_UNIX, abi::kSOCK_STREAM, 1, sv), 0);  // protocol PF_UNIX is fine
    EXPECT_EQ(file_of(sv[0])->flags(), abi::kO_RDWR);
    EXPECT_FALSE(FdTable::instance().cloexec(sv[1]).value());
    EXPECT_TRUE(FdTable::instance().close(sv[0]).ok());
    EXPECT_TRUE(FdTable::instance().close(sv[1]).ok());
}

TEST_F(UnixStreamTest, SocketpairErrorsInLinuxOrder) {
    int sv[2];
    constexpr int kStream = abi::kSOCK_STREAM;
    EXPECT_EQ(sys_socketpair(abi::kAF_UNIX, kStream | abi::kO_APPEND, 0, nullptr), -EINVAL);
    EXPECT_EQ(sys_socketpair(99, kStream, 0, nullptr), -EFAULT);  // the vector before the family
    EXPECT_EQ(sys_socketpair(99, kStream, 0, sv), -EAFNOSUPPORT);
    EXPECT_EQ(sys_socketpair(-1, kStream, 0, sv), -EAFNOSUPPORT);
    EXPECT_EQ(sys_socketpair(2, kStream, 0, sv), -EOPNOTSUPP);   // AF_INET cannot pair
    EXPECT_EQ(sys_socketpair(10, 2, 0, sv), -EOPNOTSUPP);        // AF_INET6
    EXPECT_EQ(sys_socketpair(abi::kAF_UNIX, 11, 0, sv), -EINVAL);  // >= SOCK_MAX
    EXPECT_EQ(sys_socketpair(abi::kAF_UNIX, kStream, 2, sv), -EPROTONOSUPPORT);
    EXPECT_EQ(sys_socketpair(abi::kAF_UNIX, 4, 2, sv), -EPROTONOSUPPORT);  // protocol before type
    EXPECT_EQ(sys_socketpair(abi::kAF_UNIX, 4, 0, sv), -ESOCKTNOSUPPORT);  // SOCK_RDM
    EXPECT_EQ(sys_socketpair(abi::kAF_UNIX, 6, 0, sv), -ESOCKTNOSUPPORT);  // SOCK_DCCP
    // Linux stores both reserved numbers before it creates the sockets: a later failure
    // leaves two numbers that are not open.
    sv[0] = sv[1] = -1;
    EXPECT_EQ(sys_socketpair(abi::kAF_UNIX, kStream | abi::kO_APPEND, 0, sv), -EINVAL);
    EXPECT_EQ(sv[0], -1);
    EXPECT_EQ(sys_socketpair(abi::kAF_UNIX, kStream, 1234, sv), -EPROTONOSUPPORT);
    EXPECT_GE(sv[0], 0);
    EXPECT_GT(sv[1], sv[0]);
    EXPECT_FALSE(FdTable::instance().owns(sv[0]));
    EXPECT_FALSE(FdTable::instance().owns(sv[1]));
}

TEST_F(UnixStreamTest, FreshMaskAndDataMasks) {
    open();
    EXPECT_EQ(mask_of(a()), kOut);
    ASSERT_EQ(send_(a(), "abc", 3), 3);
    EXPECT_EQ(mask_of(b()), kIn | kOut);
    EXPECT_EQ(io_int(b(), abi::kFIONREAD), 3);
    EXPECT_EQ(io_int(a(), kSIOCOUTQ), 768);  // one skb's truesize
    char out[8];
    EXPECT_EQ(recv_(b(), out, sizeof(out)), 3);
    EXPECT_EQ(io_int(a(), kSIOCOUTQ), 0);
    EXPECT_EQ(mask_of(b()), kOut);
    EXPECT_EQ(file_of(a())->ioctl(abi::kFIONREAD, 0).error_code(), EFAULT);
}

TEST_F(UnixStreamTest, TruesizeMatchesLinux) {
    open();
    ASSERT_EQ(send_(a(), buf_, 1000), 1000);
    EXPECT_EQ(io_int(a(), kSIOCOUTQ), 2304);
    ASSERT_EQ(send_(a(), buf_, 4000), 4000);
    EXPECT_EQ(io_int(a(), kSIOCOUTQ), 2304 + 4864);
    ASSERT_EQ(send_(a(), buf_, 40000), 40000);  // two skbs: 36544 + 3456
    EXPECT_EQ(io_int(a(), kSIOCOUTQ), 2304 + 4864 + 41472);
    EXPECT_EQ(io_int(b(), abi::kFIONREAD), 45000);
}

TEST_F(UnixStreamTest, OneByteSendsFillTheSendBuffer) {
    open();
    int sent = 0;
    while (send_(a(), "x", 1) == 1) ++sent;
    EXPECT_EQ(sent, 278);
    EXPECT_EQ(send_(a(), "x", 1), -EAGAIN);
    EXPECT_EQ(io_int(a(), kSIOCOUTQ), 278 * 768);
    EXPECT_EQ(mask_of(a()), 0u);
}

TEST_F(UnixStreamTest, LargeSendsArePartialWhenNonblocking) {
    open();
    EXPECT_EQ(send_(a(), buf_, 200000), 200000);  // room is checked before each chunk
    EXPECT_EQ(send_(a(), buf_, 200000), 36544);
    EXPECT_EQ(send_(a(), buf_, 200000), -EAGAIN);
    EXPECT_EQ(recv_(b(), buf_, 50000), 50000);
    EXPECT_EQ(mask_of(a()), 0u);  // not yet down to a quarter of sndbuf
    EXPECT_EQ(recv_(b(), buf_, sizeof(buf_)), 186544);
    EXPECT_EQ(mask_of(a()), kOut);
}

TEST_F(UnixStreamTest, ShutdownWrite) {
    open();
    ASSERT_EQ(sys_shutdown(a(), abi::kSHUT_WR), 0);
    EXPECT_EQ(mask_of(a()), kOut);
    EXPECT_EQ(mask_of(b()), kRdHup | kOut);
    EXPECT_EQ(send_(a(), "x", 1, abi::kMSG_NOSIGNAL), -EPIPE);
    EXPECT_EQ(sigpipes.load(), 0);
    EXPECT_EQ(send_(a(), "x", 1), -EPIPE);
    EXPECT_EQ(sigpipes.load(), 1);
    EXPECT_EQ(file_write(a(), "x", 0), -EPIPE);  // write() always signals, even for 0 bytes
    EXPECT_EQ(sigpipes.load(), 2);
    char c;
    EXPECT_EQ(recv_(b(), &c, 1), 0);
    EXPECT_EQ(send_(b(), "y", 1), 1);  // the other direction still works
    EXPECT_EQ(mask_of(a()), kIn | kOut);
}

TEST_F(UnixStreamTest, ShutdownReadAndBoth) {
    open();
    ASSERT_EQ(sys_shutdown(a(), abi::kSHUT_RD), 0);
    EXPECT_EQ(mask_of(a()), kRdHup | kOut);
    EXPECT_EQ(mask_of(b()), kOut);
    EXPECT_EQ(send_(b(), "x", 1, abi::kMSG_NOSIGNAL), -EPIPE);  // mirrored SEND_SHUTDOWN
    EXPECT_EQ(send_(a(), "x", 1), 1);
    char c;
    EXPECT_EQ(recv_(a(), &c, 1), 0);
    ASSERT_EQ(sys_shutdown(a(), abi::kSHUT_RDWR), 0);
    EXPECT_EQ(mask_of(a()), abi::kEPOLLHUP | kRdHup | kOut);
    EXPECT_EQ(mask_of(b()), abi::kEPOLLHUP | kRdHup | kIn | kOut);
    EXPECT_EQ(recv_(b(), &c, 1), 1);
    EXPECT_EQ(recv_(b(), &c, 1), 0);
}

TEST_F(UnixStreamTest, ShutdownErrors) {
    open();
    EXPECT_EQ(sys_shutdown(a(), 3), -EINVAL);
    EXPECT_EQ(sys_shutdown(a(), -1), -EINVAL);
    EXPECT_EQ(sys_shutdown(-1, 7), -EBADF);
    int p[2];
    ASSERT_EQ(sys_pipe(p), 0);
    EXPECT_EQ(sys_shutdown(p[0], 7), -ENOTSOCK);
    EXPECT_EQ(send_(p[1], "x", 1), -ENOTSOCK);
    EXPECT_EQ(recv_(p[0], buf_, 1), -ENOTSOCK);
    EXPECT_TRUE(FdTable::instance().close(p[0]).ok());
    EXPECT_TRUE(FdTable::instance().close(p[1]).ok());
}

TEST_F(UnixStreamTest, PeerCloseWithoutUnreadData) {
    open();
    close_a();
    EXPECT_EQ(mask_of(b()), abi::kEPOLLHUP | kRdHup | kOut);
    char c;
    EXPECT_EQ(recv_(b(), &c, 1), 0);
    EXPECT_EQ(send_(b(), "x", 1, abi::kMSG_NOSIGNAL), -EPIPE);
}

TEST_F(UnixStreamTest, PeerCloseWithUnreadDataResetsOnce) {
    open();
    ASSERT_EQ(send_(b(), "unread", 6), 6);  // left in a's queue
    ASSERT_EQ(send_(a(), "data", 4), 4);
    close_a();
    EXPECT_EQ(mask_of(b()), abi::kEPOLLHUP | abi::kEPOLLERR | kRdHup | kOut);
    EXPECT_EQ(io_int(b(), kSIOCOUTQ), 0);  // a's queue was purged
    char out[10];
    EXPECT_EQ(recv_(b(), out, 2), 2);       // data first
    EXPECT_EQ(recv_(b(), out, 10), 2);
    EXPECT_EQ(recv_(b(), out, 10), -ECONNRESET);
    EXPECT_EQ(mask_of(b()), abi::kEPOLLHUP | kRdHup | kOut);
    EXPECT_EQ(recv_(b(), out, 10), 0);
}

TEST_F(UnixStreamTest, ZeroLengthAndNullBuffers) {
    open();
    char out[4];
    EXPECT_EQ(recv_(a(), out, 0), -EAGAIN);  // recv wants at least one byte
    EXPECT_EQ(file_read(a(), out, 0), 0);    // read() of 0 returns at once
    EXPECT_EQ(recv_(a(), nullptr, 10), -EAGAIN);
    EXPECT_EQ(send_(b(), nullptr, 0), 0);
    EXPECT_EQ(send_(b(), nullptr, 5), -EFAULT);
    ASSERT_EQ(send_(b(), "abc", 3), 3);
    EXPECT_EQ(recv_(a(), nullptr, 10), -EFAULT);
    EXPECT_EQ(recv_(a(), out, 0), 0);
    EXPECT_EQ(recv_(a(), out, 4), 3);  // the faulted reads consumed nothing
}

TEST_F(UnixStreamTest, PeekDoesNotConsumeAndSpansChunks) {
    open();
    char out[10] = {};
    ASSERT_EQ(send_(b(), "abc", 3), 3);
    EXPECT_EQ(recv_(a(), out, 2, kMSG_PEEK), 2);
    EXPECT_EQ(recv_(a(), out, 10, kMSG_PEEK), 3);
    ASSERT_EQ(send_(b(), "def", 3), 3);
    EXPECT_EQ(recv_(a(), out, 10, kMSG_PEEK), 6);
    EXPECT_EQ(std::memcmp(out, "abcdef", 6), 0);
    EXPECT_EQ(recv_(a(), out, 4), 4);
    EXPECT_EQ(recv_(a(), out, 10), 2);
    EXPECT_EQ(std::memcmp(out, "ef", 2), 0);
}

TEST_F(UnixStreamTest, SendtoRecvfromAddressArguments) {
    open();
    char sa[16] = {1};
    EXPECT_EQ(sys_sendto(a(), "x", 1, 0, sa, 16), -EISCONN);
    EXPECT_EQ(sys_sendto(a(), "x", 1, 0, sa, 200), -EINVAL);
    EXPECT_EQ(sys_sendto(a(), "x", 1, 0, sa, ~0u), -EINVAL);
    EXPECT_EQ(sys_sendto(a(), "x", 1, 0, sa, 0), 1);
    EXPECT_EQ(sys_sendto(a(), "y", 1, 0, nullptr, 5), 1);
    EXPECT_EQ(sys_sendto(a(), "zw", 2, 0, nullptr, 0), 2);
    char c;
    unsigned len = 50;
    EXPECT_EQ(sys_recvfrom(b(), &c, 1, 0, sa, &len), 1);
    EXPECT_EQ(len, 0u);  // a socketpair's peer is unnamed
    EXPECT_EQ(sys_recvfrom(b(), &c, 1, 0, sa, nullptr), -EFAULT);  // after taking the byte
    len = ~0u;
    EXPECT_EQ(sys_recvfrom(b(), &c, 1, 0, sa, &len), -EINVAL);
    EXPECT_EQ(recv_(b(), &c, 1), 1);
    EXPECT_EQ(c, 'w');
    EXPECT_EQ(send_(a(), "x", 1, kMSG_OOB), -EOPNOTSUPP);
    EXPECT_EQ(recv_(b(), &c, 1, kMSG_OOB), -EOPNOTSUPP);
    EXPECT_EQ(send_(a(), "x", 1, static_cast<int>(0x80000000u)), 1);  // unknown flags are ignored
}

TEST_F(UnixStreamTest, WakeUpKeys) {
    open();
    WakeRecorder at_a(file_of(a()));
    WakeRecorder at_b(file_of(b()));
    ASSERT_EQ(send_(a(), "abc", 3), 3);
    EXPECT_EQ(at_b.take(), std::vector<PollMask>{kIn | abi::kEPOLLPRI | abi::kEPOLLRDBAND});
    EXPECT_TRUE(at_a.take().empty());
    char out[4];
    ASSERT_EQ(recv_(b(), out, 2), 2);  // the skb is not used up: nothing freed
    EXPECT_TRUE(at_a.take().empty());
    ASSERT_EQ(recv_(b(), out, 4), 1);
    EXPECT_EQ(at_a.take(), std::vector<PollMask>{kOut});  // unix_write_space
    ASSERT_EQ(sys_shutdown(a(), abi::kSHUT_WR), 0);
    EXPECT_EQ(at_a.take(), std::vector<PollMask>{0});  // sock_def_wakeup: a null key
    EXPECT_EQ(at_b.take(), std::vector<PollMask>{0});
}

TEST_F(UnixStreamTest, CloseWakesPeerWithNullKeyThenWriteSpace) {
    open();
    WakeRecorder at_b(file_of(b()));
    ASSERT_EQ(send_(b(), "abc", 3), 3);  // charged to b, queued at a
    close_a();
    EXPECT_EQ(at_b.take(), (std::vector<PollMask>{0, kOut}));
}

TEST_F(UnixStreamTest, BlockedReceiverWokenBySend) {
    open(0);
    auto reader = std::async(std::launch::async, [this] {
        char out[8] = {};
        long n = recv_(b(), out, sizeof(out));
        return n == 2 && std::memcmp(out, "hi", 2) == 0;
    });
    EXPECT_EQ(reader.wait_for(50ms), std::future_status::timeout);
    ASSERT_EQ(send_(a(), "hi", 2), 2);
    ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(reader.get());
}

TEST_F(UnixStreamTest, WaitallCollectsSeveralSends) {
    open(0);
    auto reader = std::async(std::launch::async, [this] { return recv_(b(), buf_, 10, kMSG_WAITALL); });
    ASSERT_EQ(send_(a(), "0123", 4), 4);
    EXPECT_EQ(reader.wait_for(50ms), std::future_status::timeout);
    ASSERT_EQ(send_(a(), "456789", 6), 6);
    ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(reader.get(), 10);
    EXPECT_EQ(std::memcmp(buf_, "0123456789", 10), 0);
}

TEST_F(UnixStreamTest, BlockedReceiverSeesEofOnPeerClose) {
    open(0);
    auto reader = std::async(std::launch::async, [this] {
        char c;
        return recv_(b(), &c, 1);
    });
    EXPECT_EQ(reader.wait_for(50ms), std::future_status::timeout);
    close_a();
    ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(reader.get(), 0);
}

TEST_F(UnixStreamTest, BlockedSenderWokenByReceiver) {
    open(0);
    std::vector<char> data(300000);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 13);
    auto writer = std::async(std::launch::async, [&] { return send_(a(), data.data(), data.size()); });
    std::vector<char> got;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (got.size() < data.size() && std::chrono::steady_clock::now() < deadline) {
        long n = recv_(b(), buf_, 7000, abi::kMSG_DONTWAIT);
        if (n > 0) got.insert(got.end(), buf_, buf_ + n);
        if (n == -EAGAIN) std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(writer.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(writer.get(), 300000);
    ASSERT_EQ(got.size(), data.size());
    EXPECT_EQ(got, data);
}

// A sender blocked for room learns of the peer's going from sock_alloc_send_pskb(), which
// reports sk_err first and raises no SIGPIPE (measured on Linux).
TEST_F(UnixStreamTest, BlockedSenderGetsResetWhenPeerClosesWithUnreadData) {
    open();
    while (send_(a(), buf_, sizeof(buf_)) > 0) {
    }
    FileRef fa = file_of(a());
    fa->set_flags(fa->flags() & ~abi::kO_NONBLOCK);
    auto writer = std::async(std::launch::async, [this] { return send_(a(), buf_, 100); });
    EXPECT_EQ(writer.wait_for(50ms), std::future_status::timeout);
    close_b();
    ASSERT_EQ(writer.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(writer.get(), -ECONNRESET);
    EXPECT_EQ(sigpipes.load(), 0);
    EXPECT_EQ(recv_(a(), buf_, 10), 0);  // the error was taken by the send
}

TEST_F(UnixStreamTest, BlockedSenderGetsEpipeWhenPeerShutsDownReading) {
    open();
    while (send_(a(), buf_, sizeof(buf_)) > 0) {
    }
    FileRef fa = file_of(a());
    fa->set_flags(fa->flags() & ~abi::kO_NONBLOCK);
    auto writer = std::async(std::launch::async, [this] { return send_(a(), buf_, 100); });
    EXPECT_EQ(writer.wait_for(50ms), std::future_status::timeout);
    ASSERT_EQ(sys_shutdown(b(), abi::kSHUT_RD), 0);
    ASSERT_EQ(writer.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(writer.get(), -EPIPE);
    EXPECT_EQ(sigpipes.load(), 0);
}

}  // namespace
}  // namespace pollux
