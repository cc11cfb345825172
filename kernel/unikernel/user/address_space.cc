#include "user/address_space.h"

#include <linux/errno.h>

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "console/printk.h"
#include "mm/direct_map.h"
#include "mm/frame_allocator.h"
#include "mm/page_table.h"
#include "sched/irq_guard.h"

namespace pollux::user {
namespace {

struct Area {
    uint64_t start = 0, end = 0;  // end == 0: a free slot
    int prot = 0;
};

constexpr size_t kMaxAreas = 1024;
Area areas[kMaxAreas];
uint64_t mmap_next = kMmapTop;
uint64_t brk_start = 0, brk_current = 0;

// Frames of the kernel's that areas may map (map_kernel_frame): never returned to the frame
// allocator, never given a writable or executable PTE.
constexpr size_t kMaxKernelFrames = 4;
uint64_t kernel_frames[kMaxKernelFrames];

// getrusage's ru_maxrss and ru_minflt: pages backed now and at most, page faults that backed one.
uint64_t resident_pages = 0, peak_pages = 0, minor_faults = 0;

constexpr uint64_t kAddressMask = 0x000ffffffffff000;
constexpr uint64_t kMmapMinAddr = 65536;  // Linux's default vm.mmap_min_addr
// The PF error code's bits (SDM Vol. 3A 4.7).
constexpr uint64_t kPfPresent = 1, kPfWrite = 2, kPfFetch = 16;

uint64_t pte_flags(int prot) {
    uint64_t flags = mm::kPtePresent | mm::kPteUser;
    if (prot & kProtWrite) flags |= mm::kPteWritable;
    if (!(prot & kProtExec)) flags |= mm::nx_flag();
    return flags;
}

Area* find(uint64_t addr) {
    for (Area& a : areas)
        if (a.end && addr >= a.start && addr < a.end) return &a;
    return nullptr;
}

bool add(uint64_t start, uint64_t end, int prot) {
    // Growing brk and neighbouring mmaps extend one area instead of filling the table.
    for (Area& a : areas) {
        if (a.end && a.prot == prot && a.end == start) {
            a.end = end;
            return true;
        }
    }
    for (Area& a : areas) {
        if (!a.end) {
            a = {start, end, prot};
            return true;
        }
    }
    return false;
}

size_t free_slots() {
    size_t n = 0;
    for (Area& a : areas) n += !a.end;
    return n;
}

bool is_kernel_frame(uint64_t phys) {
    for (uint64_t f : kernel_frames)
        if (f && f == phys) return true;
    return false;
}

// A user page's frame goes back to the allocator, unless it is the kernel's.
void release_frame(uint64_t phys) {
    if (is_kernel_frame(phys)) return;
    mm::frames().free(phys);
    --resident_pages;
}

// Where a walk from va goes next when user_pte(va) found no table: past the 2 MiB one page
// table covers, so that a large reservation never touched (Go's PROT_NONE arenas) costs one
// lookup per 2 MiB instead of 512.
uint64_t next_page(uint64_t va, const uint64_t* pte) {
    constexpr uint64_t kTableSpan = 512 * mm::kPageSize;
    return pte ? va + mm::kPageSize : (va | (kTableSpan - 1)) + 1;
}

bool maps_kernel_frame(uint64_t start, uint64_t end) {
    for (uint64_t va = start; va < end;) {
        uint64_t* pte = mm::user_pte(va, false);
        if (pte && (*pte & mm::kPtePresent) && is_kernel_frame(*pte & kAddressMask)) return true;
        va = next_page(va, pte);
    }
    return false;
}

void unmap_pages(uint64_t start, uint64_t end) {
    for (uint64_t va = start, next; va < end; va = next) {
        uint64_t* pte = mm::user_pte(va, false);
        next = next_page(va, pte);
        if (!pte || !(*pte & mm::kPtePresent)) continue;
        release_frame(*pte & kAddressMask);
        *pte = 0;
        cpu::invlpg(va);
    }
}

// Cuts [start, end) out of every area; the pieces outside stay. Needs up to one free slot per
// area split in two.
void carve(uint64_t start, uint64_t end) {
    for (Area& a : areas) {
        if (!a.end || a.end <= start || a.start >= end) continue;
        Area old = a;
        a.end = 0;
        if (old.start < start) add(old.start, start, old.prot);
        if (old.end > end) add(end, old.end, old.prot);
    }
}

// The lowest start of the areas overlapping [start, end), or 0 if none does.
uint64_t lowest_overlap(uint64_t start, uint64_t end) {
    uint64_t lowest = 0;
    for (Area& a : areas)
        if (a.end && a.start < end && a.end > start && (!lowest || a.start < lowest)) lowest = a.start;
    return lowest;
}

bool backed_page(uint64_t va, uint64_t flags) {
    uint64_t* pte = mm::user_pte(va, true);
    if (*pte & mm::kPtePresent) return true;
    uint64_t frame = mm::frames().alloc();
    if (!frame) return false;
    memset(mm::phys_to_virt(frame), 0, mm::kPageSize);
    *pte = frame | flags;
    cpu::invlpg(va);
    if (++resident_pages > peak_pages) peak_pages = resident_pages;
    return true;
}

}  // namespace

uint64_t page_up(uint64_t v) { return (v + mm::kPageSize - 1) & ~(mm::kPageSize - 1); }
uint64_t page_down(uint64_t v) { return v & ~(mm::kPageSize - 1); }

int map_anonymous(uint64_t start, uint64_t len, int prot) {
    if ((prot & kProtWrite) && (prot & kProtExec)) {
        printk("app: refusing a writable and executable mapping at %#lx (W^X)\n", start);
        return -EACCES;
    }
    uint64_t end = page_up(start + len);
    if (start % mm::kPageSize || end > mm::kUserTop || end <= start) return -EINVAL;
    sched::IrqGuard guard;
    if (free_slots() < 3) return -ENOMEM;
    carve(start, end);
    unmap_pages(start, end);
    add(start, end, prot);
    return 0;
}

int map_kernel_frame(uint64_t va, uint64_t phys, int prot) {
    if (prot & (kProtWrite | kProtExec)) return -EACCES;
    if (phys % mm::kPageSize) return -EINVAL;
    {
        sched::IrqGuard guard;
        if (!is_kernel_frame(phys)) {
            uint64_t* slot = nullptr;
            for (uint64_t& f : kernel_frames)
                if (!f) slot = &f;
            if (!slot) return -ENOMEM;
            *slot = phys;
        }
    }
    if (int r = map_anonymous(va, mm::kPageSize, prot)) return r;
    sched::IrqGuard guard;
    uint64_t* pte = mm::user_pte(va, true);
    *pte = phys | pte_flags(prot);
    cpu::invlpg(va);
    return 0;
}

void unmap(uint64_t start, uint64_t len) {
    uint64_t end = page_up(start + len);
    sched::IrqGuard guard;
    carve(start, end);
    unmap_pages(start, end);
    mm::release_user_tables(start, end);
    // The freed range is handed out again: the next search starts above it (Linux's old
    // free_area_cache). Without this a program that maps and unmaps buffers walked down the
    // address space for good, leaving a page table behind every 2 MiB it passed.
    if (end <= kMmapTop && end > mmap_next) mmap_next = end;
}

int protect(uint64_t start, uint64_t len, int prot) {
    if ((prot & kProtWrite) && (prot & kProtExec)) return -EACCES;
    uint64_t end = page_up(start + len);
    sched::IrqGuard guard;
    if (!accessible(start, end - start, 0)) return -ENOMEM;
    if ((prot & (kProtWrite | kProtExec)) && maps_kernel_frame(start, end)) return -EACCES;
    if (free_slots() < 3) return -ENOMEM;
    carve(start, end);
    add(start, end, prot);
    for (uint64_t va = start; va < end; va += mm::kPageSize) {
        uint64_t* pte = mm::user_pte(va, false);
        if (!pte || !(*pte & mm::kPtePresent)) continue;
        if (prot & kProtRead || prot & kProtWrite || prot & kProtExec)
            *pte = (*pte & kAddressMask) | pte_flags(prot);
        else  // PROT_NONE keeps the page, as Linux keeps the contents, out of user mode's reach
            *pte = (*pte & kAddressMask) | mm::kPtePresent | mm::nx_flag();
        cpu::invlpg(va);
    }
    return 0;
}

uint64_t find_free(uint64_t len) {
    sched::IrqGuard guard;
    len = page_up(len);
    uint64_t top = mmap_next;
    for (;;) {
        if (top < brk_current || len > top - brk_current) return 0;
        uint64_t below = lowest_overlap(top - len, top);
        if (!below) break;
        top = below;  // an area placed at a hint or MAP_FIXED: go on under it
    }
    mmap_next = top - len;
    return mmap_next;
}

uint64_t place(uint64_t hint, uint64_t len) {
    hint = page_down(hint);
    len = page_up(len);
    if (hint >= kMmapMinAddr && hint < mm::kUserTop && len && len <= mm::kUserTop - hint && unmapped(hint, len))
        return hint;
    return find_free(len);
}

bool unmapped(uint64_t start, uint64_t len) {
    sched::IrqGuard guard;
    uint64_t end = start + len;
    return end >= start && !lowest_overlap(start, end);
}

int discard(uint64_t start, uint64_t len) {
    uint64_t end = start + page_up(len);
    sched::IrqGuard guard;
    // Area by area, never page by page over the whole range: madvise(p, 1 << 46) is legal.
    for (Area& a : areas)
        if (a.end && a.start < end && a.end > start &&
            maps_kernel_frame(a.start > start ? a.start : start, a.end < end ? a.end : end))
            return -EINVAL;
    for (Area& a : areas)
        if (a.end && a.start < end && a.end > start)
            unmap_pages(a.start > start ? a.start : start, a.end < end ? a.end : end);
    return accessible(start, end - start, 0) ? 0 : -ENOMEM;
}

int populate(uint64_t start, uint64_t len, bool write) {
    uint64_t end = start + page_up(len);
    sched::IrqGuard guard;
    if (maps_kernel_frame(start, end)) return -EINVAL;
    for (uint64_t va = start; va < end; va += mm::kPageSize) {
        Area* a = find(va);
        if (!a) return -ENOMEM;
        if (!a->prot || (write && !(a->prot & kProtWrite))) return -EINVAL;
        if (!backed_page(va, pte_flags(a->prot))) return -ENOMEM;
    }
    return 0;
}

bool accessible(uint64_t start, uint64_t len, int prot) {
    sched::IrqGuard guard;
    uint64_t va = start, end = start + len;
    if (end < start || end > mm::kUserTop) return false;
    while (va < end) {
        Area* a = find(va);
        if (!a || (a->prot & prot) != prot) return false;
        va = a->end;
    }
    return true;
}

bool area_at(uint64_t addr, uint64_t& start, uint64_t& end, int& prot) {
    sched::IrqGuard guard;
    Area* a = find(addr);
    if (!a) return false;
    start = a->start, end = a->end, prot = a->prot;
    return true;
}

bool handle_fault(uint64_t addr, uint64_t error_code) {
    if (addr >= mm::kUserTop || (error_code & kPfPresent)) return false;
    sched::IrqGuard guard;
    Area* a = find(addr);
    if (!a || !a->prot) return false;
    if ((error_code & kPfWrite) && !(a->prot & kProtWrite)) return false;
    if ((error_code & kPfFetch) && !(a->prot & kProtExec)) return false;
    if (!backed_page(page_down(addr), pte_flags(a->prot))) return false;
    ++minor_faults;
    return true;
}

MemoryUse memory_use() {
    sched::IrqGuard guard;
    return {resident_pages, peak_pages, minor_faults};
}

bool copy_in(uint64_t va, const void* src, size_t len) {
    sched::IrqGuard guard;
    auto* from = static_cast<const uint8_t*>(src);
    while (len) {
        Area* a = find(va);
        if (!a || !backed_page(page_down(va), pte_flags(a->prot))) return false;
        uint64_t offset = va % mm::kPageSize, n = mm::kPageSize - offset;
        if (n > len) n = len;
        uint64_t frame = *mm::user_pte(va, false) & kAddressMask;
        memcpy(mm::phys_to_virt<uint8_t>(frame) + offset, from, n);
        va += n, from += n, len -= n;
    }
    return true;
}

void set_brk_start(uint64_t start) { brk_start = brk_current = page_up(start); }

// Linux's brk: returns the new break, or the old one when it cannot move.
uint64_t brk(uint64_t requested) {
    if (requested < brk_start) return brk_current;
    uint64_t old_top = page_up(brk_current), new_top = page_up(requested);
    if (new_top > old_top) {
        // Linux's brk stops short of any mapping in the way (one placed at a hint, say).
        if (new_top > mmap_next || !unmapped(old_top, new_top - old_top) ||
            map_anonymous(old_top, new_top - old_top, kProtRead | kProtWrite) < 0)
            return brk_current;
    } else if (new_top < old_top) {
        unmap(new_top, old_top - new_top);
    }
    brk_current = requested;
    return brk_current;
}

}  // namespace pollux::user
