// The application's half of the address space: a list of areas (Linux's VMAs) with their
// protections, backed page by page on first touch (demand paging), so an 8 MiB thread stack
// costs only what it uses. The kernel's own accesses to user memory in syscalls go through
// the same fault path.
//
// LOCKING: every function takes an IrqGuard (one CPU). Page faults arrive with interrupts off.
// LAYOUT: the executable where it asks (static-pie at kPieBase), brk after it, mmap areas
// handed out top-down from kMmapTop, the search starting below the last area placed or above
// the last one unmapped (so freed ranges are reused) and stepping over areas in the way, or at the app's hint when that range is free (Linux's rule:
// Go's heap asks for 0xc000000000), the main stack under kStackTop, the vDSO and its data page
// between the two (user/vdso.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::user {

constexpr int kProtRead = 1, kProtWrite = 2, kProtExec = 4;  // PROT_* (mman-common.h)
constexpr uint64_t kPieBase = 0x555555554000;  // where Linux puts a PIE with ASLR off
constexpr uint64_t kMmapTop = 0x7f0000000000;
constexpr uint64_t kStackTop = 0x7ffffffff000;
constexpr uint64_t kStackSize = 8ull << 20;  // RLIMIT_STACK

uint64_t page_up(uint64_t v);
uint64_t page_down(uint64_t v);

// Replaces whatever was mapped in [start, start + len) with a zero-filled area (MAP_FIXED's
// rule). -ENOMEM when the area table is full, -EACCES for write+execute (W^X holds for the
// application too).
int map_anonymous(uint64_t start, uint64_t len, int prot);
// Maps one page of the kernel's own at va (the vDSO's clock data page, user/vdso.h): a frame
// the frame allocator does not own, so unmap never frees it, and mprotect refuses to make it
// writable or executable (-EACCES, as Linux for its vvar). -EACCES for such a prot here too.
int map_kernel_frame(uint64_t va, uint64_t phys, int prot);
void unmap(uint64_t start, uint64_t len);
// mprotect(2): -ENOMEM if part of the range is not mapped.
int protect(uint64_t start, uint64_t len, int prot);
// A free range of len bytes for mmap without a fixed address, or 0.
uint64_t find_free(uint64_t len);
// mmap's placement without MAP_FIXED: hint (page-aligned down) when [hint, hint + len) is
// free, at or above mmap_min_addr and below kUserTop, as Linux takes a hint; else find_free.
uint64_t place(uint64_t hint, uint64_t len);
// True when no area overlaps [start, start + len).
bool unmapped(uint64_t start, uint64_t len);
// madvise(MADV_DONTNEED/MADV_FREE): the backed pages of the range go back to the allocator
// and read as zeros when touched again; the areas stay. -EINVAL where a kernel frame is mapped
// (the vDSO's clock page: Linux's VM_PFNMAP), else -ENOMEM when part of the range is not
// mapped (the rest is still done, as Linux does).
int discard(uint64_t start, uint64_t len);
// madvise(MADV_POPULATE_READ/WRITE): backs every page of the range now. -ENOMEM where not
// mapped or out of frames, -EINVAL for an area without the access's permission (PROT_NONE, a
// write to a read-only area) or a kernel frame (Linux: VM_PFNMAP).
int populate(uint64_t start, uint64_t len, bool write);
// True when [start, start + len) is entirely mapped with at least prot.
bool accessible(uint64_t start, uint64_t len, int prot);
// The area that contains addr: its start, end and protection; false if none.
bool area_at(uint64_t addr, uint64_t& start, uint64_t& end, int& prot);

// The page-fault hook: backs a not-present page inside an area with a zeroed frame. False
// when the access is not allowed (the caller reports the fault).
bool handle_fault(uint64_t addr, uint64_t error_code);
// The application's memory as getrusage reports it: pages backed now and at the most
// (ru_maxrss), and the page faults that backed one (ru_minflt; there are no major faults).
struct MemoryUse {
    uint64_t resident_pages, peak_pages, minor_faults;
};
MemoryUse memory_use();
// Copies into the application's memory through the direct map, ignoring the areas'
// protections (the ELF loader filling read-only text). Backs pages as needed.
bool copy_in(uint64_t va, const void* src, size_t len);

// brk(2) bookkeeping: the break starts at start (page-aligned end of the executable).
void set_brk_start(uint64_t start);
uint64_t brk(uint64_t requested);

}  // namespace pollux::user
