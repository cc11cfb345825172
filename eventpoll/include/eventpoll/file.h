// File: an open file description (Linux's struct file), the unit everything polls.
//
// Descriptors refer to Files; dup() shares one File, so O_NONBLOCK (here) is shared while
// FD_CLOEXEC (in the fd table) is not, as on Linux. A File's poll() reports its mask and,
// given a PollTable with a queue procedure, hands over each wait queue that can signal a
// change: that is how eventpoll, poll() and select() subscribe.
//
// Lifetime: refcounted. The fd table holds one reference per descriptor, a call in flight
// holds one; epitems do not (as in Linux). When the last reference goes, eventpoll_release_file()
// removes every epitem watching the file, then release() runs, then the object is deleted.
//
// Locking: f_lock guards f_ep (the epitems watching this file). flags are atomic.
#pragma once

#include <atomic>
#include <cstdint>

#include "eventpoll/io_iter.h"
#include "eventpoll/linux_abi.h"
#include "eventpoll/wait_queue.h"
#include "kernel/spin_lock.h"
#include "kstd/list.h"
#include "kstd/result.h"

namespace pollux {

class File;
struct PollTable;
using PollQueueProc = void (*)(File& file, WaitQueueHead& wq, PollTable& pt);

// Linux's poll_table: a queue procedure (null when the caller only wants the mask) and the
// events the caller is interested in.
struct PollTable {
    PollQueueProc qproc = nullptr;
    PollMask key = ~0u;
};

inline void poll_wait(File& file, WaitQueueHead& wq, PollTable* pt) {
    if (pt != nullptr && pt->qproc != nullptr) pt->qproc(file, wq, *pt);
}

// regular, directory and device: the unikernel's file tree (kernel/unikernel/fs/).
enum class FileKind : uint8_t { other, eventpoll, eventfd, timerfd, signalfd, pipe, unix_stream, inet, regular, directory, device };

// Linux's f_mode bits that matter to us.
inline constexpr uint8_t FMODE_READ = 1;
inline constexpr uint8_t FMODE_WRITE = 2;
// pread()/preadv() are allowed (files with a position; the others fail with ESPIPE).
inline constexpr uint8_t FMODE_PREAD = 8;

class Printer;

class File {
public:
    File(FileKind kind, uint8_t mode, int flags);
    virtual ~File() = default;
    File(const File&) = delete;
    File& operator=(const File&) = delete;

    FileKind kind() const { return kind_; }
    uint8_t mode() const { return mode_; }
    int flags() const { return flags_.load(std::memory_order_relaxed); }
    void set_flags(int flags) { flags_.store(flags, std::memory_order_relaxed); }
    bool nonblocking() const { return (flags() & abi::kO_NONBLOCK) != 0; }
    uint64_t ino() const { return ino_; }

    // Operations. A file without poll support makes epoll_ctl() fail with EPERM; one
    // without read/write makes read()/write() fail with EINVAL (Linux's FMODE_CAN_READ).
    virtual bool can_poll() const { return true; }
    virtual PollMask poll(PollTable* pt) = 0;
    virtual bool can_read() const { return false; }
    virtual bool can_write() const { return false; }
    virtual kstd::Result<size_t> read(IoIter& to, bool nonblock);
    virtual kstd::Result<size_t> write(IoIter& from, bool nonblock);
    virtual kstd::Result<long> ioctl(unsigned long cmd, uintptr_t arg);
    // lseek(2), whence already checked to be at most SEEK_MAX. The default is Linux's for
    // what is not a file system's: eventpoll, eventfd and timerfd use noop_llseek (the
    // position stays 0), pipes, sockets and the console are nonseekable (ESPIPE).
    virtual kstd::Result<int64_t> llseek(int64_t offset, int whence);
    // pread(2) at pos (>= 0) without moving the position; only called with FMODE_PREAD.
    virtual kstd::Result<size_t> read_at(IoIter& to, int64_t pos);
    // F_SETFL: O_DIRECT is refused unless the file can do it (pipes: packet mode), and FASYNC
    // is only kept by files with a fasync operation (fs/fcntl.c: setfl()).
    virtual bool allows_odirect() const { return false; }
    virtual bool has_fasync() const { return false; }
    // The NAPI context this file's traffic last arrived on (sockets), for busy polling; 0: none.
    virtual unsigned napi_id() const { return 0; }
    // Extra lines for introspection (eventpoll prints its interest list here).
    virtual void show_fdinfo(Printer& out);
    // What flock(2) locks (Linux's inode): two descriptions of one file share it, so their
    // locks conflict. The description itself for files without an inode of their own here.
    virtual const void* lock_key() const { return this; }

    void get() { refcount_.fetch_add(1, std::memory_order_relaxed); }
    void put();
    long refcount() const { return refcount_.load(std::memory_order_relaxed); }

    SpinLock f_lock;
    kstd::ListNode f_ep GUARDED_BY(f_lock);  // EpItem::fllink of every epitem watching us

protected:
    // Runs once, after the last reference is gone and every epitem has been removed.
    virtual void release() {}
    // Frees the object after release(). An eventpoll overrides it: its epitems may still pin
    // it while a concurrent eventpoll_release_file() finishes (Linux's ep->refcount).
    virtual void destroy() { delete this; }

private:
    std::atomic<long> refcount_{1};
    std::atomic<int> flags_;
    uint64_t ino_;
    FileKind kind_;
    uint8_t mode_;
};

// A counted reference, so that early returns cannot leak one.
class FileRef {
public:
    FileRef() = default;
    explicit FileRef(File* file) : file_(file) {}  // adopts a reference
    FileRef(const FileRef& other) : file_(other.file_) {
        if (file_ != nullptr) file_->get();
    }
    FileRef(FileRef&& other) noexcept : file_(other.file_) { other.file_ = nullptr; }
    FileRef& operator=(FileRef other) noexcept {
        File* tmp = file_;
        file_ = other.file_;
        other.file_ = tmp;
        return *this;
    }
    ~FileRef() {
        if (file_ != nullptr) file_->put();
    }
    File* get() const { return file_; }
    File* operator->() const { return file_; }
    File& operator*() const { return *file_; }
    explicit operator bool() const { return file_ != nullptr; }
    File* leak() {
        File* f = file_;
        file_ = nullptr;
        return f;
    }

private:
    File* file_ = nullptr;
};

// Removes every epitem that watches `file` (Linux's eventpoll_release_file); defined by
// eventpoll, called from File::put().
void eventpoll_release_file(File& file);
// Drops the flock(2) locks the description holds (Linux's locks_remove_file), waking their
// waiters; eventpoll/flock.cc, called from File::put().
void flock_release_file(File& file);

}  // namespace pollux
