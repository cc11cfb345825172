// The network stack's core: one lwIP instance, its lock, its timers and its receive context.
//
// lwIP runs with NO_SYS=1, so it is one big critical section: every call into it, every NAPI
// poll that feeds it, and every socket operation holds `stack_lock` (Linux's per-socket locks
// would buy parallelism we cannot use on one vCPU; the hosted runtime's threads serialise here).
// Lock order: stack_lock, then a wait queue's lock, then an eventpoll's lock (wake-ups run inside
// lwIP callbacks). Never drop the last reference to a File while holding stack_lock: its
// release may need eventpoll's mutex, which is taken before stack_lock by epoll_ctl's poll.
#pragma once

#include <cstdint>

#include "kernel/annotations.h"
#include "kernel/mutex.h"

struct tcp_pcb;  // lwIP's

namespace pollux::net {

extern Mutex stack_lock;

// For code lwIP calls back into (it only ever runs with stack_lock held): tells the
// thread-safety analysis so.
inline void stack_lock_held() ASSERT_CAPABILITY(stack_lock) {}

// Holds stack_lock; on release, re-arms the lwIP timer if lwIP asked for an earlier one.
class SCOPED_CAPABILITY StackGuard {
public:
    StackGuard() ACQUIRE(stack_lock);
    ~StackGuard() RELEASE();
    StackGuard(const StackGuard&) = delete;
    StackGuard& operator=(const StackGuard&) = delete;
};

// The NAPI context whose frame lwIP is processing, so sockets can remember where their traffic
// arrives (sk_mark_napi_id); 0 for packets that came from no device (loopback).
extern unsigned current_rx_napi_id GUARDED_BY(stack_lock);

// Initialises lwIP, the loopback interface, the timer and the net-rx context. Idempotent and
// thread-safe; every entry point of the socket layer calls it.
void stack_init();

// The platform's network bring-up (hosted: the NIC the environment names), run once by the
// first stack_init() after lwIP is up. Registered before any socket exists.
void stack_set_bringup(void (*bringup)());

// Counters of the receive context, for /proc-style reports and the busy-poll tests.
struct StackCounters {
    uint64_t napi_polls = 0;        // runner polls
    uint64_t busy_poll_rounds = 0;  // polls made by busy-polling threads
    uint64_t softirq_polls = 0;     // polls made by threads leaving the stack (see stack.cc)
};
StackCounters stack_counters();

// Busy poll: polls the NAPI context `napi_id` once with `budget` from the calling thread, if
// it is idle (not owned by the net-rx runner). Returns true if it polled.
bool stack_busy_poll(unsigned napi_id, int budget);

// Linux's sk_stream_closing(): the connection sent its FIN and the peer has not acknowledged it
// yet (FIN_WAIT_1, CLOSING, LAST_ACK).
bool tcp_fin_unacked(const tcp_pcb& pcb);
// How many connections are so: what a machine about to power off waits for, so that its peers
// see the close.
int tcp_fins_in_flight();

}  // namespace pollux::net
