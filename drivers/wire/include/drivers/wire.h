// The test wire: an in-memory Ethernet link between two NetDevices in one process, with
// seeded fault injection (loss, corruption, duplication, reordering, delay, jitter, a rate cap),
// so that two hosts' stacks can talk through a link as bad as a test wants, reproducibly.
//
// A frame sent on one end is copied into one buffer (the "DMA"), run past the faults and put
// in the other end's pending tree, ordered by due time (FIFO among equal times). The receiving
// end's NAPI poll hands due frames to the stack as RxBufs living in that same allocation.
//
// Time. With the default clock (platform::monotonic_ns) the link runs in real time: a frame
// due later arms the kernel timer service, whose callback schedules the NAPI context. Any
// other clock is virtual: the kernel timer (which counts CLOCK_MONOTONIC) is never armed; a
// test moves its clock and calls WireLink::run_expired(), which does what the timer would.
//
// Locking: transmit() on one end, the NAPI poll of the other and the timer callback may all
// run on different threads. Each end's tx_lock_ serialises its senders (the PRNG, the rate
// cap's "busy until") and covers allocation and the copy; each end's rx_lock_ guards the frames
// in flight toward it and its timer bookkeeping, and is held only for tree operations. Order:
// a sender's tx_lock_, then the peer's rx_lock_, then the timer service's lock (timer_arm runs
// under rx_lock_ so that two arms cannot cross). Neither lock is held across a call into the
// stack (RxSink::receive) or the NAPI runner (Napi::schedule). RxBuf::release() touches nothing
// of the link: a delivered frame may outlive it, and may be released from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "drivers/napi.h"
#include "drivers/net_device.h"
#include "drivers/wire_prng.h"
#include "kernel/spin_lock.h"
#include "kernel/timer.h"
#include "kstd/rbtree.h"
#include "kstd/result.h"

namespace pollux::wire {

struct WireConfig {
    uint64_t seed = 1;
    double loss = 0, reorder = 0, duplicate = 0, corrupt = 0;  // probabilities per frame
    uint64_t delay_ns = 0;
    uint64_t jitter_ns = 0;  // each frame waits delay + uniform [0, jitter]
    uint64_t rate_bps = 0;   // 0: unlimited
    uint16_t mtu = 1500;
    uint32_t features = 0;
    size_t queue_limit = 4096;  // frames in flight per direction; beyond: tail drop, counted
    // A test's own losses: asked about every frame put on the wire (from_end 0 or 1), before
    // the random faults; true loses the frame (counted in lost). Runs under the sender's lock.
    bool (*drop)(void* ctx, int from_end, const uint8_t* frame, size_t len) = nullptr;
    void* drop_ctx = nullptr;
};

// "loss=0.05,reorder=0.05,dup=0.01,corrupt=0.001,delay=200us,jitter=50us,rate=1g,seed=7,
// mtu=9000,limit=512,features=3". Probabilities are 0..1 or a percentage ("5%"); times take
// ns/us/ms/s (a bare number is ns); rates are bit/s with an optional k/m/g (powers of 1000).
// Anything else, including an empty spec, is EINVAL.
kstd::Result<WireConfig> parse_wire_config(const char* spec);

// Faults applied to frames, per sending direction or summed over both.
struct WireStats {
    uint64_t lost = 0, corrupted = 0, duplicated = 0, reordered = 0, queue_drops = 0;
};

// One allocation per frame: the RxBuf the stack holds and the bytes after it, so a frame the
// stack keeps needs nothing else of the link.
struct WireFrame {
    net::RxBuf rx;
    kstd::RbNode node;  // in the receiving end's pending tree
    uint64_t due = 0;
    uint64_t seq = 0;
    uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this + 1); }
};

class WireLink;

class WireEnd final : public net::NetDevice {
public:
    WireEnd(WireLink& link, int index);
    ~WireEnd() override;
    WireEnd(const WireEnd&) = delete;
    WireEnd& operator=(const WireEnd&) = delete;

    const char* name() const override { return name_; }
    std::array<uint8_t, 6> mac() const override { return mac_; }
    uint16_t mtu() const override;
    uint32_t features() const override;
    // Returns the frames put on the wire (lost ones included: the loss happens on the wire);
    // frames too long for the MTU, or meeting a full queue, count in tx_dropped.
    int transmit(const net::TxFrame* frames, int count) override;
    void attach(net::RxSink* sink) override { sink_.store(sink, std::memory_order_release); }
    net::DeviceCounters counters() const override;

    net::Napi& napi() { return napi_; }
    size_t in_flight() const;  // frames pending toward this end
    WireStats stats() const;   // faults applied to frames this end sent

private:
    friend class WireLink;
    struct PendingOrder {
        struct Key {
            uint64_t due, seq;
        };
        static Key key_of(const WireFrame& f) { return {f.due, f.seq}; }
        static int compare(const Key& a, const Key& b) {
            if (a.due != b.due) return a.due < b.due ? -1 : 1;
            return a.seq < b.seq ? -1 : (a.seq > b.seq ? 1 : 0);
        }
    };
    struct DueTimer : Timer {
        explicit DueTimer(WireEnd* e) : Timer(timer_fired), end(e) {}
        WireEnd* end;
    };
    struct Enqueued {
        bool accepted = false, reordered = false, due_now = false;
    };

    WireEnd& peer();
    WireFrame* gather(const net::TxFrame& frame);
    bool send(WireFrame* frame, uint64_t now) REQUIRES(tx_lock_);
    Enqueued enqueue(WireFrame* frame, uint64_t due, bool reorder) EXCLUDES(rx_lock_);
    bool due_locked(uint64_t now) REQUIRES(rx_lock_);
    void check_due(bool timer_fired) EXCLUDES(rx_lock_);
    int deliver(int budget) EXCLUDES(rx_lock_);
    static int napi_poll(net::Napi& napi, int budget);
    static void timer_fired(Timer& timer);

    WireLink& link_;
    int index_;
    char name_[16] = {};
    std::array<uint8_t, 6> mac_{};
    std::atomic<net::RxSink*> sink_{nullptr};
    net::Napi napi_;
    DueTimer timer_;

    SpinLock tx_lock_;
    WirePrng prng_ GUARDED_BY(tx_lock_);
    uint64_t busy_until_ GUARDED_BY(tx_lock_) = 0;  // rate cap: when the last frame is fully sent

    mutable SpinLock rx_lock_;
    kstd::RbTree<WireFrame, &WireFrame::node, PendingOrder> pending_ GUARDED_BY(rx_lock_);
    uint64_t next_seq_ GUARDED_BY(rx_lock_) = 0;
    uint64_t timer_deadline_ GUARDED_BY(rx_lock_) = 0;  // 0: timer not armed

    net::LiveCounters live_;
    std::atomic<uint64_t> polls_{0};
    std::atomic<uint64_t> lost_{0}, corrupted_{0}, duplicated_{0}, reordered_{0}, queue_drops_{0};
};

class WireLink {
public:
    using Clock = uint64_t (*)();

    // MACs are 02:00:00:LL:LL:0i (locally administered, LL a process-wide link number), names
    // "wireL-i". Each end holds a Napi, and napi.cc has room for 64 in a process.
    explicit WireLink(const WireConfig& config, Clock now_ns = platform::monotonic_ns);
    // Cancels the timers and frees the frames in flight; frames the stacks hold stay valid
    // until released. Detach both ends from the stack (and its NAPI runner) first.
    ~WireLink();
    WireLink(const WireLink&) = delete;
    WireLink& operator=(const WireLink&) = delete;

    WireEnd& end(int i) { return ends_[i & 1]; }
    const WireConfig& config() const { return config_; }
    uint64_t now() const { return now_(); }
    bool real_time() const { return real_time_; }
    unsigned number() const { return number_; }
    // Virtual time: after moving the clock, schedules each end whose earliest frame is due.
    void run_expired();
    WireStats stats() const;
    WireStats stats(int from_end) const { return ends_[from_end & 1].stats(); }

private:
    WireConfig config_;
    Clock now_;
    bool real_time_;
    unsigned number_;
    WireEnd ends_[2];
};

}  // namespace pollux::wire
