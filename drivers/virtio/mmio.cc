// MmioTransport. All registers are 32 bits wide and must be accessed as such (4.2.2.1), the
// device configuration space excepted.
#include "drivers/virtio/mmio.h"

#include "drivers/virtio/virtqueue.h"

namespace pollux::virtio {

namespace {

// 4.2.2: register offsets.
constexpr uint32_t kMagicValue = 0x000, kVersion = 0x004, kDeviceId = 0x008, kDeviceFeatures = 0x010,
                   kDeviceFeaturesSel = 0x014, kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024,
                   kQueueSel = 0x030, kQueueNumMax = 0x034, kQueueNum = 0x038, kQueueReady = 0x044,
                   kQueueNotify = 0x050, kInterruptStatus = 0x060, kInterruptAck = 0x064, kStatus = 0x070,
                   kQueueDescLow = 0x080, kQueueDescHigh = 0x084, kQueueDriverLow = 0x090,
                   kQueueDriverHigh = 0x094, kQueueDeviceLow = 0x0a0, kQueueDeviceHigh = 0x0a4,
                   kConfigGeneration = 0x0fc, kConfig = 0x100;
constexpr uint32_t kMagic = 0x74726976;  // "virt", little-endian
constexpr int kResetPolls = 1000000;

uint32_t rd(volatile uint8_t* base, uint32_t off) { return *reinterpret_cast<volatile uint32_t*>(base + off); }
void wr(volatile uint8_t* base, uint32_t off, uint32_t v) { *reinterpret_cast<volatile uint32_t*>(base + off) = v; }

}  // namespace

bool MmioTransport::init(volatile uint8_t* base) {
    base_ = base;
    if (rd(base, kMagicValue) != kMagic) return false;
    version_ = rd(base, kVersion);
    device_id_ = rd(base, kDeviceId);
    return version_ == 2 && device_id_ != 0;
}

uint64_t MmioTransport::device_features() {
    wr(base_, kDeviceFeaturesSel, 0);
    uint64_t low = rd(base_, kDeviceFeatures);
    wr(base_, kDeviceFeaturesSel, 1);
    return uint64_t{rd(base_, kDeviceFeatures)} << 32 | low;
}

void MmioTransport::set_driver_features(uint64_t features) {
    wr(base_, kDriverFeaturesSel, 0);
    wr(base_, kDriverFeatures, uint32_t(features));
    wr(base_, kDriverFeaturesSel, 1);
    wr(base_, kDriverFeatures, uint32_t(features >> 32));
}

uint8_t MmioTransport::status() { return uint8_t(rd(base_, kStatus)); }
void MmioTransport::set_status(uint8_t status) { wr(base_, kStatus, status); }

bool MmioTransport::reset() {
    set_status(0);
    for (int i = 0; i < kResetPolls; ++i) {
        if (status() == 0) return true;
    }
    return false;
}

uint16_t MmioTransport::queue_max_size(uint16_t index) {
    wr(base_, kQueueSel, index);
    if (rd(base_, kQueueReady) != 0) return 0;  // 4.2.3.2: must not be in use yet
    uint32_t max = rd(base_, kQueueNumMax);
    return max > kMaxQueueSize ? kMaxQueueSize : uint16_t(max);
}

bool MmioTransport::queue_enable(const Virtqueue& queue, uint16_t) {
    wr(base_, kQueueSel, queue.index());
    wr(base_, kQueueNum, queue.size());
    wr(base_, kQueueDescLow, uint32_t(queue.desc_address()));
    wr(base_, kQueueDescHigh, uint32_t(queue.desc_address() >> 32));
    wr(base_, kQueueDriverLow, uint32_t(queue.avail_address()));
    wr(base_, kQueueDriverHigh, uint32_t(queue.avail_address() >> 32));
    wr(base_, kQueueDeviceLow, uint32_t(queue.used_address()));
    wr(base_, kQueueDeviceHigh, uint32_t(queue.used_address() >> 32));
    wr(base_, kQueueReady, 1);
    return rd(base_, kQueueReady) == 1;
}

void MmioTransport::notify(uint16_t index) { wr(base_, kQueueNotify, index); }

void MmioTransport::read_config(uint32_t offset, void* out, uint32_t len) {
    auto* bytes = static_cast<uint8_t*>(out);
    uint32_t before, after;
    do {
        before = rd(base_, kConfigGeneration);
        for (uint32_t i = 0; i < len; ++i) bytes[i] = base_[kConfig + offset + i];
        after = rd(base_, kConfigGeneration);
    } while (before != after);
}

uint32_t MmioTransport::ack_interrupt() {
    // The line stays raised until the bits are acknowledged (4.2.3.4), level-triggered.
    uint32_t pending = rd(base_, kInterruptStatus);
    if (pending != 0) wr(base_, kInterruptAck, pending);
    return pending;
}

}  // namespace pollux::virtio
