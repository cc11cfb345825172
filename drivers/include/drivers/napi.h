// Napi: a receive context after Linux's struct napi_struct (net/core/dev.c).
//
// A device queue's interrupt (a real IRQ, a TAP descriptor turning readable, a wire delivery)
// calls schedule(), which masks the source and hands the context to the runner once; the runner
// calls poll(budget) again and again while a poll uses its whole budget. A poll that does less
// has drained the queue: like Linux's napi_complete_done(), the driver's poll itself calls
// complete() to clear the mark and re-arm the interrupt, then re-checks its ring (the race virtio
// documents) and schedules again if work slipped in. Busy polling claim()s an idle context and
// calls poll() from the thread that would otherwise sleep.
//
// Every context has a process-wide id (>= 1, as Linux's napi ids, which start above
// MIN_NAPI_ID) so sockets can remember where their traffic arrives and eventpoll can spin it.
#pragma once

#include <atomic>
#include <cstdint>

#include "kstd/list.h"

namespace pollux::net {

class Napi {
public:
    // poll(budget) returns the frames it handled (<= budget); irq_enable re-arms the source.
    using PollFn = int (*)(Napi& napi, int budget);
    using IrqFn = void (*)(Napi& napi, bool enable);

    Napi(PollFn poll, IrqFn irq, void* owner);
    ~Napi();
    Napi(const Napi&) = delete;
    Napi& operator=(const Napi&) = delete;

    unsigned id() const { return id_; }
    void* owner() const { return owner_; }

    // From the interrupt side: masks the source and queues the context to the runner. Returns
    // false if it was already scheduled.
    bool schedule();
    // From the driver's poll, when it did less than its budget: clears the scheduled mark and
    // unmasks the source.
    void complete();
    // Busy poll: takes an idle context (masking its source) without the runner. False if it is
    // scheduled already (the runner owns it). After a claimed poll that used its whole budget
    // the caller hands it to the runner with handoff().
    bool claim();
    void handoff();
    int poll(int budget) { return poll_(*this, budget); }
    bool scheduled() const { return state_.load(std::memory_order_acquire) != 0; }

    kstd::ListNode runner_link;  // owned by the runner while scheduled
    std::atomic<uint64_t> polls{0}, interrupts{0}, busy_polls{0};

private:
    PollFn poll_;
    IrqFn irq_;
    void* owner_;
    unsigned id_;
    std::atomic<uint32_t> state_{0};
};

// The runner (the stack's net-rx context) registers how a scheduled context reaches it.
using NapiRunner = void (*)(Napi& napi);
void napi_set_runner(NapiRunner runner);

// The context with this id, or null (busy poll looks contexts up by a socket's napi id). The
// pointer stays valid until the context is destroyed; contexts live as long as their device.
Napi* napi_by_id(unsigned id);

}  // namespace pollux::net
