// SpinLock: a short, non-sleeping lock for data touched from wake-up callbacks.
//
// Linux uses spinlocks (IRQ-safe in the kernel) for wait queues and eventpoll's ready list.
// Hosted, a holder can be preempted by the host, so waiters yield after a bounded spin
// instead of burning a whole time slice; in the unikernel the same type will also mask IRQs.
#pragma once

#include <atomic>

#include "kernel/annotations.h"
#include "kernel/platform.h"

namespace pollux {

class CAPABILITY("spinlock") SpinLock {
public:
    void lock() ACQUIRE() {
        for (;;) {
            if (!locked_.exchange(true, std::memory_order_acquire)) return;
            for (int spins = 0; locked_.load(std::memory_order_relaxed); ++spins) {
                if (spins < 128) {
                    platform::cpu_relax();
                } else {
                    platform::yield();
                }
            }
        }
    }
    bool try_lock() TRY_ACQUIRE(true) { return !locked_.exchange(true, std::memory_order_acquire); }
    void unlock() RELEASE() { locked_.store(false, std::memory_order_release); }
    bool is_locked() const { return locked_.load(std::memory_order_relaxed); }

private:
    std::atomic<bool> locked_{false};
};

template <typename Lock>
class SCOPED_CAPABILITY LockGuard {
public:
    explicit LockGuard(Lock& lock) ACQUIRE(lock) : lock_(lock) { lock_.lock(); }
    ~LockGuard() RELEASE() { lock_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    Lock& lock_;
};

}  // namespace pollux
