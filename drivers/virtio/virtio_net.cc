// VirtioNet: bring-up (3.1.1's initialization sequence) and the transmit side.
#include <cstring>
#include <new>

#include "drivers/virtio/virtio_net.h"
#include "kernel/platform.h"
#include "virtio_net_slots.h"

namespace pollux::virtio {

namespace {

// What we can use; the device's offer decides the rest (5.1.3, 6).
constexpr uint64_t kWantedFeatures = feature(kFeatVersion1) | feature(kNetFeatMac) | feature(kNetFeatStatus) |
                                     feature(kNetFeatMrgRxbuf) | feature(kFeatRingEventIdx);
// A locally administered address for a device without F_MAC.
constexpr std::array<uint8_t, 6> kFallbackMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

uint16_t pick_size(uint16_t device_max, uint16_t wanted) {
    uint16_t size = 1;
    while (size * 2u <= device_max && size < wanted) size = uint16_t(size * 2);
    return size;
}

}  // namespace

VirtioNet::VirtioNet(Transport& transport, Dma& dma, const char* name)
    : transport_(transport), dma_(dma), napi_(&VirtioNet::napi_poll, &VirtioNet::napi_irq, this) {
    for (size_t i = 0; name[i] != 0 && i + 1 < sizeof name_; ++i) name_[i] = name[i];
}

VirtioNet* VirtioNet::create(Transport& transport, Dma& dma, const char* name, const VirtioNetOptions& options,
                             const char** why) {
    void* room = dma.alloc(sizeof(VirtioNet), alignof(VirtioNet));
    if (room == nullptr) {
        *why = "no memory for the device";
        return nullptr;
    }
    auto* dev = new (room) VirtioNet(transport, dma, name);
    if (!dev->setup(options, why)) {
        transport.set_status(uint8_t(transport.status() | kStatusFailed));
        return nullptr;  // the memory stays with the Dma (never freed); a failed probe is rare
    }
    return dev;
}

bool VirtioNet::setup(const VirtioNetOptions& options, const char** why) {
    if (!transport_.reset()) {
        *why = "the device did not reset";
        return false;
    }
    transport_.set_status(kStatusAcknowledge);
    transport_.set_status(kStatusAcknowledge | kStatusDriver);
    uint64_t offered = transport_.device_features();
    bool legacy = transport_.legacy();
    if ((offered & feature(kFeatVersion1)) == 0 && !legacy) {
        *why = "no VIRTIO_F_VERSION_1 (a legacy-only device)";
        return false;
    }
    features_ = offered & kWantedFeatures;
    transport_.set_driver_features(features_);
    // 5.1.6.1 (legacy): without VERSION_1 the header has num_buffers only with MRG_RXBUF.
    bool num_buffers = (features_ & (feature(kFeatVersion1) | feature(kNetFeatMrgRxbuf))) != 0;
    header_bytes_ = uint32_t(sizeof(VirtioNetHdr)) - (num_buffers ? 0 : sizeof(uint16_t));
    // A legacy device has no FEATURES_OK (3.1.2): the features hold once written.
    uint8_t features_ok = legacy ? 0 : kStatusFeaturesOk;
    transport_.set_status(kStatusAcknowledge | kStatusDriver | features_ok);
    if ((transport_.status() & features_ok) != features_ok) {
        *why = "the device refused our features";
        return false;
    }
    bool event_idx = (features_ & feature(kFeatRingEventIdx)) != 0;
    uint16_t rx_max = transport_.queue_max_size(kNetQueueRx), tx_max = transport_.queue_max_size(kNetQueueTx);
    // A legacy device's queues have its size and no other.
    uint16_t rx_size = legacy ? rx_max : pick_size(rx_max, options.rx_buffers);
    uint16_t tx_size = legacy ? tx_max : pick_size(tx_max, options.tx_buffers);
    if (rx_max == 0 || tx_max == 0 || !rx_.init(dma_, kNetQueueRx, rx_size, event_idx) ||
        !tx_.init(dma_, kNetQueueTx, tx_size, event_idx)) {
        *why = "no queue pair, or no memory for its rings";
        return false;
    }
    isr_ack_ = !transport_.has_msix();
    // TX completions are reclaimed by polling: that queue gets no MSI-X entry, and on a shared
    // line its interrupts are suppressed from the start.
    tx_.disable_interrupts();
    if (!transport_.queue_enable(rx_, options.rx_vector) || !transport_.queue_enable(tx_, kNoMsixVector)) {
        *why = "the device did not take the queues (or their MSI-X entry)";
        return false;
    }

    uint16_t rx_count = rx_.size(), tx_count = tx_.size();
    auto* rx_slots = static_cast<RxSlot*>(dma_.alloc(sizeof(RxSlot) * rx_count, alignof(RxSlot)));
    auto* rx_data = static_cast<uint8_t*>(dma_.alloc(size_t{kBufferBytes} * rx_count, 4096));
    tx_slots_ = static_cast<TxSlot*>(dma_.alloc(sizeof(TxSlot) * tx_count, alignof(TxSlot)));
    auto* tx_data = static_cast<uint8_t*>(dma_.alloc(size_t{kBufferBytes} * tx_count, 4096));
    tx_free_ = static_cast<uint16_t*>(dma_.alloc(sizeof(uint16_t) * tx_count, alignof(uint16_t)));
    if (rx_slots == nullptr || rx_data == nullptr || tx_slots_ == nullptr || tx_data == nullptr || tx_free_ == nullptr) {
        *why = "no memory for the buffers";
        return false;
    }
    for (uint16_t i = 0; i < tx_count; ++i) {
        tx_slots_[i].mem = tx_data + size_t{kBufferBytes} * i;
        tx_slots_[i].addr = dma_.device_address(tx_slots_[i].mem);
        tx_slots_[i].index = i;
        tx_free_[i] = i;
    }
    tx_free_count_ = tx_count;
    for (uint16_t i = 0; i < rx_count; ++i) {
        RxSlot* slot = new (&rx_slots[i]) RxSlot;
        slot->dev = this;
        slot->mem = rx_data + size_t{kBufferBytes} * i;
        slot->addr = dma_.device_address(slot->mem);
        slot->buf.release = &VirtioNet::rx_release;
        slot->buf.driver_private = slot;
        post_rx(slot);
    }

    if ((features_ & feature(kNetFeatMac)) != 0) {
        transport_.read_config(kNetCfgMac, mac_.data(), 6);
    } else {
        mac_ = kFallbackMac;
    }
    // 3.1.1 step 8; the device may now use the queues. The RX buffers are already there, so
    // tell it once.
    transport_.set_status(uint8_t(kStatusAcknowledge | kStatusDriver | features_ok | kStatusDriverOk));
    if (rx_.kick_prepare()) transport_.notify(kNetQueueRx);
    return true;
}

bool VirtioNet::link_up() {
    if ((features_ & feature(kNetFeatStatus)) == 0) return true;  // 5.1.4: then assume it is up
    uint16_t status = 0;
    transport_.read_config(kNetCfgStatus, &status, sizeof status);
    return (status & kNetStatusLinkUp) != 0;
}

void VirtioNet::reclaim_tx() {
    while (auto* slot = static_cast<TxSlot*>(tx_.pop_used(nullptr))) tx_free_[tx_free_count_++] = slot->index;
}

bool VirtioNet::wait_tx_slot() {
    ++tx_kicks_;
    transport_.notify(kNetQueueTx);
    uint64_t deadline = platform::monotonic_ns() + kTxFullWaitNs;
    do {
#if defined(__x86_64__)
        __builtin_ia32_pause();
#endif
        reclaim_tx();
        if (tx_free_count_ != 0) return true;
    } while (platform::monotonic_ns() < deadline);
    return false;
}

int VirtioNet::transmit(const net::TxFrame* frames, int count) {
    reclaim_tx();
    int queued = 0, i = 0;
    bool full = false;
    for (; i < count; ++i) {
        const net::TxFrame& frame = frames[i];
        if (frame.len > kBufferBytes - header_bytes_) {
            live_.tx_dropped.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        if (tx_free_count_ == 0) reclaim_tx();
        if (tx_free_count_ == 0) {
            ++tx_full_;
            if (!wait_tx_slot()) {
                full = true;
                break;
            }
        }
        TxSlot& slot = tx_slots_[tx_free_[--tx_free_count_]];
        memset(slot.mem, 0, header_bytes_);  // no checksum offload, no GSO (5.1.6.2)
        size_t at = header_bytes_;
        for (int s = 0; s < frame.nsegs; ++s) {
            const net::TxSeg& seg = frame.segs[s];
            size_t n = seg.len <= kBufferBytes - at ? seg.len : kBufferBytes - at;  // segs longer than len
            memcpy(slot.mem + at, seg.data, n);
            at += n;
        }
        Virtqueue::Buffer b{slot.addr, uint32_t(at), false};
        tx_.add(&b, 1, &slot);  // cannot fail: every free slot has its descriptor
        ++queued;
        live_.tx_packets.fetch_add(1, std::memory_order_relaxed);
        live_.tx_bytes.fetch_add(at - header_bytes_, std::memory_order_relaxed);
    }
    if (i < count) live_.tx_dropped.fetch_add(uint64_t(count - i), std::memory_order_relaxed);
    // Every batch that queued a frame notifies, whatever the device's avail_event says (see the
    // header); kick_prepare() still runs to keep the ring's kick index current. A full ring was
    // notified in wait_tx_slot().
    bool suppressed = !tx_.kick_prepare();
    bool kick = queued > 0 && !full;
    if (kick && suppressed) ++tx_kicks_overridden_;
    if (kick) {
        ++tx_kicks_;
        transport_.notify(kNetQueueTx);
    }
    return queued;
}

net::DeviceCounters VirtioNet::counters() const {
    return live_.snapshot(napi_.polls.load(std::memory_order_relaxed), napi_.interrupts.load(std::memory_order_relaxed),
                          napi_.busy_polls.load(std::memory_order_relaxed));
}

}  // namespace pollux::virtio
