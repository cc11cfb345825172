// The kernel's virtio::Dma. No IOMMU: a device address is a physical address. The heap is one
// physically contiguous region of the direct map, so an allocation is contiguous in physical
// memory too; the kernel image (static buffers, the boot stack) is linked at kKernelVma + its
// physical address. Allocations come from the heap and are never freed (devices live forever).
#pragma once

#include <cstring>

#include "drivers/virtio/dma.h"
#include "mm/direct_map.h"
#include "mm/heap.h"

namespace pollux::net {

class KernelDma final : public virtio::Dma {
public:
    void* alloc(size_t bytes, size_t align) override {
        void* p = align > 16 ? mm::heap_alloc_aligned(bytes, align) : mm::heap_alloc(bytes);
        if (p != nullptr) memset(p, 0, bytes);
        return p;
    }
    uint64_t device_address(const void* p) override {
        uint64_t va = reinterpret_cast<uint64_t>(p);
        return va >= mm::kKernelVma ? va - mm::kKernelVma : va - mm::direct_map_offset;
    }
};

inline KernelDma& kernel_dma() {
    static KernelDma dma;
    return dma;
}

}  // namespace pollux::net
