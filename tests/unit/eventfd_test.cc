// Unit tests for eventfd (eventpoll/eventfd.h): sys_eventfd2 flags, the counter in normal and
// semaphore mode, size/value validation, the overflow limit, exact poll masks, faults, the keys
// of every wake-up, kernel-side signal(), and blocked readers/writers woken from another
// thread. Expected values were measured on Linux 6.18 (fs/eventfd.c) with small C probes.
#include "eventpoll/eventfd.h"
#include "wake_recorder.h"

#include <gtest/gtest.h>
#include <linux/errno.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <future>
#include <string>
#include <thread>

#include "eventpoll/fd_table.h"
#include "eventpoll/printer.h"
#include "eventpoll/sys.h"

namespace pollux {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kMax = 0xfffffffffffffffeull;  // the largest count a write may leave
constexpr auto kBound = 5s;                       // how long a wake-up may take at most

long result(const kstd::Result<size_t>& r) { return r.ok() ? static_cast<long>(r.value()) : -r.error_code(); }

FileRef make(unsigned int initval, int flags) {
    kstd::Result<FileRef> r = EventFd::create(initval, flags);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.release_value() : FileRef();
}

long read_value(File& f, uint64_t* value, bool nonblock = true) {
    IoVec seg{value, sizeof(*value)};
    IoIter it(&seg, 1);
    return result(f.read(it, nonblock));
}

long read_raw(File& f, void* buf, size_t n, bool nonblock = true) {
    IoVec seg{buf, n};
    IoIter it(&seg, 1);
    return result(f.read(it, nonblock));
}

long write_value(File& f, uint64_t value, bool nonblock = true) {
    IoVec seg{&value, sizeof(value)};
    IoIter it(&seg, 1);
    return result(f.write(it, nonblock));
}

long write_raw(File& f, const void* buf, size_t n, bool nonblock = true) {
    IoVec seg{const_cast<void*>(buf), n};
    IoIter it(&seg, 1);
    return result(f.write(it, nonblock));
}

// The value a non-blocking read returns, or ~0 on error.
uint64_t take(File& f) {
    uint64_t v = 0;
    return read_value(f, &v) == 8 ? v : ~0ull;
}

using test::WakeRecorder;

class EventFdTest : public ::testing::Test {
protected:
    void TearDown() override {
        for (int fd : fds_) {
            if (fd >= 0) {
                EXPECT_TRUE(FdTable::instance().close(fd).ok());
            }
        }
    }
    int open(unsigned int initval, int flags) {
        long fd = sys_eventfd2(initval, flags);
        EXPECT_GE(fd, 0);
        fds_[nfds_++] = static_cast<int>(fd);
        return static_cast<int>(fd);
    }
    int fds_[4] = {-1, -1, -1, -1};
    int nfds_ = 0;
};

TEST_F(EventFdTest, Eventfd2FlagsModeAndCloexec) {
    int plain = open(0, 0);
    int nb = open(0, abi::kEFD_NONBLOCK | abi::kEFD_CLOEXEC | abi::kEFD_SEMAPHORE);
    FileRef a = FdTable::instance().get(plain);
    FileRef b = FdTable::instance().get(nb);
    // F_GETFL on Linux: 02 and 04002 (O_CLOEXEC is the descriptor's, never a status flag).
    EXPECT_EQ(a->flags(), abi::kO_RDWR);
    EXPECT_EQ(b->flags(), abi::kO_RDWR | abi::kO_NONBLOCK);
    EXPECT_EQ(a->mode(), FMODE_READ | FMODE_WRITE);
    EXPECT_EQ(a->kind(), FileKind::eventfd);
    EXPECT_TRUE(a->can_read());
    EXPECT_TRUE(a->can_write());
    EXPECT_FALSE(FdTable::instance().cloexec(plain).value());
    EXPECT_TRUE(FdTable::instance().cloexec(nb).value());
    EXPECT_FALSE(static_cast<EventFd&>(*a).semaphore());
    EXPECT_TRUE(static_cast<EventFd&>(*b).semaphore());
}

TEST_F(EventFdTest, BadFlagsAreEinval) {
    EXPECT_EQ(sys_eventfd2(0, 2), -EINVAL);  // O_RDWR
    EXPECT_EQ(sys_eventfd2(0, 4), -EINVAL);
    EXPECT_EQ(sys_eventfd2(0, abi::kO_APPEND), -EINVAL);
    EXPECT_EQ(sys_eventfd2(0, abi::kEFD_NONBLOCK | 0x10), -EINVAL);
    EXPECT_EQ(sys_eventfd2(0, -1), -EINVAL);
}

TEST_F(EventFdTest, SysEventfdIsEventfd2WithoutFlags) {
    int fd = static_cast<int>(sys_eventfd(0xffffffffu));
    ASSERT_GE(fd, 0);
    fds_[nfds_++] = fd;
    FileRef f = FdTable::instance().get(fd);
    EXPECT_EQ(f->flags(), abi::kO_RDWR);
    EXPECT_FALSE(FdTable::instance().cloexec(fd).value());
    EXPECT_EQ(take(*f), 0xffffffffull);  // the initial value is an unsigned int
}

TEST_F(EventFdTest, ReadTakesTheWholeCount) {
    FileRef f = make(42, abi::kEFD_NONBLOCK);
    EXPECT_EQ(take(*f), 42u);
    uint64_t v = 7;
    EXPECT_EQ(read_value(*f, &v), -EAGAIN);
    EXPECT_EQ(v, 7u);
    EXPECT_EQ(write_value(*f, 3), 8);
    EXPECT_EQ(write_value(*f, 4), 8);
    EXPECT_EQ(take(*f), 7u);
}

TEST_F(EventFdTest, SemaphoreReadsOneAtATime) {
    FileRef f = make(3, abi::kEFD_SEMAPHORE);
    EXPECT_EQ(take(*f), 1u);
    EXPECT_EQ(take(*f), 1u);
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLIN | abi::kEPOLLOUT);
    EXPECT_EQ(take(*f), 1u);
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLOUT);
    uint64_t v;
    EXPECT_EQ(read_value(*f, &v), -EAGAIN);
    EXPECT_EQ(write_value(*f, 0), 8);  // writing 0 is allowed in semaphore mode (6.x)
    EXPECT_EQ(read_value(*f, &v), -EAGAIN);
}

TEST_F(EventFdTest, ReadSizeIsCheckedFirst) {
    FileRef empty = make(0, 0);
    char buf[16] = {};
    // Before EAGAIN, and before blocking even on a blocking file.
    EXPECT_EQ(read_raw(*empty, buf, 7, false), -EINVAL);
    EXPECT_EQ(read_raw(*empty, buf, 0, true), -EINVAL);
    FileRef f = make(9, 0);
    uint64_t big[2] = {0, 0x55};
    EXPECT_EQ(read_raw(*f, big, sizeof(big)), 8);  // a larger buffer takes exactly 8 bytes
    EXPECT_EQ(big[0], 9u);
    EXPECT_EQ(big[1], 0x55u);
}

TEST_F(EventFdTest, WriteWantsExactlyEightBytes) {
    FileRef f = make(0, abi::kEFD_NONBLOCK);
    uint64_t big[2] = {5, 9};
    EXPECT_EQ(write_raw(*f, big, 7), -EINVAL);
    EXPECT_EQ(write_raw(*f, big, 0), -EINVAL);
    EXPECT_EQ(write_raw(*f, big, 9), -EINVAL);   // eventfd_write(): count != sizeof(ucnt)
    EXPECT_EQ(write_raw(*f, big, 16), -EINVAL);
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLOUT);  // nothing was added
    EXPECT_EQ(write_raw(*f, big, 8), 8);
    EXPECT_EQ(take(*f), 5u);
}

TEST_F(EventFdTest, WritingUllongMaxIsEinval) {
    FileRef f = make(0, abi::kEFD_NONBLOCK);
    EXPECT_EQ(write_value(*f, ~0ull), -EINVAL);
    EXPECT_EQ(write_value(*f, ~0ull, false), -EINVAL);  // never blocks either
    EXPECT_EQ(write_value(*f, kMax), 8);
    EXPECT_EQ(take(*f), kMax);
    EXPECT_EQ(write_value(*f, 0), 8);  // a successful no-op
    uint64_t v;
    EXPECT_EQ(read_value(*f, &v), -EAGAIN);
}

TEST_F(EventFdTest, OverflowIsEagainAtTheLimit) {
    FileRef f = make(0, abi::kEFD_NONBLOCK);
    EXPECT_EQ(write_value(*f, 0xfffffffffffffff0ull), 8);
    EXPECT_EQ(write_value(*f, 0xf), -EAGAIN);
    EXPECT_EQ(write_value(*f, 0xe), 8);  // reaches 0xff..fe exactly
    EXPECT_EQ(write_value(*f, 1), -EAGAIN);
    EXPECT_EQ(write_value(*f, 0), 8);
    EXPECT_EQ(take(*f), kMax);
}

TEST_F(EventFdTest, PollMasksAreExact) {
    FileRef f = make(0, 0);
    // eventfd_poll() sets neither EPOLLRDNORM nor EPOLLWRNORM.
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLOUT);
    ASSERT_EQ(write_value(*f, 1), 8);
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLIN | abi::kEPOLLOUT);
    ASSERT_EQ(write_value(*f, 0xfffffffffffffffcull), 8);  // count 0xff..fd: one more fits
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLIN | abi::kEPOLLOUT);
    ASSERT_EQ(write_value(*f, 1), 8);  // count 0xff..fe: full
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLIN);
    EXPECT_EQ(take(*f), kMax);
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLOUT);
}

TEST_F(EventFdTest, SignalSaturatesIntoTheErrorState) {
    FileRef f = make(5, abi::kEFD_NONBLOCK);
    auto& efd = static_cast<EventFd&>(*f);
    EXPECT_EQ(efd.signal(10), 10u);
    EXPECT_EQ(efd.signal(~0ull), ~0ull - 15);  // only what fits
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLIN | abi::kEPOLLERR);
    EXPECT_EQ(efd.signal(1), 0u);
    EXPECT_EQ(write_value(*f, 0), -EAGAIN);  // ULLONG_MAX - count == 0 is not > 0
    uint64_t v = 0;
    EXPECT_EQ(read_value(*f, &v), 8);
    EXPECT_EQ(v, ~0ull);
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLOUT);
    kstd::Result<uint64_t> via_file = eventfd_signal(*f, 3);
    ASSERT_TRUE(via_file.ok());
    EXPECT_EQ(via_file.value(), 3u);
    EXPECT_EQ(take(*f), 3u);
}

TEST_F(EventFdTest, EventfdSignalRejectsOtherFiles) {
    int fds[2];
    ASSERT_EQ(sys_pipe2(fds, 0), 0);
    {
        FileRef pipe_end = FdTable::instance().get(fds[1]);
        kstd::Result<uint64_t> r = eventfd_signal(*pipe_end, 1);
        EXPECT_FALSE(r.ok());
        EXPECT_EQ(r.error_code(), EINVAL);
    }
    EXPECT_EQ(sys_close(fds[0]), 0);
    EXPECT_EQ(sys_close(fds[1]), 0);
}

TEST_F(EventFdTest, FaultingReadStillConsumes) {
    FileRef f = make(5, abi::kEFD_NONBLOCK);
    // eventfd_read() takes the count, then copy_to_iter() fails.
    EXPECT_EQ(read_raw(*f, nullptr, 8), -EFAULT);
    uint64_t v;
    EXPECT_EQ(read_value(*f, &v), -EAGAIN);
    // Nothing to take: EAGAIN wins over the bad buffer.
    EXPECT_EQ(read_raw(*f, nullptr, 8), -EAGAIN);
    // A fault halfway through the 8 bytes is still EFAULT.
    ASSERT_EQ(write_value(*f, 6), 8);
    uint32_t half = 0;
    IoVec segs[2] = {{&half, 4}, {nullptr, 4}};
    IoIter it(segs, 2);
    EXPECT_EQ(result(f->read(it, true)), -EFAULT);
    EXPECT_EQ(read_value(*f, &v), -EAGAIN);
}

TEST_F(EventFdTest, FaultingWriteAddsNothing) {
    FileRef f = make(1, abi::kEFD_NONBLOCK);
    EXPECT_EQ(write_raw(*f, nullptr, 8), -EFAULT);
    EXPECT_EQ(write_raw(*f, nullptr, 4), -EINVAL);  // the size check comes first
    EXPECT_EQ(take(*f), 1u);
}

TEST_F(EventFdTest, ReadvSplitsTheCounter) {
    FileRef f = make(0x1122334455667788ull & 0xffffffffu, abi::kEFD_NONBLOCK);
    ASSERT_EQ(write_value(*f, 0x1122334400000000ull), 8);
    uint32_t lo = 0, hi = 0;
    IoVec segs[2] = {{&lo, 4}, {&hi, 4}};
    IoIter it(segs, 2);
    EXPECT_EQ(result(f->read(it, true)), 8);  // read is read_iter: 8 bytes over any segments
    EXPECT_EQ(lo, 0x55667788u);
    EXPECT_EQ(hi, 0x11223344u);
}

TEST_F(EventFdTest, SysReadWriteThroughTheFdTable) {
    int fd = open(0, abi::kEFD_NONBLOCK);
    uint64_t v = 11;
    EXPECT_EQ(sys_write(fd, &v, 8), 8);
    EXPECT_EQ(sys_write(fd, &v, 8), 8);
    EXPECT_EQ(sys_read(fd, &v, 8), 8);
    EXPECT_EQ(v, 22u);
    EXPECT_EQ(sys_read(fd, &v, 8), -EAGAIN);
    EXPECT_EQ(sys_read(fd, &v, 4), -EINVAL);
    int n = 0;
    // eventfd has no ioctl of its own: FIONREAD is ENOTTY on Linux.
    EXPECT_EQ(sys_ioctl(fd, abi::kFIONREAD, reinterpret_cast<unsigned long>(&n)), -ENOTTY);
}

TEST_F(EventFdTest, NonblockArgumentWinsOverBlockingFile) {
    FileRef f = make(0, 0);
    uint64_t v;
    EXPECT_EQ(read_value(*f, &v, true), -EAGAIN);  // e.g. MSG_DONTWAIT-style callers
    ASSERT_EQ(write_value(*f, kMax), 8);
    EXPECT_EQ(write_value(*f, 1, true), -EAGAIN);
}

TEST_F(EventFdTest, BlockedReaderIsWokenByWrite) {
    FileRef f = make(0, 0);
    std::promise<uint64_t> got;
    std::future<uint64_t> fut = got.get_future();
    std::thread reader([&] {
        uint64_t v = 0;
        long r = read_value(*f, &v, false);
        got.set_value(r == 8 ? v : ~0ull);
    });
    EXPECT_EQ(fut.wait_for(50ms), std::future_status::timeout);  // really blocked
    EXPECT_EQ(write_value(*f, 17), 8);
    ASSERT_EQ(fut.wait_for(kBound), std::future_status::ready);
    EXPECT_EQ(fut.get(), 17u);
    reader.join();
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLOUT);
}

TEST_F(EventFdTest, BlockedWriterIsWokenByRead) {
    FileRef f = make(0, 0);
    ASSERT_EQ(write_value(*f, 0xfffffffffffffff0ull), 8);
    std::promise<long> done;
    std::future<long> fut = done.get_future();
    std::thread writer([&] { done.set_value(write_value(*f, 0x20, false)); });
    EXPECT_EQ(fut.wait_for(50ms), std::future_status::timeout);
    EXPECT_EQ(take(*f), 0xfffffffffffffff0ull);  // makes room
    ASSERT_EQ(fut.wait_for(kBound), std::future_status::ready);
    EXPECT_EQ(fut.get(), 8);
    writer.join();
    EXPECT_EQ(take(*f), 0x20u);
}

TEST_F(EventFdTest, BlockedSemaphoreReadersEachTakeOne) {
    FileRef f = make(0, abi::kEFD_SEMAPHORE);
    std::atomic<int> ones{0};
    std::atomic<int> finished{0};
    auto reader = [&] {
        uint64_t v = 0;
        if (read_value(*f, &v, false) == 8 && v == 1) ones.fetch_add(1);
        finished.fetch_add(1);
    };
    std::thread a(reader);
    std::thread b(reader);
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(finished.load(), 0);
    EXPECT_EQ(write_value(*f, 2), 8);  // wakes both (non-exclusive); each takes 1
    auto deadline = std::chrono::steady_clock::now() + kBound;
    while (finished.load() < 2 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    if (finished.load() < 2) (void)static_cast<EventFd&>(*f).signal(2);  // unblock before failing
    a.join();
    b.join();
    EXPECT_EQ(ones.load(), 2);
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLOUT);
}

TEST_F(EventFdTest, WakeUpKeys) {
    FileRef f = make(0, abi::kEFD_NONBLOCK);
    WakeRecorder rec(f);
    ASSERT_TRUE(rec.queued());
    ASSERT_EQ(write_value(*f, 2), 8);
    ASSERT_EQ(rec.count(), 1);
    EXPECT_EQ(rec.key(0), abi::kEPOLLIN);  // wake_up_locked_poll(EPOLLIN): no RDNORM
    ASSERT_EQ(take(*f), 2u);
    ASSERT_EQ(rec.count(), 2);
    EXPECT_EQ(rec.key(1), abi::kEPOLLOUT);
    ASSERT_EQ(write_value(*f, 0), 8);  // eventfd_write() wakes on any success
    ASSERT_EQ(rec.count(), 3);
    EXPECT_EQ(rec.key(2), abi::kEPOLLIN);
    uint64_t v;
    EXPECT_EQ(read_value(*f, &v), -EAGAIN);  // failures wake nobody
    EXPECT_EQ(write_value(*f, ~0ull), -EINVAL);
    EXPECT_EQ(rec.count(), 3);
    (void)static_cast<EventFd&>(*f).signal(1, abi::kEPOLLPRI);  // eventfd_signal_mask()
    ASSERT_EQ(rec.count(), 4);
    EXPECT_EQ(rec.key(3), abi::kEPOLLIN | abi::kEPOLLPRI);
}

TEST_F(EventFdTest, ReleaseWakesWithHup) {
    WakeRecorder rec(make(0, 0), /*autoremove=*/true);
    // The recorder dropped its reference: the file is gone, and eventfd_release() woke its
    // kernel-side waiters with EPOLLHUP on the way out.
    ASSERT_EQ(rec.count(), 1);
    EXPECT_EQ(rec.key(0), abi::kEPOLLHUP);
}

TEST_F(EventFdTest, FdinfoShowsCountIdAndSemaphore) {
    FileRef f = make(0x1234, abi::kEFD_SEMAPHORE);
    char buf[256];
    Printer out(buf, sizeof(buf));
    f->show_fdinfo(out);
    std::string text(buf);
    EXPECT_EQ(text.rfind("eventfd-count:             1234\neventfd-id: ", 0), 0u) << text;
    EXPECT_NE(text.find("\neventfd-semaphore: 1\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace pollux
