// NetDevice: the one interface between NIC drivers and the network stack.
//
// A driver knows frames, not protocols. TX takes a batch of frames, each a scatter-gather list
// of segments (the stack's pbuf chain, unflattened); RX hands the stack driver-owned buffers
// that the stack keeps zero-copy until it calls RxBuf::release(), which gives the buffer back to
// the driver's ring. Receive work is done in NAPI contexts (napi.h): an "interrupt" masks itself
// and schedules the context, the context's poll(budget) delivers up to `budget` frames.
//
// Locking: transmit() and the NAPI poll are called with the stack's lock held (one caller at a
// time); the driver's own interrupt side only touches its NAPI context and its own atomics.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace pollux::net {

// Offloads a device performs; the stack skips what the device does (per netif, lwIP's
// NETIF_CHECKSUM_* flags).
inline constexpr uint32_t kFeatTxChecksum = 1u << 0;  // device fills IP/TCP/UDP checksums
inline constexpr uint32_t kFeatRxChecksum = 1u << 1;  // device has verified received checksums

struct TxSeg {
    const void* data;
    size_t len;
};

// One frame to send: `nsegs` segments totalling `len` bytes (Ethernet header included, no FCS).
struct TxFrame {
    const TxSeg* segs;
    int nsegs;
    size_t len;
};

// A received frame in driver memory. `stack_private` is room the stack uses to wrap the buffer
// (lwIP's pbuf_custom) without allocating; the driver never touches it.
struct RxBuf {
    uint8_t* data = nullptr;
    uint32_t len = 0;
    unsigned napi_id = 0;                 // the context that received it (busy poll, SO_INCOMING_NAPI_ID)
    // The driver's pool is running low: the stack copies the frame and releases the buffer at
    // once instead of keeping it zero-copy. Zero-copy buffers wait in socket queues until the
    // application reads; a server that stops reading while it cannot write would otherwise hold
    // every buffer, and then the ACKs that would let it write are dropped for want of one: a
    // deadlock broken only by timeouts. (Linux's drivers refill from the page allocator, and
    // tcp_collapse compacts such queues.)
    bool copy_now = false;
    void (*release)(RxBuf* buf) = nullptr;  // returns the buffer to its driver; runs exactly once
    void* driver_private = nullptr;
    alignas(16) unsigned char stack_private[64];
};

// Where a driver delivers received frames: the stack's netif glue.
class RxSink {
public:
    virtual void receive(RxBuf* buf) = 0;

protected:
    ~RxSink() = default;
};

struct DeviceCounters {
    uint64_t rx_packets = 0, rx_bytes = 0, rx_dropped = 0;
    uint64_t tx_packets = 0, tx_bytes = 0, tx_dropped = 0;
    uint64_t polls = 0, interrupts = 0, busy_polls = 0;
};

// What a driver counts as it goes (any thread); counters() snapshots it.
struct LiveCounters {
    std::atomic<uint64_t> rx_packets{0}, rx_bytes{0}, rx_dropped{0};
    std::atomic<uint64_t> tx_packets{0}, tx_bytes{0}, tx_dropped{0};

    DeviceCounters snapshot(uint64_t polls, uint64_t interrupts, uint64_t busy_polls) const {
        DeviceCounters c;
        c.rx_packets = rx_packets.load(std::memory_order_relaxed);
        c.rx_bytes = rx_bytes.load(std::memory_order_relaxed);
        c.rx_dropped = rx_dropped.load(std::memory_order_relaxed);
        c.tx_packets = tx_packets.load(std::memory_order_relaxed);
        c.tx_bytes = tx_bytes.load(std::memory_order_relaxed);
        c.tx_dropped = tx_dropped.load(std::memory_order_relaxed);
        c.polls = polls;
        c.interrupts = interrupts;
        c.busy_polls = busy_polls;
        return c;
    }
};

class NetDevice {
public:
    virtual ~NetDevice() = default;
    virtual const char* name() const = 0;
    virtual std::array<uint8_t, 6> mac() const = 0;
    virtual uint16_t mtu() const = 0;  // IP MTU, Ethernet header not included
    virtual uint32_t features() const = 0;
    // Queues the frames for transmission and rings the doorbell once. Returns how many frames
    // were taken; the rest are dropped and counted in tx_dropped (a full ring is not an error the
    // stack can fix: TCP retransmits, as over a lossy link).
    virtual int transmit(const TxFrame* frames, int count) = 0;
    // The stack attaches itself before the device is started; frames arrive only afterwards.
    virtual void attach(RxSink* sink) = 0;
    virtual DeviceCounters counters() const = 0;
};

}  // namespace pollux::net
