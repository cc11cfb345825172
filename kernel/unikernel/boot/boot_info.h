// What the loader told us, copied out of its structures before anything can overwrite them:
// the memory map, the command line, the ACPI RSDP. Filled once by parse_boot_info() from PVH's
// hvm_start_info or from a Multiboot2 information structure.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux {

enum class BootProtocol : uint32_t { unknown = 0, pvh = 1, multiboot2 = 2 };

// E820 types, as both PVH (start_info.h XEN_HVM_MEMMAP_TYPE_*) and Multiboot2 (spec 3.6.8) use them.
enum class MemoryType : uint32_t { ram = 1, reserved = 2, acpi = 3, nvs = 4, unusable = 5 };

struct MemoryRegion {
    uint64_t base;
    uint64_t size;
    MemoryType type;
};

struct BootInfo {
    BootProtocol protocol = BootProtocol::unknown;
    static constexpr size_t kMaxRegions = 64;
    MemoryRegion regions[kMaxRegions] = {};
    size_t region_count = 0;
    char cmdline[1024] = {};
    uint64_t rsdp_paddr = 0;
    uint64_t tsc_at_entry = 0;
    // The first boot module (PVH modlist entry 0, QEMU's -initrd; Multiboot2 module tag): the
    // application's ELF. Size 0 when there is none.
    uint64_t module_paddr = 0, module_size = 0;
};

// Reads the loader's structures through the boot identity map (the low 1 GiB).
// Returns false, with a message on the console, when they are absent or malformed.
bool parse_boot_info(BootInfo& info);

const char* boot_protocol_name(BootProtocol p);
const char* memory_type_name(MemoryType t);

}  // namespace pollux
