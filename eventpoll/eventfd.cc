// EventFd: see eventpoll/include/eventpoll/eventfd.h for the model, locking and invariants.
//
// Blocking follows Linux's eventfd_read()/eventfd_write(), which sleep in
// wait_event_interruptible_locked_irq() on ctx->wqh (non-exclusive) and re-test under the
// lock. wait_event() tests its condition without our lock, so after a wake-up the operation
// loops back and re-tests under wqh_.lock before it commits: another reader or writer may
// have got there first.
#include "eventpoll/eventfd.h"
#include "kernel/platform.h"

#include <linux/errno.h>

#include <atomic>
#include <new>

#include "eventpoll/fd_table.h"
#include "eventpoll/printer.h"
#include "eventpoll/sys.h"
#include "eventpoll/wait_event.h"

namespace pollux {

namespace {

constexpr int kEfdFlags = abi::kEFD_SEMAPHORE | abi::kEFD_CLOEXEC | abi::kEFD_NONBLOCK;
constexpr uint64_t kOverflow = ~0ull;

// Linux numbers eventfds with an IDA for fdinfo; a counter serves the same purpose.
std::atomic<int> next_id{0};

}  // namespace

EventFd::EventFd(uint64_t count, int flags)
    // anon_inode_getfd(..., O_RDWR | (flags & EFD_SHARED_FCNTL_FLAGS)): F_GETFL shows O_RDWR
    // and O_NONBLOCK only; O_CLOEXEC belongs to the descriptor.
    : File(FileKind::eventfd, FMODE_READ | FMODE_WRITE, abi::kO_RDWR | (flags & abi::kO_NONBLOCK)),
      count_(count),
      semaphore_((flags & abi::kEFD_SEMAPHORE) != 0),
      id_(next_id.fetch_add(1, std::memory_order_relaxed)) {}

kstd::Result<FileRef> EventFd::create(unsigned int initval, int flags) {
    if ((flags & ~kEfdFlags) != 0) return kstd::err(EINVAL);
    EventFd* efd = new (std::nothrow) EventFd(initval, flags);
    if (efd == nullptr) return kstd::err(ENOMEM);
    return FileRef(efd);
}

PollMask EventFd::poll(PollTable* pt) {
    poll_wait(*this, wqh_, pt);
    uint64_t count;
    {
        LockGuard guard(wqh_.lock);
        count = count_;
    }
    // eventfd_poll(): no RDNORM/WRNORM bits, and EPOLLOUT only while a write of 1 would fit.
    PollMask events = 0;
    if (count > 0) events |= abi::kEPOLLIN;
    if (count == kOverflow) events |= abi::kEPOLLERR;
    if (kCountMax > count) events |= abi::kEPOLLOUT;
    return events;
}

kstd::Result<size_t> EventFd::read(IoIter& to, bool nonblock) {
    uint64_t value = 0;
    if (to.remaining() < sizeof(value)) return kstd::err(EINVAL);
    for (;;) {
        {
            LockGuard guard(wqh_.lock);
            if (count_ > 0) {
                // eventfd_ctx_do_read(): 1 in semaphore mode, else everything.
                value = semaphore_ ? 1 : count_;
                count_ -= value;
                if (wqh_.active()) wqh_.wake_up_locked(abi::kEPOLLOUT);
                break;
            }
            if (nonblock) return kstd::err(EAGAIN);
        }
        // Nothing was read: the syscall boundary restarts it or reports EINTR.
        int waited = wait_event(wqh_, [this] {
            LockGuard guard(wqh_.lock);
            return count_ > 0;
        }, 0);
        if (waited == -EINTR) return kstd::err(abi::kERESTARTSYS);
    }
    // The counter is already taken when the copy faults, as eventfd_read() does with
    // copy_to_iter() after dropping the lock.
    if (to.copy_out(&value, sizeof(value)) != sizeof(value)) return kstd::err(EFAULT);
    return sizeof(value);
}

kstd::Result<size_t> EventFd::write(IoIter& from, bool nonblock) {
    uint64_t value = 0;
    // eventfd_write() on 6.x wants exactly 8 bytes (count != sizeof(ucnt)), unlike read.
    if (from.remaining() != sizeof(value)) return kstd::err(EINVAL);
    if (from.copy_in(&value, sizeof(value)) != sizeof(value)) return kstd::err(EFAULT);
    if (value == kOverflow) return kstd::err(EINVAL);
    for (;;) {
        {
            LockGuard guard(wqh_.lock);
            if (kOverflow - count_ > value) {
                count_ += value;
                // Even a write of 0 wakes: eventfd_write() wakes whenever it succeeds.
                if (wqh_.active()) wqh_.wake_up_locked(abi::kEPOLLIN);
                return sizeof(value);
            }
            if (nonblock) return kstd::err(EAGAIN);
        }
        int waited = wait_event(wqh_, [this, value] {
            LockGuard guard(wqh_.lock);
            return kOverflow - count_ > value;
        }, 0);
        if (waited == -EINTR) return kstd::err(abi::kERESTARTSYS);  // nothing written
    }
}

uint64_t EventFd::signal(uint64_t n, PollMask extra_key) {
    // Linux guards against recursion through wake functions with current->in_eventfd; a wake
    // function that signals the eventfd whose queue it sits on would deadlock here instead,
    // so kernel users must not do that.
    LockGuard guard(wqh_.lock);
    if (kOverflow - count_ < n) n = kOverflow - count_;
    count_ += n;
    if (wqh_.active()) wqh_.wake_up_locked(abi::kEPOLLIN | extra_key);
    return n;
}

void EventFd::show_fdinfo(Printer& out) {
    uint64_t count;
    {
        LockGuard guard(wqh_.lock);
        count = count_;
    }
    out.print("eventfd-count: %16llx\neventfd-id: %d\neventfd-semaphore: %d\n",
              static_cast<unsigned long long>(count), id_, semaphore_ ? 1 : 0);
}

void EventFd::release() {
    // eventfd_release(): kernel-side waiters (which hold no file reference) learn it is gone.
    wqh_.wake_up(abi::kEPOLLHUP);
}

kstd::Result<uint64_t> eventfd_signal(File& file, uint64_t n) {
    if (file.kind() != FileKind::eventfd) return kstd::err(EINVAL);
    return static_cast<EventFd&>(file).signal(n);
}

long sys_eventfd2(unsigned int initval, int flags) {
    kstd::Result<FileRef> file = EventFd::create(initval, flags);
    if (!file.ok()) return -file.error_code();
    kstd::Result<int> fd = FdTable::instance().install(file.release_value(), (flags & abi::kEFD_CLOEXEC) != 0);
    return fd.ok() ? fd.value() : -fd.error_code();
}

long sys_eventfd(unsigned int initval) { return sys_eventfd2(initval, 0); }

}  // namespace pollux
