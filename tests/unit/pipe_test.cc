// Unit tests for pipes (eventpoll/pipe.h): sys_pipe2/sys_pipe, the ring's exact capacity and
// merging, PIPE_BUF atomicity, packet mode, EOF/EPIPE/SIGPIPE, poll masks, the keys of every
// wake-up, and blocked readers/writers woken from another thread. Expected values were
// measured on Linux 6.18 (fs/pipe.c) with small C probes.
#include "wake_recorder.h"
#include "eventpoll/pipe.h"

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

constexpr PollMask kIn = abi::kEPOLLIN | abi::kEPOLLRDNORM;
constexpr PollMask kOut = abi::kEPOLLOUT | abi::kEPOLLWRNORM;
constexpr PollMask kReleaseKey =
    abi::kEPOLLIN | abi::kEPOLLOUT | abi::kEPOLLRDNORM | abi::kEPOLLWRNORM | abi::kEPOLLERR | abi::kEPOLLHUP;

std::atomic<int> sigpipes{0};
void on_sigpipe(int) { sigpipes.fetch_add(1); }

FileRef file_of(int fd) { return FdTable::instance().get(fd); }

long result(const kstd::Result<size_t>& r) { return r.ok() ? static_cast<long>(r.value()) : -r.error_code(); }

long do_read(int fd, void* buf, size_t n) {
    FileRef file = file_of(fd);
    IoVec seg{buf, n};
    IoIter it(&seg, 1);
    return result(file->read(it, file->nonblocking()));
}

long do_write(int fd, const void* buf, size_t n) {
    FileRef file = file_of(fd);
    IoVec seg{const_cast<void*>(buf), n};
    IoIter it(&seg, 1);
    return result(file->write(it, file->nonblocking()));
}

PollMask mask_of(int fd) { return file_of(fd)->poll(nullptr); }

int fionread(int fd) {
    int n = -1;
    kstd::Result<long> r = file_of(fd)->ioctl(abi::kFIONREAD, reinterpret_cast<uintptr_t>(&n));
    return r.ok() ? n : -r.error_code();
}

void set_nonblock(int fd, bool on) {
    FileRef file = file_of(fd);
    file->set_flags(on ? file->flags() | abi::kO_NONBLOCK : file->flags() & ~abi::kO_NONBLOCK);
}

using test::WakeRecorder;

class PipeTest : public ::testing::Test {
protected:
    void SetUp() override {
        struct sigaction sa {};
        sa.sa_handler = on_sigpipe;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, &old_);
        sigpipes = 0;
    }
    void TearDown() override {
        close_fd(fds_[0]);
        close_fd(fds_[1]);
        sigaction(SIGPIPE, &old_, nullptr);
    }
    void open(int flags = 0) { ASSERT_EQ(sys_pipe2(fds_, flags), 0); }
    static void close_fd(int& fd) {
        if (fd >= 0) {
            EXPECT_TRUE(FdTable::instance().close(fd).ok());
        }
        fd = -1;
    }
    int rd() const { return fds_[0]; }
    int wr() const { return fds_[1]; }
    void close_reader() { close_fd(fds_[0]); }
    void close_writer() { close_fd(fds_[1]); }

    int fds_[2] = {-1, -1};
    struct sigaction old_ {};
    char buf_[200000] = {};
};

TEST_F(PipeTest, Pipe2FlagsModesAndCloexec) {
    open(abi::kO_NONBLOCK | abi::kO_DIRECT | abi::kO_CLOEXEC);
    EXPECT_LT(rd(), wr());
    EXPECT_EQ(file_of(rd())->flags(), abi::kO_RDONLY | abi::kO_NONBLOCK);  // no O_DIRECT here
    EXPECT_EQ(file_of(wr())->flags(), abi::kO_WRONLY | abi::kO_NONBLOCK | abi::kO_DIRECT);
    EXPECT_EQ(file_of(rd())->mode(), FMODE_READ);
    EXPECT_EQ(file_of(wr())->mode(), FMODE_WRITE);
    EXPECT_EQ(file_of(rd())->kind(), FileKind::pipe);
    EXPECT_TRUE(FdTable::instance().cloexec(rd()).value());
    EXPECT_TRUE(FdTable::instance().cloexec(wr()).value());
}

TEST_F(PipeTest, Pipe2RejectsBadArguments) {
    int fds[2];
    EXPECT_EQ(sys_pipe2(fds, abi::kO_APPEND), -EINVAL);
    EXPECT_EQ(sys_pipe2(nullptr, abi::kO_APPEND), -EINVAL);  // flags before the pointer
    EXPECT_EQ(sys_pipe2(fds, 0200), -ENOPKG);                // O_NOTIFICATION_PIPE, no watch queues
    EXPECT_EQ(sys_pipe2(nullptr, 0), -EFAULT);
    ASSERT_EQ(sys_pipe(fds_), 0);
    EXPECT_FALSE(FdTable::instance().cloexec(rd()).value());
    EXPECT_FALSE(file_of(rd())->nonblocking());
}

TEST_F(PipeTest, FreshMasks) {
    open();
    EXPECT_EQ(mask_of(rd()), 0u);
    EXPECT_EQ(mask_of(wr()), kOut);
}

TEST_F(PipeTest, CapacityIs65536WithOneByteWrites) {
    open(abi::kO_NONBLOCK);
    int written = 0;
    char c = 'x';
    while (do_write(wr(), &c, 1) == 1) ++written;
    EXPECT_EQ(written, 65536);
    EXPECT_EQ(do_write(wr(), &c, 1), -EAGAIN);
    EXPECT_EQ(fionread(rd()), 65536);
    EXPECT_EQ(mask_of(rd()), kIn);
    EXPECT_EQ(mask_of(wr()), 0u);
}

TEST_F(PipeTest, WritesFillWholePagesAfterMerging) {
    open(abi::kO_NONBLOCK);
    EXPECT_EQ(do_write(wr(), buf_, 1), 1);
    EXPECT_EQ(do_write(wr(), buf_, 65536), 61440);  // no tail part: 15 fresh pages
    close_reader();
    close_writer();
    open(abi::kO_NONBLOCK);
    EXPECT_EQ(do_write(wr(), buf_, 4097), 4097);    // a full page and a 1-byte page
    EXPECT_EQ(do_write(wr(), buf_, 65536), 57344);  // the 1-byte page is no longer last
    EXPECT_EQ(do_write(wr(), buf_, 4095), -EAGAIN);
    EXPECT_EQ(fionread(rd()), 4097 + 57344);
}

TEST_F(PipeTest, WritesUpToPipeBufAreAtomic) {
    open(abi::kO_NONBLOCK);
    ASSERT_EQ(do_write(wr(), buf_, 15 * 4096 + 100), 15 * 4096 + 100);  // 3996 bytes left in the last page
    EXPECT_EQ(do_write(wr(), buf_, abi::kPIPE_BUF), -EAGAIN);  // all or nothing
    EXPECT_EQ(do_write(wr(), buf_, 3997), -EAGAIN);            // does not fit the last page
    EXPECT_EQ(do_write(wr(), buf_, 4097), 1);                  // > PIPE_BUF: its tail part merges
    EXPECT_EQ(do_write(wr(), buf_, 3995), 3995);
    EXPECT_EQ(do_write(wr(), buf_, 1), -EAGAIN);
}

TEST_F(PipeTest, NonblockingWriteReturnsPartialCount) {
    open(abi::kO_NONBLOCK);
    EXPECT_EQ(do_write(wr(), buf_, 100000), 65536);
    EXPECT_EQ(do_write(wr(), buf_, 100000), -EAGAIN);
    EXPECT_EQ(do_read(rd(), buf_, 4096), 4096);  // frees exactly one slot
    EXPECT_EQ(mask_of(wr()), kOut);
    EXPECT_EQ(do_write(wr(), buf_, 100000), 4096);
}

TEST_F(PipeTest, ReadsDrainInOrderThenEof) {
    open(abi::kO_NONBLOCK);
    char out[16] = {};
    EXPECT_EQ(do_read(rd(), out, sizeof(out)), -EAGAIN);
    EXPECT_EQ(do_read(rd(), out, 0), 0);
    EXPECT_EQ(do_write(wr(), "hello", 5), 5);
    EXPECT_EQ(do_write(wr(), " world", 6), 6);
    EXPECT_EQ(do_read(rd(), out, 3), 3);
    EXPECT_EQ(std::memcmp(out, "hel", 3), 0);
    close_writer();
    EXPECT_EQ(mask_of(rd()), kIn | abi::kEPOLLHUP);
    EXPECT_EQ(do_read(rd(), out, sizeof(out)), 8);
    EXPECT_EQ(std::memcmp(out, "lo world", 8), 0);
    EXPECT_EQ(mask_of(rd()), abi::kEPOLLHUP);
    EXPECT_EQ(do_read(rd(), out, sizeof(out)), 0);  // EOF, not EAGAIN
}

TEST_F(PipeTest, NullBuffersFaultOnlyWhenThereIsSomethingToCopy) {
    open(abi::kO_NONBLOCK);
    EXPECT_EQ(do_read(rd(), nullptr, 5), -EAGAIN);
    EXPECT_EQ(do_write(wr(), nullptr, 0), 0);
    EXPECT_EQ(do_write(wr(), nullptr, 5), -EFAULT);
    EXPECT_EQ(mask_of(rd()), 0u);
    ASSERT_EQ(do_write(wr(), "abc", 3), 3);
    EXPECT_EQ(do_write(wr(), nullptr, 5), -EFAULT);  // the merge copy faults
    EXPECT_EQ(do_read(rd(), nullptr, 5), -EFAULT);
    EXPECT_EQ(fionread(rd()), 3);
}

TEST_F(PipeTest, FaultingWriteTakesNoSlot) {
    open(abi::kO_NONBLOCK);
    IoVec segs[2] = {{buf_, 4096}, {nullptr, 10}};
    IoIter it(segs, 2);
    EXPECT_EQ(result(file_of(wr())->write(it, true)), 4096);  // what was copied before the fault
    EXPECT_EQ(do_write(wr(), buf_, 65536), 61440);            // 15 slots were still free
    IoVec segs2[2] = {{buf_, 4000}, {nullptr, 10}};
    IoIter it2(segs2, 2);
    EXPECT_EQ(result(file_of(wr())->write(it2, true)), -EAGAIN);
    EXPECT_EQ(fionread(rd()), 65536);
}

TEST_F(PipeTest, EpipeAndSigpipeWithoutReaders) {
    open(abi::kO_NONBLOCK);
    close_reader();
    EXPECT_EQ(mask_of(wr()), kOut | abi::kEPOLLERR);
    EXPECT_EQ(do_write(wr(), "a", 0), 0);  // a null write succeeds, no signal
    EXPECT_EQ(sigpipes.load(), 0);
    EXPECT_EQ(do_write(wr(), "a", 1), -EPIPE);
    EXPECT_EQ(sigpipes.load(), 1);
}

TEST_F(PipeTest, FionreadAndOtherIoctls) {
    open(abi::kO_NONBLOCK);
    EXPECT_EQ(fionread(rd()), 0);
    ASSERT_EQ(do_write(wr(), buf_, 5000), 5000);
    EXPECT_EQ(fionread(rd()), 5000);
    EXPECT_EQ(fionread(wr()), 5000);  // either end may ask
    EXPECT_EQ(file_of(rd())->ioctl(abi::kFIONREAD, 0).error_code(), EFAULT);
    EXPECT_EQ(file_of(rd())->ioctl(0x5401, 0).error_code(), ENOTTY);  // TCGETS
}

TEST_F(PipeTest, PacketModeKeepsWriteBoundaries) {
    open(abi::kO_NONBLOCK | abi::kO_DIRECT);
    char out[10000];
    ASSERT_EQ(do_write(wr(), "12345", 5), 5);
    ASSERT_EQ(do_write(wr(), "abcdef", 6), 6);  // never merged into the 5-byte packet
    ASSERT_EQ(do_write(wr(), buf_, 5000), 5000);  // one packet per page: 4096 + 904
    EXPECT_EQ(do_read(rd(), out, 100), 5);
    EXPECT_EQ(do_read(rd(), out, 2), 2);  // the rest of "abcdef" is dropped
    EXPECT_EQ(std::memcmp(out, "ab", 2), 0);
    EXPECT_EQ(do_read(rd(), out, sizeof(out)), 4096);
    EXPECT_EQ(do_read(rd(), out, sizeof(out)), 904);
    EXPECT_EQ(do_read(rd(), out, sizeof(out)), -EAGAIN);
}

TEST_F(PipeTest, WriteWakesReadersOnEveryWriteOncePolled) {
    open(abi::kO_NONBLOCK);
    WakeRecorder rec(file_of(rd()));
    ASSERT_EQ(rec.hooks(), 1);  // the read end waits on rd_wait only
    ASSERT_EQ(do_write(wr(), "a", 1), 1);
    ASSERT_EQ(do_write(wr(), "b", 1), 1);  // not empty, but poll_usage is set
    EXPECT_EQ(rec.keys(), (std::vector<PollMask>{kIn, kIn}));
}

TEST_F(PipeTest, ReadWakesWritersOnlyWhenItFreesASlotOfAFullPipe) {
    open(abi::kO_NONBLOCK);
    WakeRecorder rec(file_of(wr()));
    ASSERT_EQ(do_write(wr(), buf_, 100), 100);
    ASSERT_EQ(do_read(rd(), buf_, 50), 50);
    ASSERT_EQ(do_read(rd(), buf_, 50), 50);  // empties a non-full pipe: no wake-up
    EXPECT_TRUE(rec.keys().empty());
    ASSERT_EQ(do_write(wr(), buf_, 65536), 65536);
    ASSERT_EQ(do_read(rd(), buf_, 100), 100);  // still full: the page is not empty
    EXPECT_TRUE(rec.keys().empty());
    ASSERT_EQ(do_read(rd(), buf_, 3996), 3996);
    EXPECT_EQ(rec.keys(), std::vector<PollMask>{kOut});
}

TEST_F(PipeTest, LastWriterCloseWakesReadersWithFullKey) {
    open(abi::kO_NONBLOCK);
    WakeRecorder rec(file_of(rd()));
    close_writer();
    EXPECT_EQ(rec.keys(), std::vector<PollMask>{kReleaseKey});
    EXPECT_EQ(mask_of(rd()), abi::kEPOLLHUP);
}

TEST_F(PipeTest, BlockedReaderWokenByWrite) {
    open();
    auto reader = std::async(std::launch::async, [this] {
        char out[8] = {};
        long n = do_read(rd(), out, sizeof(out));
        return n == 3 && std::memcmp(out, "xyz", 3) == 0;
    });
    EXPECT_EQ(reader.wait_for(50ms), std::future_status::timeout);
    ASSERT_EQ(do_write(wr(), "xyz", 3), 3);
    ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
    EXPECT_TRUE(reader.get());
}

TEST_F(PipeTest, ExclusiveReadersPassTheWakeUpOn) {
    open();
    auto read_one = [this] {
        char c = 0;
        return do_read(rd(), &c, 1) == 1 ? c : '?';
    };
    auto a = std::async(std::launch::async, read_one);
    auto b = std::async(std::launch::async, read_one);
    std::this_thread::sleep_for(50ms);
    ASSERT_EQ(do_write(wr(), "pq", 2), 2);  // wakes one reader, which wakes the next
    bool ready = a.wait_for(5s) == std::future_status::ready && b.wait_for(5s) == std::future_status::ready;
    if (!ready) do_write(wr(), "zz", 2);  // unblock before failing
    ASSERT_TRUE(ready);
    char ca = a.get();
    char cb = b.get();
    EXPECT_TRUE((ca == 'p' && cb == 'q') || (ca == 'q' && cb == 'p'));
}

TEST_F(PipeTest, BlockedReaderSeesEofWhenWriterCloses) {
    open();
    auto reader = std::async(std::launch::async, [this] {
        char c;
        return do_read(rd(), &c, 1);
    });
    EXPECT_EQ(reader.wait_for(50ms), std::future_status::timeout);
    close_writer();
    ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(reader.get(), 0);
}

TEST_F(PipeTest, BlockedWriterWokenByReaderAndWritesEverything) {
    open(abi::kO_NONBLOCK);
    ASSERT_EQ(do_write(wr(), buf_, 65536), 65536);
    set_nonblock(wr(), false);
    std::vector<char> data(10000);
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7);
    auto writer = std::async(std::launch::async, [&] { return do_write(wr(), data.data(), data.size()); });
    EXPECT_EQ(writer.wait_for(50ms), std::future_status::timeout);
    std::vector<char> got;
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (got.size() < 65536 + data.size() && std::chrono::steady_clock::now() < deadline) {
        long n = do_read(rd(), buf_, 3000);
        if (n > 0) got.insert(got.end(), buf_, buf_ + n);
        if (n == -EAGAIN) std::this_thread::sleep_for(1ms);
    }
    ASSERT_EQ(writer.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(writer.get(), 10000);
    ASSERT_EQ(got.size(), 65536 + data.size());
    EXPECT_EQ(std::memcmp(got.data() + 65536, data.data(), data.size()), 0);
}

TEST_F(PipeTest, BlockedWriterGetsEpipeWhenReaderCloses) {
    open(abi::kO_NONBLOCK);
    ASSERT_EQ(do_write(wr(), buf_, 65536), 65536);
    set_nonblock(wr(), false);
    auto writer = std::async(std::launch::async, [this] { return do_write(wr(), buf_, 100); });
    EXPECT_EQ(writer.wait_for(50ms), std::future_status::timeout);
    close_reader();
    ASSERT_EQ(writer.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(writer.get(), -EPIPE);
    EXPECT_EQ(sigpipes.load(), 1);
}

}  // namespace
}  // namespace pollux
