// PciModernTransport: the virtio 1.x PCI transport (virtio 1.1, 4.1.4): the common, notify,
// ISR and device configuration structures, each located by a vendor capability and mapped
// from its BAR by the platform. MSI-X programming (table entries, enable) is the platform's
// PCI code; this class only assigns table entries to queues.
#pragma once

#include <cstdint>

#include "drivers/virtio/transport.h"

namespace pollux::virtio {

// The platform's view of one PCI function.
class PciFunctionAccess {
public:
    virtual uint32_t config_read32(uint8_t offset) = 0;
    // [offset, offset + length) of memory BAR `bar`, mapped uncached; null if the BAR is
    // absent or I/O.
    virtual volatile uint8_t* map_bar(uint8_t bar, uint32_t offset, uint32_t length) = 0;
    virtual bool msix_enabled() = 0;

protected:
    ~PciFunctionAccess() = default;
};

class PciModernTransport final : public Transport {
public:
    // Walks the capability list; false when a required structure is missing (a legacy-only
    // device).
    bool init(PciFunctionAccess& pci);

    uint64_t device_features() override;
    void set_driver_features(uint64_t features) override;
    uint8_t status() override;
    void set_status(uint8_t status) override;
    bool reset() override;
    uint16_t queue_max_size(uint16_t index) override;
    bool queue_enable(const Virtqueue& queue, uint16_t vector) override;
    void notify(uint16_t index) override;
    void read_config(uint32_t offset, void* out, uint32_t len) override;
    uint32_t ack_interrupt() override;
    bool has_msix() const override { return msix_; }

private:
    static constexpr uint16_t kMaxQueues = 8;

    volatile uint8_t* common_ = nullptr;
    volatile uint8_t* notify_ = nullptr;
    volatile uint8_t* isr_ = nullptr;
    volatile uint8_t* device_ = nullptr;
    uint32_t notify_multiplier_ = 0;
    uint32_t notify_length_ = 0;
    uint32_t device_length_ = 0;
    uint16_t notify_offset_[kMaxQueues] = {};
    bool msix_ = false;
};

}  // namespace pollux::virtio
