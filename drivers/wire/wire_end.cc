// WireEnd: one end of the test wire (see drivers/wire.h for the model and its locking).
//
// Transmit runs the faults in a fixed order of draws (loss, corrupt, duplicate, reorder,
// jitter), each drawn only when its probability is non-zero, so a seed and a frame sequence
// give the same faults on every compiler. Invariant: pending_ holds exactly the frames in
// flight toward this end, ordered by (due, seq); seq is unique per end, so FIFO breaks ties.
#include <cstdlib>
#include <cstring>
#include <new>

#include "drivers/wire.h"

namespace pollux::wire {

namespace {

constexpr size_t kEthHeader = 14;
constexpr int kDeliverBatch = 32;  // frames taken off pending_ per rx_lock_ hold

void free_frame(WireFrame* frame) {
    frame->~WireFrame();
    std::free(frame);
}

// RxBuf::release: any thread, any time, even after the link is gone.
void release_frame(net::RxBuf* buf) { free_frame(static_cast<WireFrame*>(buf->driver_private)); }

WireFrame* alloc_frame(size_t len) {
    void* memory = std::malloc(sizeof(WireFrame) + len);
    if (memory == nullptr) return nullptr;
    auto* frame = new (memory) WireFrame;
    frame->rx.data = frame->bytes();
    frame->rx.len = static_cast<uint32_t>(len);
    frame->rx.release = release_frame;
    frame->rx.driver_private = frame;
    return frame;
}

// Time on the wire at rate_bps, rounded up so back-to-back frames never beat the rate.
uint64_t serialisation_ns(size_t len, uint64_t rate_bps) {
    uint64_t bits_ns = static_cast<uint64_t>(len) * 8 * 1'000'000'000ull;
    return (bits_ns + rate_bps - 1) / rate_bps;
}

}  // namespace

WireEnd::WireEnd(WireLink& link, int index)
    : link_(link),
      index_(index),
      napi_(napi_poll, nullptr, this),
      timer_(this),
      prng_(link.config().seed, static_cast<uint64_t>(index)) {
    unsigned n = link.number();
    mac_ = {0x02, 0x00, 0x00, static_cast<uint8_t>(n >> 8), static_cast<uint8_t>(n), static_cast<uint8_t>(index)};
    // "wire<n>-<index>", without snprintf: the core has no stdio.
    char digits[8];
    int len = 0;
    do {
        digits[len++] = static_cast<char>('0' + n % 10);
        n /= 10;
    } while (n != 0);
    char* out = name_;
    for (const char* p = "wire"; *p != '\0'; ++p) *out++ = *p;
    while (len > 0) *out++ = digits[--len];
    *out++ = '-';
    *out++ = static_cast<char>('0' + index);
    *out = '\0';
}

WireEnd::~WireEnd() {
    timer_cancel(timer_);
    LockGuard guard(rx_lock_);
    while (WireFrame* frame = pending_.first()) {
        pending_.erase(*frame);
        free_frame(frame);
    }
}

uint16_t WireEnd::mtu() const { return link_.config().mtu; }
uint32_t WireEnd::features() const { return link_.config().features; }

WireEnd& WireEnd::peer() { return link_.end(&link_.end(0) == this ? 1 : 0); }

size_t WireEnd::in_flight() const {
    LockGuard guard(rx_lock_);
    return pending_.size();
}

net::DeviceCounters WireEnd::counters() const {
    return live_.snapshot(polls_.load(std::memory_order_relaxed), napi_.interrupts.load(std::memory_order_relaxed),
                          napi_.busy_polls.load(std::memory_order_relaxed));
}

WireStats WireEnd::stats() const {
    WireStats s;
    s.lost = lost_.load(std::memory_order_relaxed);
    s.corrupted = corrupted_.load(std::memory_order_relaxed);
    s.duplicated = duplicated_.load(std::memory_order_relaxed);
    s.reordered = reordered_.load(std::memory_order_relaxed);
    s.queue_drops = queue_drops_.load(std::memory_order_relaxed);
    return s;
}

int WireEnd::transmit(const net::TxFrame* frames, int count) {
    const WireConfig& config = link_.config();
    WireEnd& to = peer();
    int sent = 0;
    bool wake = false;
    {
        LockGuard guard(tx_lock_);
        for (int i = 0; i < count; ++i) {
            const net::TxFrame& tx = frames[i];
            if (tx.len == 0 || tx.len > config.mtu + kEthHeader) {
                live_.tx_dropped.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            // Only this end's senders (serialised by tx_lock_) add to to.pending_, so room seen
            // here is room at enqueue. A tail drop never reaches the wire: it costs no link time.
            if (to.in_flight() >= config.queue_limit) {
                queue_drops_.fetch_add(1, std::memory_order_relaxed);
                live_.tx_dropped.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            WireFrame* frame = gather(tx);
            if (frame == nullptr) {
                live_.tx_dropped.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            ++sent;
            live_.tx_packets.fetch_add(1, std::memory_order_relaxed);
            live_.tx_bytes.fetch_add(tx.len, std::memory_order_relaxed);
            wake |= send(frame, link_.now());
        }
    }
    // One doorbell per burst, rung after tx_lock_ is dropped: a runner that polls inline may
    // have the stack answer through this very end.
    if (wake) to.napi_.schedule();
    return sent;
}

// The "DMA": the frame's segments into one buffer. Null if they do not add up to its length.
WireFrame* WireEnd::gather(const net::TxFrame& tx) {
    WireFrame* frame = alloc_frame(tx.len);
    if (frame == nullptr) return nullptr;
    size_t at = 0;
    for (int s = 0; s < tx.nsegs; ++s) {
        if (tx.segs[s].len > tx.len - at) break;
        std::memcpy(frame->bytes() + at, tx.segs[s].data, tx.segs[s].len);
        at += tx.segs[s].len;
    }
    if (at != tx.len) {
        free_frame(frame);
        return nullptr;
    }
    return frame;
}

// Returns whether the peer has a frame due now (its NAPI context wants scheduling).
bool WireEnd::send(WireFrame* frame, uint64_t now) {
    const WireConfig& config = link_.config();
    WireEnd& to = peer();
    uint32_t len = frame->rx.len;
    // A frame lost on the wire still took its time on it.
    uint64_t depart = now;
    if (config.rate_bps != 0) {
        busy_until_ = (busy_until_ > now ? busy_until_ : now) + serialisation_ns(len, config.rate_bps);
        depart = busy_until_;
    }
    if ((config.drop != nullptr && config.drop(config.drop_ctx, index_, frame->bytes(), len)) ||
        prng_.chance(config.loss)) {
        lost_.fetch_add(1, std::memory_order_relaxed);
        free_frame(frame);
        return false;
    }
    if (prng_.chance(config.corrupt)) {
        uint64_t byte = prng_.below(len);
        frame->bytes()[byte] ^= static_cast<uint8_t>(1u << prng_.below(8));
        corrupted_.fetch_add(1, std::memory_order_relaxed);
    }
    // Copied before the original is queued: from then on the peer may deliver and free it.
    WireFrame* copy = nullptr;
    if (prng_.chance(config.duplicate)) {
        copy = alloc_frame(len);
        if (copy != nullptr) {
            std::memcpy(copy->bytes(), frame->bytes(), len);
        } else {
            queue_drops_.fetch_add(1, std::memory_order_relaxed);
        }
    }
    bool reorder = prng_.chance(config.reorder);
    uint64_t due = depart + config.delay_ns;
    if (config.jitter_ns != 0) due += prng_.below(config.jitter_ns + 1);

    Enqueued original = to.enqueue(frame, due, reorder);
    if (!original.accepted) free_frame(frame);  // not reached: transmit() saw room for it
    if (original.reordered) reordered_.fetch_add(1, std::memory_order_relaxed);
    if (copy == nullptr) return original.due_now;
    Enqueued second = to.enqueue(copy, due, false);
    if (second.accepted) {
        duplicated_.fetch_add(1, std::memory_order_relaxed);
    } else {
        queue_drops_.fetch_add(1, std::memory_order_relaxed);
        free_frame(copy);
    }
    return original.due_now || second.due_now;
}

// Puts a frame in flight toward this end. `reorder` holds back the latest frame in flight
// behind this one (it takes this frame's due time and a later place), as a frame that swapped
// places with its predecessor; no frame ever arrives before its own due time. Not accepted
// (and nothing changed) if the queue is full.
WireEnd::Enqueued WireEnd::enqueue(WireFrame* frame, uint64_t due, bool reorder) {
    Enqueued result;
    LockGuard guard(rx_lock_);
    if (pending_.size() >= link_.config().queue_limit) return result;
    result.accepted = true;
    frame->due = due;
    frame->seq = next_seq_++;
    WireFrame* last = reorder ? pending_.last() : nullptr;
    if (last != nullptr && last->due <= due) {
        pending_.erase(*last);
        last->due = due;
        last->seq = next_seq_++;
        pending_.insert(*last);
        result.reordered = true;
    }
    pending_.insert(*frame);
    result.due_now = due_locked(link_.now());
    return result;
}

// True if the earliest frame is due: the caller schedules NAPI once rx_lock_ is dropped (the
// runner takes locks of its own). Otherwise, in real time, makes sure the timer fires by the
// earliest due time; in virtual time run_expired() stands in for the timer.
bool WireEnd::due_locked(uint64_t now) {
    WireFrame* first = pending_.first();
    if (first == nullptr) return false;
    if (first->due <= now) return true;
    if (link_.real_time() && (timer_deadline_ == 0 || first->due < timer_deadline_)) {
        timer_deadline_ = first->due;
        timer_arm(timer_, first->due);
    }
    return false;
}

void WireEnd::check_due(bool timer_fired) {
    bool schedule;
    {
        LockGuard guard(rx_lock_);
        if (timer_fired) timer_deadline_ = 0;
        schedule = due_locked(link_.now());
    }
    if (schedule) napi_.schedule();
}

void WireEnd::timer_fired(Timer& timer) { static_cast<DueTimer&>(timer).end->check_due(true); }

// Every frame counts against the budget, dropped or not: the budget bounds the poll's time.
int WireEnd::deliver(int budget) {
    net::RxSink* sink = sink_.load(std::memory_order_acquire);
    int done = 0;
    while (done < budget) {
        WireFrame* batch[kDeliverBatch];
        int want = budget - done < kDeliverBatch ? budget - done : kDeliverBatch;
        int n = 0;
        {
            uint64_t now = link_.now();
            LockGuard guard(rx_lock_);
            while (n < want) {
                WireFrame* first = pending_.first();
                if (first == nullptr || first->due > now) break;
                pending_.erase(*first);
                batch[n++] = first;
            }
        }
        if (n == 0) break;
        for (int i = 0; i < n; ++i) {
            WireFrame* frame = batch[i];
            if (sink == nullptr) {
                live_.rx_dropped.fetch_add(1, std::memory_order_relaxed);
                free_frame(frame);
                continue;
            }
            frame->rx.napi_id = napi_.id();
            live_.rx_packets.fetch_add(1, std::memory_order_relaxed);
            live_.rx_bytes.fetch_add(frame->rx.len, std::memory_order_relaxed);
            sink->receive(&frame->rx);
        }
        done += n;
    }
    return done;
}

// As napi_complete_done(): a poll that did less than its budget completes, then looks again,
// because a frame that fell due between the last look and complete() found the context still
// scheduled and did not schedule it (and the timer may have been spent on the same race).
int WireEnd::napi_poll(net::Napi& napi, int budget) {
    auto* end = static_cast<WireEnd*>(napi.owner());
    end->polls_.fetch_add(1, std::memory_order_relaxed);
    int done = end->deliver(budget);
    if (done < budget) {
        napi.complete();
        end->check_due(false);
    }
    return done;
}

}  // namespace pollux::wire
