#include "sched/futex.h"

#include <linux/errno.h>

#include "sched/irq_guard.h"
#include "sched/scheduler.h"

namespace pollux::sched {
namespace {

// One list for every key, in arrival order (FIFO wake-ups, as Linux's plist gives equal
// priorities). Linear, which is fine for the handful of waiters of one application; a hash of
// buckets like Linux's futex_queues is the change when that stops being true.
Thread* waiters = nullptr;

void remove_waiter(Thread* t) {
    for (Thread** p = &waiters; *p; p = &(*p)->wait_next) {
        if (*p == t) {
            *p = t->wait_next;
            t->wait_next = nullptr;
            return;
        }
    }
}

bool is_waiting(Thread* t) {
    for (Thread* w = waiters; w; w = w->wait_next)
        if (w == t) return true;
    return false;
}

}  // namespace

int futex_wait(const volatile uint32_t* word, uint32_t expected, uint32_t bitset, uint64_t deadline_ns,
               bool interruptible) {
    IrqGuard guard;
    if (*word != expected) return -EAGAIN;
    Thread* self = current();
    if (interruptible && self->sigpending) return -EINTR;
    self->wait_key = uintptr_t(word);
    self->wait_bitset = bitset;
    self->wait_next = nullptr;
    Thread** tail = &waiters;
    while (*tail) tail = &(*tail)->wait_next;
    *tail = self;
    int r = interruptible ? block_interruptible(deadline_ns) : (block(deadline_ns) ? 0 : -ETIMEDOUT);
    if (is_waiting(self)) remove_waiter(self);  // the deadline or a signal came first
    return r;
}

int futex_wake(const volatile void* word, int count, uint32_t bitset) {
    IrqGuard guard;
    int n = 0;
    for (Thread** p = &waiters; *p && n < count;) {
        Thread* t = *p;
        if (t->wait_key == uintptr_t(word) && (t->wait_bitset & bitset)) {
            *p = t->wait_next;
            t->wait_next = nullptr;
            wake(t);
            ++n;
        } else {
            p = &t->wait_next;
        }
    }
    return n;
}

}  // namespace pollux::sched
