#include "boot/boot_info.h"

#include <cstring>

#include "console/printk.h"
#include "mm/direct_map.h"

extern "C" {
extern uint64_t boot_tsc, boot_info_paddr;
extern uint32_t boot_protocol;
}

namespace pollux {
namespace {

// An RSDP (36 bytes for ACPI 2.0+) copied out of the multiboot2 information, in the kernel
// image, whose physical address stays valid.
alignas(16) uint8_t rsdp_copy[36];

// xen/include/public/arch-x86/hvm/start_info.h, version 1 (memmap fields since Xen 4.11).
constexpr uint32_t kHvmStartMagic = 0x336ec578;
struct HvmStartInfo {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries, reserved;
};
struct HvmModlistEntry {
    uint64_t paddr, size, cmdline_paddr, reserved;
};
struct HvmMemmapEntry {
    uint64_t addr, size;
    uint32_t type, reserved;
};
static_assert(sizeof(HvmStartInfo) == 56 && sizeof(HvmMemmapEntry) == 24 && sizeof(HvmModlistEntry) == 32);

// Multiboot2 spec 3.6: fixed part, then 8-aligned tags.
struct Mb2Tag {
    uint32_t type, size;
};
constexpr uint32_t kMb2TagEnd = 0, kMb2TagCmdline = 1, kMb2TagModule = 3, kMb2TagMmap = 6, kMb2TagAcpiOld = 14,
                   kMb2TagAcpiNew = 15;
struct Mb2MmapEntry {
    uint64_t base, length;
    uint32_t type, reserved;
};

// The boot page tables map only the low 1 GiB one to one.
constexpr uint64_t kIdentityLimit = 1ull << 30;
bool reachable(uint64_t paddr, uint64_t len) { return paddr && paddr + len <= kIdentityLimit; }
template <typename T>
const T* at(uint64_t paddr) {
    return reinterpret_cast<const T*>(paddr);
}

void copy_cmdline(BootInfo& info, uint64_t paddr) {
    if (!reachable(paddr, 1)) return;
    const char* s = at<char>(paddr);
    size_t n = 0;
    while (n + 1 < sizeof info.cmdline && paddr + n < kIdentityLimit && s[n]) ++n;
    memcpy(info.cmdline, s, n);
    info.cmdline[n] = '\0';
}

void add_region(BootInfo& info, uint64_t base, uint64_t size, uint32_t type) {
    if (info.region_count == BootInfo::kMaxRegions) {
        printk("boot: memory map has more than %zu entries; ignoring the rest\n", BootInfo::kMaxRegions);
        return;
    }
    info.regions[info.region_count++] = {base, size, MemoryType(type)};
}

bool parse_pvh(BootInfo& info, uint64_t paddr) {
    if (!reachable(paddr, sizeof(HvmStartInfo)) || at<HvmStartInfo>(paddr)->magic != kHvmStartMagic) {
        printk("boot: no hvm_start_info at %#lx\n", paddr);
        return false;
    }
    const HvmStartInfo& si = *at<HvmStartInfo>(paddr);
    copy_cmdline(info, si.cmdline_paddr);
    info.rsdp_paddr = si.rsdp_paddr;
    if (si.nr_modules && reachable(si.modlist_paddr, sizeof(HvmModlistEntry))) {
        const HvmModlistEntry& m = *at<HvmModlistEntry>(si.modlist_paddr);
        info.module_paddr = m.paddr;
        info.module_size = m.size;
    }
    if (si.version < 1 || !reachable(si.memmap_paddr, si.memmap_entries * sizeof(HvmMemmapEntry))) {
        printk("boot: hvm_start_info version %u has no memory map\n", si.version);
        return false;
    }
    const HvmMemmapEntry* e = at<HvmMemmapEntry>(si.memmap_paddr);
    for (uint32_t i = 0; i < si.memmap_entries; ++i)
        if (e[i].size) add_region(info, e[i].addr, e[i].size, e[i].type);  // QEMU ends with an empty entry
    return true;
}

bool parse_multiboot2(BootInfo& info, uint64_t paddr) {
    if (!reachable(paddr, 8)) return false;
    uint32_t total = *at<uint32_t>(paddr);
    if (!reachable(paddr, total)) return false;
    bool have_mmap = false;
    for (uint64_t p = paddr + 8; p + sizeof(Mb2Tag) <= paddr + total;) {
        const Mb2Tag& tag = *at<Mb2Tag>(p);
        if (tag.type == kMb2TagEnd || tag.size < sizeof(Mb2Tag)) break;
        if (tag.type == kMb2TagCmdline) {
            copy_cmdline(info, p + 8);
        } else if (tag.type == kMb2TagModule && !info.module_size) {
            // Spec 3.6.6: mod_start, mod_end (32-bit physical addresses), then its string.
            info.module_paddr = *at<uint32_t>(p + 8);
            info.module_size = *at<uint32_t>(p + 12) - info.module_paddr;
        } else if (tag.type == kMb2TagMmap) {
            uint32_t entry_size = *at<uint32_t>(p + 8);
            for (uint64_t e = p + 16; entry_size && e + entry_size <= p + tag.size; e += entry_size) {
                const Mb2MmapEntry& m = *at<Mb2MmapEntry>(e);
                add_region(info, m.base, m.length, m.type);
            }
            have_mmap = true;
        } else if ((tag.type == kMb2TagAcpiOld || tag.type == kMb2TagAcpiNew) && !info.rsdp_paddr) {
            // The tag holds a copy of the RSDP, which is all a later ACPI walk needs. It is copied
            // out: the multiboot2 information sits in memory the frame allocator hands out (GRUB
            // puts it right after the kernel image), so by the time ACPI is read it may be a
            // page table.
            size_t len = tag.size - 8 < sizeof(rsdp_copy) ? tag.size - 8 : sizeof(rsdp_copy);
            std::memcpy(rsdp_copy, at<uint8_t>(p + 8), len);
            info.rsdp_paddr = uint64_t(rsdp_copy) - mm::kKernelVma;
        }
        p += (tag.size + 7) & ~7u;
    }
    if (!have_mmap) printk("boot: multiboot2 information has no memory map\n");
    return have_mmap;
}

}  // namespace

bool parse_boot_info(BootInfo& info) {
    info.protocol = BootProtocol(boot_protocol);
    info.tsc_at_entry = boot_tsc;
    switch (info.protocol) {
    case BootProtocol::pvh: return parse_pvh(info, boot_info_paddr);
    case BootProtocol::multiboot2: return parse_multiboot2(info, boot_info_paddr);
    default: printk("boot: entered by an unknown loader\n"); return false;
    }
}

const char* boot_protocol_name(BootProtocol p) {
    switch (p) {
    case BootProtocol::pvh: return "PVH";
    case BootProtocol::multiboot2: return "multiboot2";
    default: return "unknown";
    }
}

const char* memory_type_name(MemoryType t) {
    switch (t) {
    case MemoryType::ram: return "RAM";
    case MemoryType::reserved: return "reserved";
    case MemoryType::acpi: return "ACPI";
    case MemoryType::nvs: return "ACPI NVS";
    case MemoryType::unusable: return "unusable";
    default: return "other";
    }
}

}  // namespace pollux
