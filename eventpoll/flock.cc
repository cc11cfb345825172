// flock(2): BSD advisory locks, as fs/locks.c's flock_lock_inode() keeps them. A lock belongs
// to an open file description (a File): dup()ed descriptors share it, two open()s of one file
// are two owners whose locks conflict (shared with shared is fine, anything with exclusive is
// not). Converting a lock drops the old one first, as Linux does (not atomic). A conflicting
// request fails with EWOULDBLOCK under LOCK_NB, else waits, interruptibly, until it can be
// granted; the last close of a description drops its locks (flock_release_file, from
// File::put()).
//
// LOCKING: FlockState::lock guards the list of held locks; it is a spin lock taken for a walk
// of the list and never held while allocating, freeing or sleeping. Waiters sleep on
// FlockState::wq, which every unlock wakes in full (they recheck: locks are few).
#include <linux/errno.h>

#include <atomic>
#include <new>

#include "eventpoll/fd_table.h"
#include "eventpoll/restart.h"
#include "eventpoll/sys.h"
#include "eventpoll/wait_event.h"
#include "kernel/spin_lock.h"

namespace pollux {
namespace {

// <linux/fcntl.h>'s LOCK_*.
constexpr unsigned kLockSh = 1, kLockEx = 2, kLockNb = 4, kLockUn = 8, kLockMand = 32;

struct FlockLock {
    const void* key;  // File::lock_key()
    const File* owner;
    bool exclusive;
    FlockLock* next;
};

struct FlockState {
    SpinLock lock;
    FlockLock* held GUARDED_BY(lock) = nullptr;
    std::atomic<int> count{0};  // held locks: lets every close skip the list when there are none
    WaitQueueHead wq;
};

FlockState& state() {
    static FlockState s;
    return s;
}

// Unlinks owner's lock on key and returns it (for the caller to free), or null.
FlockLock* take_own(FlockState& s, const void* key, const File* owner) REQUIRES(s.lock) {
    for (FlockLock** p = &s.held; *p != nullptr; p = &(*p)->next) {
        if ((*p)->key == key && (*p)->owner == owner) {
            FlockLock* l = *p;
            *p = l->next;
            s.count.fetch_sub(1, std::memory_order_relaxed);
            return l;
        }
    }
    return nullptr;
}

bool conflicts(FlockState& s, const void* key, const File* owner, bool exclusive) REQUIRES(s.lock) {
    for (FlockLock* l = s.held; l != nullptr; l = l->next)
        if (l->key == key && l->owner != owner && (exclusive || l->exclusive)) return true;
    return false;
}

long flock_file(File& file, unsigned type, bool nonblock) {
    FlockState& s = state();
    const void* key = file.lock_key();
    bool exclusive = type == kLockEx;
    FlockLock* fresh = nullptr;
    if (type != kLockUn) {
        fresh = new (std::nothrow) FlockLock{key, &file, exclusive, nullptr};
        if (fresh == nullptr) return -ENOMEM;
    }
    FlockLock* old;
    bool already_held = false;
    {
        LockGuard guard(s.lock);
        old = take_own(s, key, &file);
        if (old != nullptr && fresh != nullptr && old->exclusive == exclusive) {  // already held so
            old->next = s.held;
            s.held = old;
            s.count.fetch_add(1, std::memory_order_relaxed);
            old = nullptr;
            already_held = true;
        }
    }
    if (already_held) {
        delete fresh;  // nothing to wait for either
        return 0;
    }
    if (old != nullptr) {
        delete old;
        s.wq.wake_up_all(~0u);
    }
    if (fresh == nullptr) return 0;  // LOCK_UN: done whether or not a lock was held
    for (;;) {
        {
            LockGuard guard(s.lock);
            if (!conflicts(s, key, &file, exclusive)) {
                fresh->next = s.held;
                s.held = fresh;
                s.count.fetch_add(1, std::memory_order_relaxed);
                return 0;
            }
        }
        if (nonblock) {
            delete fresh;
            return -EWOULDBLOCK;
        }
        int waited = wait_event(
            s.wq,
            [&] {
                LockGuard guard(s.lock);
                return !conflicts(s, key, &file, exclusive);
            },
            0);
        if (waited == -EINTR) {
            delete fresh;
            return -abi::kERESTARTSYS;
        }
    }
}

}  // namespace

void flock_release_file(File& file) {
    FlockState& s = state();
    if (s.count.load(std::memory_order_relaxed) == 0) return;
    FlockLock* dropped = nullptr;
    {
        LockGuard guard(s.lock);
        for (FlockLock** p = &s.held; *p != nullptr;) {
            FlockLock* l = *p;
            if (l->owner != &file) {
                p = &l->next;
                continue;
            }
            *p = l->next;
            s.count.fetch_sub(1, std::memory_order_relaxed);
            l->next = dropped;
            dropped = l;
        }
    }
    if (dropped == nullptr) return;
    while (dropped != nullptr) {
        FlockLock* next = dropped->next;
        delete dropped;
        dropped = next;
    }
    s.wq.wake_up_all(~0u);
}

// SYSCALL_DEFINE2(flock): LOCK_MAND is ignored (success, as Linux 5.15+), an unknown command is
// EINVAL, then the descriptor (EBADF, also for an O_PATH one unless unlocking).
long sys_flock(int fd, unsigned int cmd) {
    if (cmd & kLockMand) return 0;
    unsigned type = cmd & ~kLockNb;
    if (type != kLockSh && type != kLockEx && type != kLockUn) return -EINVAL;
    FileRef file = FdTable::instance().get(fd);
    if (!file) return -EBADF;
    if (type != kLockUn && (file->mode() & (FMODE_READ | FMODE_WRITE)) == 0) return -EBADF;
    return restart_syscall([&] { return flock_file(*file, type, (cmd & kLockNb) != 0); });
}

}  // namespace pollux
