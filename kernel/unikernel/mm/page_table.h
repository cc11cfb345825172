// The kernel's page tables, built once by paging_init() to replace boot.S's:
//   PML4[256..]  direct map of all RAM, RW + NX (2 MiB pages where aligned; the alias of the
//                kernel's text and rodata read-only), and MMIO mapped on demand at the same
//                offset, uncached;
//   PML4[511]    the kernel image in 4 KiB pages: text RX, rodata R+NX, data/bss RW+NX,
//                the guard page under every stack left unmapped;
//   PML4[0..255] empty: the lower half belongs to the application.
// No page is both writable and executable (W^X). Intel SDM Vol. 3A 4.5 (4-level paging).
#pragma once

#include <cstddef>
#include <cstdint>

#include "boot/boot_info.h"

namespace pollux::mm {

// Page-table entry bits (SDM Vol. 3A 4.5, tables 4-14 to 4-20).
constexpr uint64_t kPtePresent = 1ull << 0;
constexpr uint64_t kPteWritable = 1ull << 1;
constexpr uint64_t kPteUser = 1ull << 2;
constexpr uint64_t kPteWriteThrough = 1ull << 3;
constexpr uint64_t kPteCacheDisable = 1ull << 4;
constexpr uint64_t kPteHuge = 1ull << 7;
constexpr uint64_t kPteGlobal = 1ull << 8;
constexpr uint64_t kPteNoExecute = 1ull << 63;

// Builds and loads the kernel's tables; the frame allocator must be up. Panics on failure.
void paging_init(const BootInfo& info);
// Maps [paddr, paddr + size) uncached into the direct map and returns its virtual address.
volatile void* map_mmio(uint64_t paddr, size_t size);
// True when va is mapped in the current tables (walks them; for diagnostics).
bool is_mapped(uint64_t va);
bool nx_enabled();

// The lower half [0, kUserTop) is the application's: its pages carry the User bit; every
// other page is supervisor-only.
constexpr uint64_t kUserTop = 0x0000800000000000;
// A flag of our own for map_kernel_page: the page may be executed (NX is the default).
constexpr uint64_t kPteExecutable = 1ull << 62;
// kPteNoExecute when the CPU has NX, else 0.
uint64_t nx_flag();
// Maps one 4 KiB kernel page (not executable unless kPteExecutable) and flushes its TLB entry.
void map_kernel_page(uint64_t va, uint64_t pa, uint64_t flags);
// The leaf entry for a user address, creating the tables on the way when `create`; null when
// va is not a user address or (without create) a table is missing. The caller flushes the TLB.
uint64_t* user_pte(uint64_t va, bool create);
// Frees the user page tables (and the directories above them) in [start, end) that map
// nothing any more, as Linux's free_pgtables() does after munmap; the frames go back to the
// allocator and the TLB is flushed. Returns how many tables were freed.
size_t release_user_tables(uint64_t start, uint64_t end);

}  // namespace pollux::mm
