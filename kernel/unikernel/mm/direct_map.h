// Physical memory as the kernel sees it: before paging_init() through the boot identity map
// (the low 1 GiB), afterwards through the direct map at kDirectMapBase (PML4 slot 256, the
// start of the higher half; NX, 2 MiB pages where alignment allows).
#pragma once

#include <cstdint>

namespace pollux::mm {

constexpr uint64_t kPageSize = 4096;
constexpr uint64_t kDirectMapBase = 0xffff800000000000;
// The kernel image is linked at kKernelVma + its physical address (linker.ld, boot.S).
constexpr uint64_t kKernelVma = 0xffffffff80000000;

extern uint64_t direct_map_offset;  // 0 until paging_init() switches to kDirectMapBase

template <typename T = void>
T* phys_to_virt(uint64_t paddr) {
    return reinterpret_cast<T*>(paddr + direct_map_offset);
}

}  // namespace pollux::mm
