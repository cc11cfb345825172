// wait_event(): block the calling thread on a wait queue until a condition holds.
//
// After Linux's ___wait_event(): the entry is queued *before* the condition is tested, so a
// wake-up between the test and the sleep leaves a token in the Parker and is never lost.
// The condition runs with no lock of ours held; it takes whatever locks it needs.
#pragma once

#include <linux/errno.h>

#include <cstdint>

#include "eventpoll/wait_queue.h"
#include "kernel/parker.h"

namespace pollux {

// Returns 0 once cond() is true, -ETIMEDOUT at the deadline (0: none), -EINTR if a signal
// interrupted the sleep. Exclusive waiters are woken one per wake-up (Linux pipes' readers).
template <typename Cond>
int wait_event(WaitQueueHead& wq, Cond cond, uint64_t deadline_ns, bool exclusive = false) {
    Parker parker;
    WaitQueueEntry wait(default_wake_function, &parker);
    if (exclusive) {
        wq.add_exclusive(wait);
    } else {
        wq.add(wait);
    }
    int result = 0;
    for (;;) {
        if (cond()) break;
        platform::WaitStatus status = parker.park(deadline_ns, /*poll_first=*/true);
        if (status == platform::WaitStatus::timed_out) {
            result = cond() ? 0 : -ETIMEDOUT;
            break;
        }
        if (status == platform::WaitStatus::interrupted) {
            result = cond() ? 0 : -EINTR;
            break;
        }
    }
    wq.remove(wait);
    return result;
}

}  // namespace pollux
