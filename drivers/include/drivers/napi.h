// Napi: a receive context after Linux's struct napi_struct (net/core/dev.c).
//
// A device queue's interrupt (a real IRQ, a TAP descriptor turning readable, a wire delivery)
// calls schedule(), which marks the context and hands it to the runner once; the runner calls
// poll(budget) until a poll does less than its budget, then complete() re-arms the interrupt. The
// driver's poll must re-check its ring after re-arming (the race virtio documents) and schedule
// again if work slipped in. Busy polling calls poll() directly from the thread that would sleep.
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
    // From the runner, when a poll did less than its budget: clears the scheduled mark and
    // unmasks the source.
    void complete();
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
