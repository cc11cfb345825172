// PciModernTransport. Register widths matter: the common structure's fields must be accessed
// with their own size (4.1.3.1), so every access goes through a typed volatile pointer.
#include "drivers/virtio/pci_modern.h"

#include "drivers/virtio/spec.h"
#include "drivers/virtio/virtqueue.h"

namespace pollux::virtio {

namespace {

constexpr uint8_t kPciCommandStatus = 0x04;  // PCI 3.0, 6.2.2-6.2.3: status is the high half
constexpr uint16_t kPciStatusCapList = 1u << 4;
constexpr uint8_t kPciCapPointer = 0x34;
constexpr int kResetPolls = 1000000;

template <typename T>
T get(volatile uint8_t* base, uint32_t off) {
    return *reinterpret_cast<volatile T*>(base + off);
}
template <typename T>
void put(volatile uint8_t* base, uint32_t off, T v) {
    *reinterpret_cast<volatile T*>(base + off) = v;
}

}  // namespace

bool PciModernTransport::init(PciFunctionAccess& pci) {
    msix_ = pci.msix_enabled();
    if (((pci.config_read32(kPciCommandStatus) >> 16) & kPciStatusCapList) == 0) return false;
    uint8_t at = uint8_t(pci.config_read32(kPciCapPointer) & 0xfc);
    // The list is at most 48 capabilities long (config space 256 bytes); a guard against loops.
    for (int guard = 0; at >= 0x40 && guard < 48; ++guard) {
        uint32_t header = pci.config_read32(at);
        if (uint8_t(header) == kPciCapVendor) {
            uint8_t type = uint8_t(header >> 24);
            uint8_t bar = uint8_t(pci.config_read32(uint8_t(at + kPciCapBar)));
            uint32_t offset = pci.config_read32(uint8_t(at + kPciCapOffset));
            uint32_t length = pci.config_read32(uint8_t(at + kPciCapLength));
            // 4.1.4: the first capability of each type is the preferred one.
            volatile uint8_t** slot = type == kPciCapCommonCfg   ? &common_
                                      : type == kPciCapNotifyCfg ? &notify_
                                      : type == kPciCapIsrCfg    ? &isr_
                                      : type == kPciCapDeviceCfg ? &device_
                                                                 : nullptr;
            if (slot != nullptr && *slot == nullptr && bar < 6 && length > 0) {
                *slot = pci.map_bar(bar, offset, length);
                if (type == kPciCapNotifyCfg && *slot != nullptr) {
                    notify_multiplier_ = pci.config_read32(uint8_t(at + kPciCapNotifyMultiplier));
                    notify_length_ = length;
                }
                if (type == kPciCapDeviceCfg) device_length_ = length;
            }
        }
        at = uint8_t((header >> 8) & 0xfc);
    }
    return common_ != nullptr && notify_ != nullptr && isr_ != nullptr;
}

uint64_t PciModernTransport::device_features() {
    put<uint32_t>(common_, kCommonDeviceFeatureSelect, 0);
    uint64_t low = get<uint32_t>(common_, kCommonDeviceFeature);
    put<uint32_t>(common_, kCommonDeviceFeatureSelect, 1);
    uint64_t high = get<uint32_t>(common_, kCommonDeviceFeature);
    return high << 32 | low;
}

void PciModernTransport::set_driver_features(uint64_t features) {
    put<uint32_t>(common_, kCommonDriverFeatureSelect, 0);
    put<uint32_t>(common_, kCommonDriverFeature, uint32_t(features));
    put<uint32_t>(common_, kCommonDriverFeatureSelect, 1);
    put<uint32_t>(common_, kCommonDriverFeature, uint32_t(features >> 32));
}

uint8_t PciModernTransport::status() { return get<uint8_t>(common_, kCommonDeviceStatus); }
void PciModernTransport::set_status(uint8_t status) { put<uint8_t>(common_, kCommonDeviceStatus, status); }

bool PciModernTransport::reset() {
    set_status(0);
    for (int i = 0; i < kResetPolls; ++i) {
        if (status() == 0) return true;
    }
    return false;
}

uint16_t PciModernTransport::queue_max_size(uint16_t index) {
    if (index >= get<uint16_t>(common_, kCommonNumQueues)) return 0;
    put<uint16_t>(common_, kCommonQueueSelect, index);
    return get<uint16_t>(common_, kCommonQueueSize);
}

bool PciModernTransport::queue_enable(const Virtqueue& queue, uint16_t vector) {
    uint16_t index = queue.index();
    if (index >= kMaxQueues) return false;
    put<uint16_t>(common_, kCommonQueueSelect, index);
    put<uint16_t>(common_, kCommonQueueSize, queue.size());
    if (msix_) {
        put<uint16_t>(common_, kCommonQueueMsixVector, vector);
        // 4.1.5.1.2.1: the device answers NO_VECTOR when it could not take the entry.
        if (get<uint16_t>(common_, kCommonQueueMsixVector) != vector) return false;
    }
    put<uint64_t>(common_, kCommonQueueDesc, queue.desc_address());
    put<uint64_t>(common_, kCommonQueueDriver, queue.avail_address());
    put<uint64_t>(common_, kCommonQueueDevice, queue.used_address());
    uint32_t off = uint32_t{get<uint16_t>(common_, kCommonQueueNotifyOff)} * notify_multiplier_;
    if (off + 2 > notify_length_) return false;
    notify_offset_[index] = uint16_t(off);
    put<uint16_t>(common_, kCommonQueueEnable, 1);
    return true;
}

void PciModernTransport::notify(uint16_t index) {
    // 4.1.4.4: the queue's index, 16 bits, at its notify address.
    if (index < kMaxQueues) put<uint16_t>(notify_, notify_offset_[index], index);
}

void PciModernTransport::read_config(uint32_t offset, void* out, uint32_t len) {
    auto* bytes = static_cast<uint8_t*>(out);
    if (device_ == nullptr || offset + len > device_length_) {
        for (uint32_t i = 0; i < len; ++i) bytes[i] = 0;
        return;
    }
    // 4.1.4.3.1: re-read while config_generation changes under us (a multi-byte field updated
    // by the device mid-read).
    uint8_t before, after;
    do {
        before = get<uint8_t>(common_, kCommonConfigGeneration);
        for (uint32_t i = 0; i < len; ++i) bytes[i] = get<uint8_t>(device_, offset + i);
        after = get<uint8_t>(common_, kCommonConfigGeneration);
    } while (before != after);
}

uint32_t PciModernTransport::ack_interrupt() { return get<uint8_t>(isr_, 0); }

}  // namespace pollux::virtio
