// MmioTransport: the virtio-over-MMIO transport, version 2 (virtio 1.1, 4.2.2), as QEMU's
// microvm and Firecracker provide it: one 512-byte register window per device and one
// interrupt line, which InterruptStatus / InterruptACK lower. The legacy layout (version 1,
// QueuePFN) is not implemented; QEMU offers version 2 with -global
// virtio-mmio.force-legacy=false.
#pragma once

#include <cstdint>

#include "drivers/virtio/transport.h"

namespace pollux::virtio {

class MmioTransport final : public Transport {
public:
    // `base`: the device's register window, mapped uncached. False when no virtio device of
    // version 2 answers there. device_id() then says what it is (0: an empty slot).
    bool init(volatile uint8_t* base);
    uint32_t device_id() const { return device_id_; }
    uint32_t version() const { return version_; }

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
    bool has_msix() const override { return false; }

private:
    volatile uint8_t* base_ = nullptr;
    uint32_t device_id_ = 0;
    uint32_t version_ = 0;
};

}  // namespace pollux::virtio
