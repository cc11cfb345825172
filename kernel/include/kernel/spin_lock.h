// SpinLock: a short, non-sleeping lock for data touched from wake-up callbacks.
//
// Linux uses spinlocks (IRQ-safe in the kernel) for wait queues and eventpoll's ready list.
// Hosted, a holder can be preempted by the host, so waiters yield after a bounded spin
// instead of burning a whole time slice; in the unikernel the same type also masks IRQs.
#pragma once

#include <atomic>

#include "kernel/annotations.h"
#include "kernel/platform.h"

namespace pollux {

class CAPABILITY("spinlock") SpinLock {
public:
    void lock() ACQUIRE() {
        irq_off();
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
    bool try_lock() TRY_ACQUIRE(true) {
        irq_off();
        if (!locked_.exchange(true, std::memory_order_acquire)) return true;
        irq_on();
        return false;
    }
    void unlock() RELEASE() {
        locked_.store(false, std::memory_order_release);
        irq_on();
    }
    bool is_locked() const { return locked_.load(std::memory_order_relaxed); }

private:
#ifdef POLLUX_UNIKERNEL
    // Interrupt handlers take these locks (a NIC's handler schedules NAPI onto the runner's
    // queue, wakes a wait queue): one CPU, so masking interrupts for as long as one is held
    // is what keeps a handler from spinning on a lock its own CPU holds (spin_lock_irqsave).
    static void irq_off() { platform::irq_disable_nested(); }
    static void irq_on() { platform::irq_enable_nested(); }
#else
    static void irq_off() {}
    static void irq_on() {}
#endif
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
