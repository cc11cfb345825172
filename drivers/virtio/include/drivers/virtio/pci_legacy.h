// PciLegacyTransport: the legacy (virtio 0.9.5) PCI interface that transitional devices keep
// for old drivers and that `disable-modern=on` devices (and old hypervisors) offer alone (virtio
// 1.1, 4.1.4.8): registers in I/O BAR0, 32 feature bits, no FEATURES_OK, each queue given as
// one page frame number in the legacy ring layout (Virtqueue's), at the size the device
// dictates. With MSI-X on, two vector registers come before the device configuration.
#pragma once

#include <cstdint>

#include "drivers/virtio/transport.h"

namespace pollux::virtio {

// The platform's access to the device's I/O BAR: width 1, 2 or 4 bytes at an offset into it.
class PortIo {
public:
    virtual uint32_t in(uint16_t offset, unsigned width) = 0;
    virtual void out(uint16_t offset, unsigned width, uint32_t value) = 0;

protected:
    ~PortIo() = default;
};

class PciLegacyTransport final : public Transport {
public:
    // msix: whether the platform has enabled MSI-X on the function (it moves the configuration).
    void init(PortIo& io, bool msix) {
        io_ = &io;
        msix_ = msix;
    }

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
    bool legacy() const override { return true; }

private:
    PortIo* io_ = nullptr;
    bool msix_ = false;
};

}  // namespace pollux::virtio
