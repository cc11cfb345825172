// The timer service: one queue of absolute CLOCK_MONOTONIC deadlines for the whole core.
//
// Callbacks run in the platform's timer context (hosted: the timer thread; unikernel: the
// LAPIC timer's soft-IRQ), without the queue lock, so they may take other locks and wake
// wait queues. Locking: queue_lock guards every Timer's node/deadline/queued and the tree;
// a callback's own object is the caller's to protect.
#pragma once

#include <cstdint>

#include "kstd/rbtree.h"

namespace pollux {

struct Timer {
    using Callback = void (*)(Timer&);
    explicit Timer(Callback cb) : callback(cb) {}
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    Callback callback;
    kstd::RbNode node;
    uint64_t deadline = 0;
    uint64_t seq = 0;     // ties on deadline fire in arming order
    bool queued = false;
};

// Arms (or re-arms) the timer for an absolute monotonic deadline.
void timer_arm(Timer& timer, uint64_t deadline_ns);
// Disarms; if the callback is running on another thread, waits until it returns, as
// hrtimer_cancel does. Never call it from the timer's own callback. True if it was pending.
bool timer_cancel(Timer& timer);
// Runs every callback due at now_ns; returns the next deadline, or 0 if the queue is empty.
uint64_t timer_run_expired(uint64_t now_ns);
uint64_t timer_next_deadline();

}  // namespace pollux
