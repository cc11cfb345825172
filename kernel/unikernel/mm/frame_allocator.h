// Physical 4 KiB frames: one bit per frame of the RAM the memory map reports (1 = in use),
// the bitmap itself in the first free RAM after the kernel. alloc/free hold an IrqGuard (one
// CPU; page faults allocate with interrupts off).
#pragma once

#include <cstddef>
#include <cstdint>

#include "boot/boot_info.h"

namespace pollux::mm {

class FrameAllocator {
public:
    // Every RAM region becomes free except the first 1 MiB (firmware data, the PVH start
    // info), [reserved_start, reserved_end) (the kernel image) and the boot module.
    bool init(const BootInfo& info, uint64_t reserved_start, uint64_t reserved_end);
    // A free frame's physical address, or 0 when memory is exhausted (frame 0 is never free).
    uint64_t alloc();
    // count physically contiguous frames, or 0.
    uint64_t alloc_contiguous(size_t count);
    void free(uint64_t paddr);
    // Marks [paddr, paddr + size) in use (a boot module the loader placed in RAM).
    void reserve(uint64_t paddr, uint64_t size);

    size_t free_frames() const { return free_; }
    size_t ram_frames() const { return ram_; }

private:
    // Through phys_to_virt on every use: the view of physical memory changes when
    // paging_init() drops the identity map.
    uint64_t* bitmap() const;
    bool used(size_t frame) const { return bitmap()[frame / 64] >> (frame % 64) & 1; }
    void set_used(size_t frame);
    void set_free(size_t frame);

    uint64_t bitmap_phys_ = 0;
    size_t frames_ = 0;  // bitmap covers frames [0, frames_)
    size_t ram_ = 0;
    size_t free_ = 0;
    size_t next_ = 0;  // where the next search starts: allocation goes upward, low memory first
};

FrameAllocator& frames();

}  // namespace pollux::mm
