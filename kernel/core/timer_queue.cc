// The timer service: see kernel/include/kernel/timer.h.
//
// Locking: queue_lock guards the tree and every queued Timer's fields; `running` names the
// timer whose callback is executing (so cancel can wait for it), also under queue_lock.
#include <cstdint>

#include "kernel/platform.h"
#include "kernel/spin_lock.h"
#include "kernel/timer.h"

namespace pollux {

namespace {

struct TimerKey {
    uint64_t deadline;
    uint64_t seq;
};

struct TimerTraits {
    using Key = TimerKey;
    static Key key_of(const Timer& t) { return {t.deadline, t.seq}; }
    static int compare(const Key& a, const Key& b) {
        if (a.deadline != b.deadline) return a.deadline < b.deadline ? -1 : 1;
        if (a.seq != b.seq) return a.seq < b.seq ? -1 : 1;
        return 0;
    }
};

struct TimerQueue {
    SpinLock lock;
    kstd::RbTree<Timer, &Timer::node, TimerTraits> tree GUARDED_BY(lock);
    uint64_t next_seq GUARDED_BY(lock) = 0;
    Timer* running GUARDED_BY(lock) = nullptr;
};

TimerQueue& queue() {
    static TimerQueue q;
    return q;
}

}  // namespace

void timer_arm(Timer& timer, uint64_t deadline_ns) {
    TimerQueue& q = queue();
    bool earliest;
    {
        LockGuard guard(q.lock);
        if (timer.queued) q.tree.erase(timer);
        timer.deadline = deadline_ns;
        timer.seq = q.next_seq++;
        timer.queued = q.tree.insert(timer);
        earliest = q.tree.first() == &timer;
    }
    if (earliest) platform::timer_deadline_changed();
}

bool timer_cancel(Timer& timer) {
    TimerQueue& q = queue();
    for (;;) {
        {
            LockGuard guard(q.lock);
            if (q.running != &timer) {
                bool was_queued = timer.queued;
                if (was_queued) q.tree.erase(timer);
                timer.queued = false;
                return was_queued;
            }
        }
        platform::yield();  // its callback runs on the timer context right now
    }
}

uint64_t timer_run_expired(uint64_t now_ns) {
    TimerQueue& q = queue();
    q.lock.lock();
    for (;;) {
        Timer* first = q.tree.first();
        if (first == nullptr) {
            q.lock.unlock();
            return 0;
        }
        if (first->deadline > now_ns) {
            uint64_t next = first->deadline;
            q.lock.unlock();
            return next;
        }
        q.tree.erase(*first);
        first->queued = false;
        q.running = first;
        q.lock.unlock();
        first->callback(*first);
        q.lock.lock();
        q.running = nullptr;
    }
}

uint64_t timer_next_deadline() {
    TimerQueue& q = queue();
    LockGuard guard(q.lock);
    Timer* first = q.tree.first();
    return first != nullptr ? first->deadline : 0;
}

}  // namespace pollux
