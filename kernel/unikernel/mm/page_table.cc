#include "mm/page_table.h"

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "console/printk.h"
#include "mm/direct_map.h"
#include "mm/frame_allocator.h"
#include "panic/panic.h"

extern "C" char __kernel_start[], __text_start[], __text_end[], __rodata_start[], __rodata_end[],
    __data_start[], __kernel_end[];
extern "C" char boot_stack_guard[], ist_df_guard[], ist_nmi_guard[], ist_mc_guard[];

namespace pollux::mm {

uint64_t direct_map_offset = 0;

namespace {

constexpr uint64_t kAddressMask = 0x000ffffffffff000;
constexpr uint64_t kLargePageSize = 2ull << 20;
constexpr uint64_t kCpuidExtNx = 1u << 20;  // CPUID.80000001H:EDX.NX (SDM Vol. 2A, CPUID)
constexpr uint64_t kCr4Pge = 1u << 7, kCr4Smep = 1u << 20;
constexpr uint32_t kCpuidSmep = 1u << 7;  // CPUID.(EAX=7,ECX=0):EBX.SMEP

uint64_t pml4_phys = 0;
uint64_t nx_bit = 0;  // kPteNoExecute when the CPU has NX, else 0 (the bit would be reserved)

uint64_t* table(uint64_t paddr) { return phys_to_virt<uint64_t>(paddr); }

int index_at(uint64_t va, int level) { return int((va >> (12 + 9 * level)) & 511); }

// The table one level down from entry `index`, created if absent. Intermediate entries allow
// everything; the leaf decides (SDM 4.6: rights are the AND of all levels).
uint64_t* descend(uint64_t* t, int index, uint64_t extra = 0) {
    uint64_t e = t[index];
    if (e & kPtePresent) {
        if (e & kPteHuge) panic("mm: mapping inside a large page");
        if ((e & extra) != extra) t[index] = e | extra;
        return table(e & kAddressMask);
    }
    uint64_t frame = frames().alloc();
    if (!frame) panic("mm: out of memory for page tables");
    memset(table(frame), 0, kPageSize);
    t[index] = frame | kPtePresent | kPteWritable | extra;
    return table(frame);
}

void map_page(uint64_t va, uint64_t pa, uint64_t flags, bool large) {
    uint64_t* t = table(pml4_phys);
    t = descend(t, index_at(va, 3));
    t = descend(t, index_at(va, 2));
    if (large) {
        t[index_at(va, 1)] = pa | flags | kPteHuge;
        return;
    }
    t = descend(t, index_at(va, 1));
    t[index_at(va, 0)] = pa | flags;
}

void map_range(uint64_t va, uint64_t pa, uint64_t size, uint64_t flags) {
    uint64_t end = va + size;
    while (va < end) {
        bool large = (va % kLargePageSize) == 0 && (pa % kLargePageSize) == 0 && end - va >= kLargePageSize;
        map_page(va, pa, flags, large);
        uint64_t step = large ? kLargePageSize : kPageSize;
        va += step;
        pa += step;
    }
}

bool is_guard_page(uint64_t va) {
    return va == uint64_t(boot_stack_guard) || va == uint64_t(ist_df_guard) || va == uint64_t(ist_nmi_guard) ||
           va == uint64_t(ist_mc_guard);
}

void map_kernel_image() {
    for (uint64_t va = uint64_t(__kernel_start); va < uint64_t(__kernel_end); va += kPageSize) {
        if (is_guard_page(va)) continue;
        uint64_t flags = kPtePresent | kPteGlobal;
        if (va >= uint64_t(__text_start) && va < uint64_t(__text_end)) {
            // read + execute
        } else if (va >= uint64_t(__rodata_start) && va < uint64_t(__rodata_end)) {
            flags |= nx_bit;
        } else {
            flags |= kPteWritable | nx_bit;
        }
        map_page(va, va - kKernelVma, flags, false);
    }
}

// The direct map must not undo W^X: its alias of the kernel's text and rodata is read-only
// (and, like all of the direct map, not executable).
void map_direct(uint64_t start, uint64_t end) {
    uint64_t ro_start = uint64_t(__text_start) - kKernelVma, ro_end = uint64_t(__rodata_end) - kKernelVma;
    uint64_t rw = kPtePresent | kPteWritable | nx_bit, ro = kPtePresent | nx_bit;
    auto piece = [](uint64_t from, uint64_t to, uint64_t flags) {
        if (to > from) map_range(kDirectMapBase + from, from, to - from, flags);
    };
    piece(start, end < ro_start ? end : ro_start, rw);
    piece(start > ro_start ? start : ro_start, end < ro_end ? end : ro_end, ro);
    piece(start > ro_end ? start : ro_end, end, rw);
}

}  // namespace

bool nx_enabled() { return nx_bit != 0; }

void paging_init(const BootInfo& info) {
    if (cpu::cpuid(0x80000000).eax >= 0x80000001 && (cpu::cpuid(0x80000001).edx & kCpuidExtNx)) {
        cpu::wrmsr(cpu::kMsrEfer, cpu::rdmsr(cpu::kMsrEfer) | cpu::kEferNxe);
        nx_bit = kPteNoExecute;
    } else {
        printk("mm: this CPU has no NX bit: data pages stay executable\n");
    }
    // SMEP (SDM Vol. 3A 4.6.1): the kernel never executes a user page, so a jump into the
    // application's half faults. SMAP is left to the syscall layer, which must bracket its
    // user copies with stac/clac.
    if (cpu::cpuid(0).eax >= 7 && (cpu::cpuid(7).ebx & kCpuidSmep)) cpu::write_cr4(cpu::read_cr4() | kCr4Smep);
    pml4_phys = frames().alloc();
    if (!pml4_phys) panic("mm: no frame for the PML4");
    memset(table(pml4_phys), 0, kPageSize);

    map_kernel_image();
    for (size_t i = 0; i < info.region_count; ++i) {
        const MemoryRegion& r = info.regions[i];
        if (r.type != MemoryType::ram) continue;
        map_direct(r.base & ~(kPageSize - 1), (r.base + r.size) & ~(kPageSize - 1));
    }
    // The switch: from here the low identity map is gone and physical memory is reached
    // through the direct map only.
    cpu::write_cr4(cpu::read_cr4() | kCr4Pge);
    cpu::write_cr3(pml4_phys);
    direct_map_offset = kDirectMapBase;
}

volatile void* map_mmio(uint64_t paddr, size_t size) {
    uint64_t start = paddr & ~(kPageSize - 1);
    for (uint64_t pa = start; pa < paddr + size; pa += kPageSize) {
        uint64_t va = kDirectMapBase + pa;
        if (!is_mapped(va)) {
            map_page(va, pa, kPtePresent | kPteWritable | kPteCacheDisable | kPteWriteThrough | nx_bit, false);
            cpu::invlpg(va);
        }
    }
    return reinterpret_cast<volatile void*>(kDirectMapBase + paddr);
}

bool is_mapped(uint64_t va) {
    uint64_t* t = table(cpu::read_cr3() & kAddressMask);
    for (int level = 3; level >= 0; --level) {
        uint64_t e = t[index_at(va, level)];
        if (!(e & kPtePresent)) return false;
        if (level == 0 || (e & kPteHuge)) return true;
        t = table(e & kAddressMask);
    }
    return false;
}

}  // namespace pollux::mm

namespace pollux::mm {

uint64_t nx_flag() { return nx_bit; }

void map_kernel_page(uint64_t va, uint64_t pa, uint64_t flags) {
    map_page(va, pa, (flags & ~kPteExecutable) | (flags & kPteExecutable ? 0 : nx_bit), false);
    cpu::invlpg(va);
}

uint64_t* user_pte(uint64_t va, bool create) {
    if (va >= kUserTop) return nullptr;
    uint64_t* t = table(pml4_phys);
    for (int level = 3; level > 0; --level) {
        uint64_t e = t[index_at(va, level)];
        if (!(e & kPtePresent)) {
            if (!create) return nullptr;
        }
        // Intermediate entries of the lower half carry the User bit, else the leaf's would not
        // count (SDM 4.6: rights are the AND of all levels).
        t = descend(t, index_at(va, level), kPteUser);
    }
    return &t[index_at(va, 0)];
}

namespace {

bool table_empty(const uint64_t* t) {
    for (int i = 0; i < 512; ++i)
        if (t[i]) return false;
    return true;
}

// Below the table at `level` (3: the PML4) that maps from `base`: frees every child table whose
// span meets [start, end) and that is empty once its own children are freed.
size_t prune(uint64_t* t, int level, uint64_t base, uint64_t start, uint64_t end) {
    size_t freed = 0;
    uint64_t span = kPageSize << (9 * level);  // what one entry of this table maps
    for (int i = 0; i < 512; ++i) {
        uint64_t from = base + uint64_t(i) * span, to = from + span;
        if (to <= start || from >= end) continue;
        uint64_t e = t[i];
        if (!(e & kPtePresent) || (e & kPteHuge)) continue;
        uint64_t* child = table(e & kAddressMask);
        if (level > 1) freed += prune(child, level - 1, from, start, end);
        if (table_empty(child)) {
            t[i] = 0;
            frames().free(e & kAddressMask);
            ++freed;
        }
    }
    return freed;
}

}  // namespace

size_t release_user_tables(uint64_t start, uint64_t end) {
    if (end > kUserTop) end = kUserTop;
    if (start >= end) return 0;
    size_t freed = prune(table(pml4_phys), 3, 0, start, end);
    // A freed table may still sit in the paging-structure caches: reloading CR3 drops them
    // with the user half's TLB entries (the kernel's are global and stay).
    if (freed) cpu::write_cr3(cpu::read_cr3());
    return freed;
}

}  // namespace pollux::mm
