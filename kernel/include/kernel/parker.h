// Parker: lets one thread sleep until another wakes it; the wake side never blocks.
//
// A wait-queue entry for a blocked thread carries a Parker. unpark() may run before park():
// the token is kept, so a wake-up between "checked the condition" and "went to sleep" is never
// lost. States: 0 idle, 1 token pending, 2 sleeping.
#pragma once

#include <atomic>
#include <cstdint>

#include "kernel/platform.h"

namespace pollux {

// How the polling waits went (all Parkers): served, the token came while polling; slept, it did
// not and the wait went to sleep (or timed out).
struct ParkPollStats {
    uint64_t served, slept;
};
inline std::atomic<uint64_t> park_polls_served{0}, park_polls_slept{0};
inline ParkPollStats park_poll_stats() {
    return {park_polls_served.load(std::memory_order_relaxed), park_polls_slept.load(std::memory_order_relaxed)};
}

class Parker {
public:
    // Returns woken when a token was consumed; timed_out / interrupted otherwise.
    // poll_first: an application's wait (epoll_wait, poll, a blocking socket call) polls for
    // the token for platform::park_spin_ns() before it sleeps, and tells an adaptive figure
    // how long it took; the core's own threads (net-rx) do not poll, since they would take
    // the CPU from the threads that give them work.
    platform::WaitStatus park(uint64_t deadline_ns, bool poll_first = false) {
        if (!poll_first || !platform::park_spin_adaptive()) return wait(deadline_ns, poll_first);
        uint64_t start = platform::monotonic_ns();
        platform::WaitStatus status = wait(deadline_ns, true);
        platform::park_waited(platform::monotonic_ns() - start);
        return status;
    }

    void unpark() {
        if (state_.exchange(1, std::memory_order_release) == 2) platform::futex_wake(state_, 1);
    }

    // Drops a stale token before a fresh condition check.
    void reset() { state_.store(0, std::memory_order_relaxed); }

private:
    platform::WaitStatus wait(uint64_t deadline_ns, bool poll_first) {
        if (uint64_t spin = poll_first ? platform::park_spin_ns() : 0;
            spin != 0 && state_.load(std::memory_order_relaxed) != 1) {
            uint64_t until = platform::monotonic_ns() + spin;
            if (deadline_ns != 0 && deadline_ns < until) until = deadline_ns;
            // Yielding, not just pausing: the thread that will wake this one may be waiting for
            // this very CPU.
            do {
                for (int i = 0; i < 16 && state_.load(std::memory_order_relaxed) != 1; ++i) platform::cpu_relax();
                if (state_.load(std::memory_order_relaxed) == 1) break;
                platform::yield();
            } while (state_.load(std::memory_order_relaxed) != 1 && platform::monotonic_ns() < until);
            (state_.load(std::memory_order_relaxed) == 1 ? park_polls_served : park_polls_slept)
                .fetch_add(1, std::memory_order_relaxed);
        }
        for (;;) {
            uint32_t state = state_.load(std::memory_order_acquire);
            if (state == 1) {
                if (state_.compare_exchange_strong(state, 0, std::memory_order_acquire))
                    return platform::WaitStatus::woken;
                continue;
            }
            if (state == 0 && !state_.compare_exchange_strong(state, 2, std::memory_order_acquire))
                continue;
            platform::WaitStatus status = platform::futex_wait(state_, 2, deadline_ns);
            if (status == platform::WaitStatus::woken) continue;  // token or spurious: re-read
            uint32_t sleeping = 2;
            if (state_.compare_exchange_strong(sleeping, 0, std::memory_order_acquire)) return status;
            // A token raced the timeout in: take it as the wake-up it is.
        }
    }

    std::atomic<uint32_t> state_{0};
};

}  // namespace pollux
