// EventFd: an eventfd, Linux's struct eventfd_ctx together with its file, after fs/eventfd.c
// (6.x): a 64-bit counter that write() adds to and read() takes (all of it, or 1 with
// EFD_SEMAPHORE), blocking or failing with EAGAIN at 0 on read and on overflow on write.
//
// Locking: wqh_.lock is the counter lock, as Linux's ctx->wqh.lock: count_ is read and written
// only under it, and the wake-ups that follow a change run under it too (wake_up_locked), so a
// waiter queued by poll_wait() can never miss one. semaphore_ and id_ are immutable.
// Invariants: write() never takes count_ above kCountMax; only signal() (the kernel side) may
// reach ULLONG_MAX, the overflow state that poll reports as EPOLLERR. Readers and writers wait
// on the one queue, non-exclusively.
#pragma once

#include <cstdint>

#include "eventpoll/file.h"
#include "eventpoll/wait_queue.h"
#include "kstd/result.h"

namespace pollux {

class EventFd final : public File {
public:
    // The largest count write() may leave: ULLONG_MAX itself means "overflowed".
    static constexpr uint64_t kCountMax = ~0ull - 1;

    // do_eventfd(): checks flags (EFD_SEMAPHORE | EFD_CLOEXEC | EFD_NONBLOCK, else EINVAL) and
    // makes the file. EFD_CLOEXEC is the caller's to apply to the descriptor.
    static kstd::Result<FileRef> create(unsigned int initval, int flags);

    PollMask poll(PollTable* pt) override;
    bool can_read() const override { return true; }
    bool can_write() const override { return true; }
    kstd::Result<size_t> read(IoIter& to, bool nonblock) override;
    kstd::Result<size_t> write(IoIter& from, bool nonblock) override;
    void show_fdinfo(Printer& out) override;

    // eventfd_signal() for the kernel side: adds n without blocking, saturating at ULLONG_MAX
    // (the overflow state), and wakes pollers with EPOLLIN | extra_key, as eventfd_signal_mask().
    // Returns how much was added. Callable from timer callbacks and wake functions that do not
    // hold this queue's lock.
    uint64_t signal(uint64_t n, PollMask extra_key = 0) EXCLUDES(wqh_.lock);

    bool semaphore() const { return semaphore_; }

protected:
    void release() override;

private:
    EventFd(uint64_t count, int flags);

    WaitQueueHead wqh_;
    uint64_t count_ GUARDED_BY(wqh_.lock);
    const bool semaphore_;
    const int id_;
};

// The kernel side's entry point when all it holds is a File: EINVAL unless it is an eventfd
// (as eventfd_ctx_fileget()), else what EventFd::signal() added.
kstd::Result<uint64_t> eventfd_signal(File& file, uint64_t n);

}  // namespace pollux
