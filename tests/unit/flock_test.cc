// Unit tests for the core's flock(2) (eventpoll/flock.cc) and close_range(2) (eventpoll/sys_fd.cc)
// over the hosted fd table. Two descriptions of one file are two Files with one lock_key(), as
// two open()s of a tree file are (NodeFile's key is the inode); the expected answers are
// Linux's (fs/locks.c, fs/file.c), which tests/boot/apps/process.c checks on Linux itself.
#include <gtest/gtest.h>
#include <linux/errno.h>

#include <atomic>
#include <chrono>
#include <future>

#include "eventpoll/fd_table.h"
#include "eventpoll/file.h"
#include "eventpoll/sys.h"

namespace pollux {
namespace {

using namespace std::chrono_literals;

constexpr unsigned kSh = 1, kEx = 2, kNb = 4, kUn = 8;  // LOCK_*
constexpr unsigned kCloseRangeUnshare = 2, kCloseRangeCloexec = 4;

// A file whose lock key is shared with other descriptions of the same "inode".
class KeyedFile final : public File {
public:
    explicit KeyedFile(const void* key) : File(FileKind::other, FMODE_READ | FMODE_WRITE, abi::kO_RDWR), key_(key) {}
    PollMask poll(PollTable*) override { return 0; }
    const void* lock_key() const override { return key_; }

private:
    const void* key_;
};

int open_keyed(const void* key) {
    kstd::Result<int> r = FdTable::instance().install(FileRef(new KeyedFile(key)), false);
    return r.ok() ? r.value() : -1;
}

TEST(Flock, ArgumentsAndDescriptor) {
    int inode = 0;  // only its address is used: a stand-in for a file's inode
    int fd = open_keyed(&inode);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(sys_flock(fd, 0), -EINVAL);
    EXPECT_EQ(sys_flock(fd, kSh | kEx), -EINVAL);
    EXPECT_EQ(sys_flock(fd, 32), 0);  // LOCK_MAND: ignored
    EXPECT_EQ(sys_flock(-1, kSh), -EBADF);
    EXPECT_EQ(sys_flock(fd, kUn), 0);  // nothing held
    EXPECT_EQ(sys_close(fd), 0);
}

TEST(Flock, DescriptionsConflictDupsShare) {
    int inode = 0;  // only its address is used: a stand-in for a file's inode
    int a = open_keyed(&inode), b = open_keyed(&inode);
    ASSERT_GE(a, 0);
    ASSERT_GE(b, 0);
    EXPECT_EQ(sys_flock(a, kEx), 0);
    EXPECT_EQ(sys_flock(b, kSh | kNb), -EWOULDBLOCK);
    int c = static_cast<int>(sys_dup(a));
    EXPECT_EQ(sys_flock(c, kEx | kNb), 0);  // the same description
    EXPECT_EQ(sys_flock(a, kSh), 0);        // converted
    EXPECT_EQ(sys_flock(b, kSh | kNb), 0);
    EXPECT_EQ(sys_flock(b, kEx | kNb), -EWOULDBLOCK);
    EXPECT_EQ(sys_flock(a, kUn), 0);
    EXPECT_EQ(sys_flock(b, kEx | kNb), 0);  // a shared lock of b's own converts
    int other;
    int d = open_keyed(&other);
    EXPECT_EQ(sys_flock(d, kEx | kNb), 0);  // another file: no conflict
    for (int fd : {a, b, c, d}) EXPECT_EQ(sys_close(fd), 0);
}

TEST(Flock, BlockedLockWaitsForLastClose) {
    int inode = 0;  // only its address is used: a stand-in for a file's inode
    int a = open_keyed(&inode), b = open_keyed(&inode);
    ASSERT_EQ(sys_flock(a, kEx), 0);
    int c = static_cast<int>(sys_dup(a));
    std::future<long> waiter = std::async(std::launch::async, [&] { return sys_flock(b, kEx); });
    EXPECT_EQ(waiter.wait_for(100ms), std::future_status::timeout);
    EXPECT_EQ(sys_close(a), 0);  // the description lives on in c
    EXPECT_EQ(waiter.wait_for(50ms), std::future_status::timeout);
    EXPECT_EQ(sys_close(c), 0);
    ASSERT_EQ(waiter.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(waiter.get(), 0);
    // ... and for an unlock.
    int d = open_keyed(&inode);
    std::future<long> reader = std::async(std::launch::async, [&] { return sys_flock(d, kSh); });
    EXPECT_EQ(reader.wait_for(100ms), std::future_status::timeout);
    EXPECT_EQ(sys_flock(b, kUn), 0);
    ASSERT_EQ(reader.wait_for(5s), std::future_status::ready);
    EXPECT_EQ(reader.get(), 0);
    EXPECT_EQ(sys_close(b), 0);
    EXPECT_EQ(sys_close(d), 0);
}

TEST(CloseRange, ClosesOrMarksCloexec) {
    int inode = 0;  // only its address is used: a stand-in for a file's inode
    int fds[4];
    for (int& fd : fds) fd = open_keyed(&inode);
    int lo = fds[0], hi = fds[3];
    for (int fd : fds) ASSERT_TRUE(fd >= lo && fd <= hi);  // consecutive numbers
    EXPECT_EQ(sys_close_range(5, 4, 0), -EINVAL);
    EXPECT_EQ(sys_close_range(lo, hi, 1), -EINVAL);
    EXPECT_EQ(sys_close_range(unsigned(hi), unsigned(hi), kCloseRangeCloexec), 0);
    EXPECT_TRUE(FdTable::instance().cloexec(hi).value());
    EXPECT_FALSE(FdTable::instance().cloexec(lo).value());
    EXPECT_EQ(sys_close_range(unsigned(lo) + 1, unsigned(hi) - 1, 0), 0);
    EXPECT_TRUE(FdTable::instance().owns(lo));
    EXPECT_FALSE(FdTable::instance().owns(lo + 1));
    EXPECT_TRUE(FdTable::instance().owns(hi));
    EXPECT_EQ(sys_close_range(unsigned(lo), ~0u, kCloseRangeUnshare), 0);
    EXPECT_FALSE(FdTable::instance().owns(lo));
    EXPECT_FALSE(FdTable::instance().owns(hi));
}

}  // namespace
}  // namespace pollux
