// Transport: what a virtio device driver needs from the bus it sits on (virtio 1.1, chapter 4):
// the status byte, feature negotiation, queue setup and notification, device configuration and
// the interrupt acknowledgement. Modern PCI, legacy PCI and MMIO implement it; VirtioNet sees
// only this.
#pragma once

#include <cstdint>

namespace pollux::virtio {

class Virtqueue;

class Transport {
public:
    virtual uint64_t device_features() = 0;
    virtual void set_driver_features(uint64_t features) = 0;
    virtual uint8_t status() = 0;
    virtual void set_status(uint8_t status) = 0;
    // Writes 0 and waits for the device to read back 0 (4.1.4.3.2); false if it never does.
    virtual bool reset() = 0;

    // The largest size the device allows for queue `index`, 0 when there is no such queue.
    virtual uint16_t queue_max_size(uint16_t index) = 0;
    // Tells the device where the queue lives and enables it. `vector`: the MSI-X table entry
    // for its interrupts, kNoMsixVector for none (ignored by transports without MSI-X).
    virtual bool queue_enable(const Virtqueue& queue, uint16_t vector) = 0;
    virtual void notify(uint16_t index) = 0;

    // A consistent read of `len` bytes of device-specific configuration at `offset` (retried
    // across config_generation changes where the transport has them).
    virtual void read_config(uint32_t offset, void* out, uint32_t len) = 0;

    // Reads and so clears the interrupt status (ISR, 4.1.4.5; InterruptStatus, 4.2.2): needed
    // on a shared line (INTx, MMIO), never with MSI-X. Bit 0: a queue, bit 1: configuration.
    virtual uint32_t ack_interrupt() = 0;
    virtual bool has_msix() const = 0;
    // The legacy interface (4.1.4.8): no VERSION_1 and no FEATURES_OK, and queues only at the
    // device's own size.
    virtual bool legacy() const { return false; }

protected:
    ~Transport() = default;
};

}  // namespace pollux::virtio
