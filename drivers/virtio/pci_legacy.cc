#include "drivers/virtio/pci_legacy.h"

#include "drivers/virtio/spec.h"
#include "drivers/virtio/virtqueue.h"

namespace pollux::virtio {
namespace {

// 4.1.4.8: the legacy register block.
constexpr uint16_t kDeviceFeatures = 0x00, kDriverFeatures = 0x04, kQueuePfn = 0x08, kQueueSize = 0x0c,
                   kQueueSelect = 0x0e, kQueueNotify = 0x10, kStatus = 0x12, kIsr = 0x13, kQueueVector = 0x16;
constexpr uint16_t kConfig = 0x14, kConfigMsix = 0x18;
constexpr unsigned kPageShift = 12;  // VIRTIO_PCI_QUEUE_ADDR_SHIFT
constexpr int kResetPolls = 1000;

}  // namespace

uint64_t PciLegacyTransport::device_features() { return io_->in(kDeviceFeatures, 4); }

void PciLegacyTransport::set_driver_features(uint64_t features) { io_->out(kDriverFeatures, 4, uint32_t(features)); }

uint8_t PciLegacyTransport::status() { return uint8_t(io_->in(kStatus, 1)); }

void PciLegacyTransport::set_status(uint8_t status) { io_->out(kStatus, 1, status); }

bool PciLegacyTransport::reset() {
    io_->out(kStatus, 1, 0);
    for (int i = 0; i < kResetPolls; ++i)
        if (io_->in(kStatus, 1) == 0) return true;
    return false;
}

uint16_t PciLegacyTransport::queue_max_size(uint16_t index) {
    io_->out(kQueueSelect, 2, index);
    return uint16_t(io_->in(kQueueSize, 2));
}

bool PciLegacyTransport::queue_enable(const Virtqueue& queue, uint16_t vector) {
    io_->out(kQueueSelect, 2, queue.index());
    // No size register to write: the rings must be the size the device has.
    if (io_->in(kQueueSize, 2) != queue.size()) return false;
    uint64_t pfn = queue.desc_address() >> kPageShift;
    if ((queue.desc_address() & ((1u << kPageShift) - 1)) != 0 || pfn > 0xffffffffu) return false;
    if (msix_) {
        io_->out(kQueueVector, 2, vector);
        if (io_->in(kQueueVector, 2) != vector) return false;
    }
    io_->out(kQueuePfn, 4, uint32_t(pfn));
    return true;
}

void PciLegacyTransport::notify(uint16_t index) { io_->out(kQueueNotify, 2, index); }

void PciLegacyTransport::read_config(uint32_t offset, void* out, uint32_t len) {
    // No generation counter: byte by byte, as the legacy interface allows any width.
    auto* bytes = static_cast<uint8_t*>(out);
    uint16_t base = msix_ ? kConfigMsix : kConfig;
    for (uint32_t i = 0; i < len; ++i) bytes[i] = uint8_t(io_->in(uint16_t(base + offset + i), 1));
}

uint32_t PciLegacyTransport::ack_interrupt() { return io_->in(kIsr, 1); }

}  // namespace pollux::virtio
