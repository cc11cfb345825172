// Dma: how a virtio driver gets memory the device can reach and the addresses the device uses
// for it. The platform implements it (the unikernel through its direct map, where a device
// address is the physical address; a hosted test with plain memory and identity addresses), so
// drivers/ never includes a kernel's memory-management headers.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::virtio {

class Dma {
public:
    // Zeroed, physically contiguous memory aligned to `align` (a power of two up to 4096), or
    // null. Rings and buffers live as long as their device, so there is no free.
    virtual void* alloc(size_t bytes, size_t align) = 0;
    // The address the device uses for `p`, which must lie in memory the platform can translate
    // (for the unikernel: the direct map or the kernel image).
    virtual uint64_t device_address(const void* p) = 0;

protected:
    ~Dma() = default;
};

}  // namespace pollux::virtio
