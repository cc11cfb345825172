// VirtioNet: a virtio network device (virtio 1.1, 5.1) as a net::NetDevice, on any Transport.
//
// Features: VERSION_1 (required), MAC, STATUS, MRG_RXBUF and the ring's EVENT_IDX where the
// device offers them. Not CSUM / GUEST_CSUM: the stack computes and checks checksums itself,
// so features() is 0 and every header we send is all zeroes.
//
// RX: a pool of 2 KiB buffers, all posted to queue 0, one descriptor each (VERSION_1 lets the
// header and the frame share it). A completion becomes the buffer's RxBuf, handed to the sink
// zero-copy with `data` just past the 12-byte header. A frame the device spread over several
// buffers (num_buffers > 1 under MRG_RXBUF; it never does for 2 KiB buffers without GUEST_TSO)
// is dropped and counted, buffers and all.
// RxBuf::release() may run on any thread at any time: it only pushes the buffer on a lock-free
// list, and the next poll reposts what is there. If the ring ran dry (every buffer lent to the
// stack, so no interrupt can come), release() schedules the NAPI context to refill it.
//
// TX: the interface gives no completion back to the stack, so a frame's segments may be gone
// when transmit() returns: each frame is copied with its header into a TX bounce buffer, one
// descriptor per frame. One notification per transmit() batch that queued a frame, even when
// the device's EVENT_IDX avail_event (or NO_NOTIFY flag) says it needs none: with QEMU 7.2's
// virtio-net that suppression left frames unsent in the ring until the ring filled, about
// 800 ms under load (wrk's p99 at 32 connections, 7 boots in 10 here; 0 in 10 with every batch
// notified, and 0 in 6 with event_idx=off). Linux guests on the same QEMU hit the same stall as
// TX queue timeouts. The cost is one notification (an MMIO or port write) per batch.
// TX completions raise no interrupt: they are reclaimed in the NAPI poll and in transmit()
// when the ring is full. A transmit() that finds the ring full after reclaiming notifies the
// device regardless (a device that lost a notification cannot hold the queue stalled) and
// waits up to kTxFullWaitNs for a slot before it drops, as Linux stops the queue and keeps the
// packets in the qdisc, where lwIP has no queue below it: a dropped TCP segment costs a
// retransmission timeout. (The wait came with the stall above, whose full rings it did not
// cure; how often a ring still fills since every batch notifies is not measured.)
//
// Interrupts: the RX queue's MSI-X entry (or the shared line: INTx, MMIO) calls interrupt(),
// which schedules the Napi; its mask hook suppresses the queue's interrupts (flag or
// used_event). The poll re-enables them after doing less than its budget and then re-checks the
// used ring, rescheduling itself if an entry slipped in.
//
// Locking: transmit() and the poll run under the stack's lock (net_device.h); interrupt()
// touches only the Napi and, through its mask hook, the RX queue's suppression fields, and
// only while no poll runs (the Napi is idle). The device is never destroyed: buffers may be
// lent to the stack for as long as it likes.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "drivers/napi.h"
#include "drivers/net_device.h"
#include "drivers/virtio/dma.h"
#include "drivers/virtio/spec.h"
#include "drivers/virtio/transport.h"
#include "drivers/virtio/virtqueue.h"

namespace pollux::virtio {

struct VirtioNetOptions {
    uint16_t rx_buffers = 256;  // capped at the RX queue's size
    uint16_t tx_buffers = 256;  // likewise for TX
    uint16_t rx_vector = 0;     // MSI-X table entry of the RX queue (when the transport has MSI-X)
};

class VirtioNet final : public net::NetDevice {
public:
    // Resets and negotiates, sets the queues up and posts the RX buffers, then DRIVER_OK. Null
    // (with the device marked FAILED where it got that far) on any refusal or lack of memory;
    // `why` then says what.
    static VirtioNet* create(Transport& transport, Dma& dma, const char* name, const VirtioNetOptions& options,
                             const char** why);

    const char* name() const override { return name_; }
    std::array<uint8_t, 6> mac() const override { return mac_; }
    uint16_t mtu() const override { return 1500; }
    uint32_t features() const override { return 0; }
    // Frames longer than a bounce buffer holds are dropped and counted without stopping the
    // batch; the count returned is the frames queued.
    int transmit(const net::TxFrame* frames, int count) override;
    void attach(net::RxSink* sink) override { sink_.store(sink, std::memory_order_release); }
    net::DeviceCounters counters() const override;

    // The device's interrupt (any context). False when it was not the device's: on a shared
    // line (INTx, virtio-mmio), its ISR status said nothing was pending.
    bool interrupt();
    net::Napi& napi() { return napi_; }
    uint64_t negotiated_features() const { return features_; }
    bool link_up();

    // Diagnostics beyond DeviceCounters.
    uint64_t tx_notifications() const { return tx_kicks_; }
    // Notifications the device's suppression would have skipped.
    uint64_t tx_kicks_overridden() const { return tx_kicks_overridden_; }
    uint64_t tx_ring_full() const { return tx_full_; }
    uint16_t rx_queue_size() const { return rx_.size(); }
    uint16_t tx_queue_size() const { return tx_.size(); }

private:
    struct RxSlot;
    struct TxSlot;

    VirtioNet(Transport& transport, Dma& dma, const char* name);
    bool setup(const VirtioNetOptions& options, const char** why);
    static int napi_poll(net::Napi& napi, int budget);
    static void napi_irq(net::Napi& napi, bool enable);
    static void rx_release(net::RxBuf* buf);
    int receive_burst(int budget);
    void post_rx(RxSlot* slot);
    void refill_rx();
    void reclaim_tx();
    // The ring is full: notify, then reclaim until a slot frees or kTxFullWaitNs pass.
    bool wait_tx_slot();
    static constexpr uint64_t kTxFullWaitNs = 2'000'000;

    Transport& transport_;
    Dma& dma_;
    char name_[16] = {};
    std::array<uint8_t, 6> mac_{};
    uint64_t features_ = 0;
    bool isr_ack_ = false;  // a shared interrupt line: read the ISR to lower it
    uint32_t header_bytes_ = sizeof(VirtioNetHdr);
    Virtqueue rx_, tx_;
    net::Napi napi_;
    std::atomic<net::RxSink*> sink_{nullptr};
    std::atomic<RxSlot*> returned_{nullptr};  // released by the stack, not yet reposted
    std::atomic<uint32_t> rx_posted_{0};
    uint32_t rx_skip_ = 0;  // buffers still to drop of a frame that spanned several
    TxSlot* tx_slots_ = nullptr;
    uint16_t* tx_free_ = nullptr;  // stack of free TxSlot indices
    uint16_t tx_free_count_ = 0;
    uint64_t tx_kicks_ = 0, tx_full_ = 0, tx_kicks_overridden_ = 0;
    net::LiveCounters live_;
};

}  // namespace pollux::virtio
