#include "mm/frame_allocator.h"

#include <cstring>

#include "console/printk.h"
#include "mm/direct_map.h"
#include "sched/irq_guard.h"

namespace pollux::mm {
namespace {

FrameAllocator allocator;
constexpr uint64_t kLowMemoryEnd = 1 << 20;
constexpr uint64_t kIdentityLimit = 1ull << 30;  // the boot map: the bitmap must be reachable

uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }
uint64_t round_down(uint64_t v, uint64_t a) { return v & ~(a - 1); }

}  // namespace

FrameAllocator& frames() { return allocator; }

uint64_t* FrameAllocator::bitmap() const { return phys_to_virt<uint64_t>(bitmap_phys_); }

void FrameAllocator::set_used(size_t frame) {
    if (!used(frame)) --free_;
    bitmap()[frame / 64] |= 1ull << (frame % 64);
}

void FrameAllocator::set_free(size_t frame) {
    if (used(frame)) ++free_;
    bitmap()[frame / 64] &= ~(1ull << (frame % 64));
}

bool FrameAllocator::init(const BootInfo& info, uint64_t reserved_start, uint64_t reserved_end) {
    uint64_t top = 0;
    for (size_t i = 0; i < info.region_count; ++i) {
        const MemoryRegion& r = info.regions[i];
        if (r.type == MemoryType::ram && r.base + r.size > top) top = r.base + r.size;
    }
    frames_ = round_down(top, kPageSize) / kPageSize;
    uint64_t bitmap_bytes = round_up(round_up(frames_, 64) / 8, kPageSize);

    // The bitmap goes in the first RAM above the kernel that holds it, clear of the boot module
    // (GRUB loads modules, and mkimage's payload sits, right after the kernel).
    uint64_t module_start = info.module_paddr, module_end = info.module_paddr + info.module_size;
    uint64_t bitmap_at = 0;
    for (size_t i = 0; i < info.region_count && !bitmap_at; ++i) {
        const MemoryRegion& r = info.regions[i];
        if (r.type != MemoryType::ram) continue;
        uint64_t start = round_up(r.base > reserved_end ? r.base : reserved_end, kPageSize);
        if (info.module_size && start < module_end && start + bitmap_bytes > module_start)
            start = round_up(module_end, kPageSize);
        if (start + bitmap_bytes <= r.base + r.size && start + bitmap_bytes <= kIdentityLimit) bitmap_at = start;
    }
    if (!bitmap_at) {
        printk("mm: no room for the frame bitmap (%lu bytes)\n", bitmap_bytes);
        return false;
    }
    bitmap_phys_ = bitmap_at;
    memset(bitmap(), 0xff, bitmap_bytes);

    free_ = 0;
    for (size_t i = 0; i < info.region_count; ++i) {
        const MemoryRegion& r = info.regions[i];
        if (r.type != MemoryType::ram) continue;
        // Only whole frames; regions may overlap in a sloppy map, set_free counts each once.
        for (uint64_t f = round_up(r.base, kPageSize) / kPageSize; f < round_down(r.base + r.size, kPageSize) / kPageSize; ++f)
            set_free(f);
    }
    ram_ = free_;
    auto reserve = [this](uint64_t start, uint64_t end) {
        for (uint64_t f = start / kPageSize; f < round_up(end, kPageSize) / kPageSize && f < frames_; ++f) set_used(f);
    };
    reserve(0, kLowMemoryEnd);
    reserve(reserved_start, reserved_end);
    if (info.module_size) reserve(module_start, module_end);
    reserve(bitmap_at, bitmap_at + bitmap_bytes);
    next_ = 0;
    return true;
}

uint64_t FrameAllocator::alloc() {
    sched::IrqGuard guard;
    for (size_t n = 0; n < frames_; ++n) {
        size_t f = (next_ + n) % frames_;
        if (bitmap()[f / 64] == ~0ull) {  // skip a full word at once
            n += 63 - f % 64;
            continue;
        }
        if (!used(f)) {
            set_used(f);
            next_ = f + 1;
            return f * kPageSize;
        }
    }
    return 0;
}

uint64_t FrameAllocator::alloc_contiguous(size_t count) {
    sched::IrqGuard guard;
    size_t run = 0;
    for (size_t f = 0; f < frames_; ++f) {
        run = used(f) ? 0 : run + 1;
        if (run == count) {
            size_t first = f + 1 - count;
            for (size_t i = first; i <= f; ++i) set_used(i);
            return first * kPageSize;
        }
    }
    return 0;
}

void FrameAllocator::free(uint64_t paddr) {
    sched::IrqGuard guard;
    size_t f = paddr / kPageSize;
    if (f < frames_) set_free(f);
    if (f < next_) next_ = f;
}

void FrameAllocator::reserve(uint64_t paddr, uint64_t size) {
    for (uint64_t f = paddr / kPageSize; f < (paddr + size + kPageSize - 1) / kPageSize && f < frames_; ++f)
        if (!used(f)) set_used(f);
}

}  // namespace pollux::mm
