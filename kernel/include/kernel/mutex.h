// Mutex: a sleeping lock (eventpoll's ep->mtx), built on the platform's futex.
//
// Three states, as in Drepper's "Futexes Are Tricky": 0 free, 1 locked, 2 locked with
// sleepers. Uncontended lock and unlock are one atomic each and never enter the platform.
#pragma once

#include <atomic>
#include <cstdint>

#include "kernel/annotations.h"
#include "kernel/platform.h"

namespace pollux {

class CAPABILITY("mutex") Mutex {
public:
    void lock() ACQUIRE() {
        uint32_t expected = 0;
        if (state_.compare_exchange_strong(expected, 1, std::memory_order_acquire)) return;
        lock_slow();
    }
    bool try_lock() TRY_ACQUIRE(true) {
        uint32_t expected = 0;
        return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire);
    }
    void unlock() RELEASE() {
        if (state_.exchange(0, std::memory_order_release) == 2) platform::futex_wake(state_, 1);
    }

private:
    // Spins first while the holder may be running on another CPU (reading, not writing, the
    // word), as Linux's optimistic spinning does; a sleep costs both sides a system call.
    void lock_slow() {
        for (int spins = platform::mutex_spins(); spins > 0; --spins) {
            uint32_t expected = 0;
            if (state_.load(std::memory_order_relaxed) == 0 &&
                state_.compare_exchange_weak(expected, 1, std::memory_order_acquire))
                return;
            platform::cpu_relax();
        }
        while (state_.exchange(2, std::memory_order_acquire) != 0)
            platform::futex_wait(state_, 2, 0, /*interruptible=*/false);
    }

    std::atomic<uint32_t> state_{0};
};

}  // namespace pollux
