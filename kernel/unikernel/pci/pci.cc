#include "pci/pci.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "console/printk.h"
#include "mm/page_table.h"

namespace pollux::pci {
namespace {

constexpr uint16_t kConfigAddress = 0xcf8, kConfigData = 0xcfc;
constexpr uint32_t kConfigEnable = 1u << 31;

// Configuration header offsets (PCI Local Bus spec 3.0, 6.1; bridges: PCI-to-PCI Bridge spec 1.2, 3.2).
constexpr uint8_t kRegVendorDevice = 0x00, kRegCommand = 0x04, kRegClass = 0x08, kRegHeader = 0x0c,
                  kRegBar0 = 0x10, kRegBridgeBuses = 0x18, kRegInterrupt = 0x3c;
constexpr uint16_t kCommandIo = 1 << 0, kCommandMemory = 1 << 1, kCommandBusMaster = 1 << 2,
                   kCommandIntxDisable = 1 << 10;
constexpr uint8_t kRegCapabilities = 0x34;
constexpr uint32_t kStatusCapabilityList = 1u << 20;  // status (upper half of 0x04), bit 4
// Capability IDs (PCI 3.0 appendix H) and the MSI/MSI-X layouts (6.8.1, PCI 3.0 ECN MSI-X 6.8.2).
constexpr uint8_t kCapMsi = 0x05, kCapMsix = 0x11;
constexpr uint32_t kMsiEnable = 1u << 16, kMsi64Bit = 1u << 23, kMsiMultipleEnableMask = 7u << 20;
constexpr uint32_t kMsixEnable = 1u << 31, kMsixFunctionMask = 1u << 30;  // message control, as the dword's top half
constexpr uint32_t kMsixBirMask = 7;
constexpr size_t kMsixEntrySize = 16;  // address low, address high, data, vector control
// The LAPIC's MSI window (SDM Vol. 3A 11.11.1): 0xfee00000 | destination APIC ID << 12.
constexpr uint32_t kMsiAddressBase = 0xfee00000;
constexpr uint8_t kHeaderMultiFunction = 0x80, kHeaderTypeMask = 0x7f, kHeaderBridge = 0x01;
constexpr uint32_t kBarIo = 1 << 0, kBarMemType64 = 2 << 1, kBarMemTypeMask = 3 << 1, kBarPrefetch = 1 << 3;

// Where we put BARs nobody assigned: from 0xc0000000 (above q35's MMCONFIG window at
// 0xb0000000-0xbfffffff), or above the RAM below 4 GiB if that reaches higher (pc with
// > 3 GiB), up to the IOAPIC/LAPIC at 0xfec00000; I/O from 0xc000, above the legacy ISA and
// ACPI ports QEMU places below it.
constexpr uint64_t kMemoryWindowStart = 0xc0000000, kMemoryWindowEnd = 0xfec00000;
constexpr uint64_t kWindowAlign = 256 << 20;
constexpr uint32_t kIoWindowStart = 0xc000, kIoWindowEnd = 0x10000;

constexpr size_t kMaxFunctions = 64;
Function functions[kMaxFunctions];
size_t count = 0;
uint64_t memory_window_start = kMemoryWindowStart;
uint64_t next_memory = kMemoryWindowStart;
uint32_t next_io = kIoWindowStart;

// ECAM: 4 KiB of configuration space per function, 1 MiB per bus, mapped a bus at a time on
// first use (mapping all 256 MiB up front would cost 512 KiB of page tables).
uint64_t ecam_base = 0;
uint8_t ecam_start_bus = 0, ecam_end_bus = 0;
uint64_t ecam_mapped[4];  // one bit per bus

volatile uint32_t* ecam_register(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t offset) {
    if (bus < ecam_start_bus || bus > ecam_end_bus) return nullptr;
    uint64_t bus_base = ecam_base + (uint64_t(bus - ecam_start_bus) << 20);
    if (!(ecam_mapped[bus / 64] >> (bus % 64) & 1)) {
        mm::map_mmio(bus_base, 1 << 20);
        ecam_mapped[bus / 64] |= 1ull << (bus % 64);
    }
    uint64_t at = bus_base + (uint64_t(dev) << 15 | uint64_t(fn) << 12 | (offset & 0xfc));
    return static_cast<volatile uint32_t*>(mm::map_mmio(at, 4));  // already mapped: just the address
}

uint32_t address(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t offset) {
    return kConfigEnable | uint32_t(bus) << 16 | uint32_t(dev) << 11 | uint32_t(fn) << 8 | (offset & 0xfc);
}

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) & ~(a - 1); }

// Firmware-assigned BARs sit wherever the firmware chose; ours must not overlap them.
void reserve_above(const Bar& bar) {
    if (bar.io) {
        if (bar.address + bar.size > next_io && bar.address >= kIoWindowStart) next_io = uint32_t(bar.address + bar.size);
    } else if (bar.address >= memory_window_start && bar.address + bar.size > next_memory &&
               bar.address < kMemoryWindowEnd) {
        next_memory = bar.address + bar.size;
    }
}

// Sizes BAR `index` (spec 6.2.5.1: write all ones, read back the mask) and returns how many
// BAR slots it takes (2 for a 64-bit memory BAR).
int probe_bar(Function& f, int index) {
    uint8_t reg = uint8_t(kRegBar0 + 4 * index);
    uint32_t original = config_read32(f.bus, f.device, f.function, reg);
    config_write32(f.bus, f.device, f.function, reg, 0xffffffff);
    uint32_t mask = config_read32(f.bus, f.device, f.function, reg);
    config_write32(f.bus, f.device, f.function, reg, original);
    Bar& bar = f.bars[index];
    bar = {};
    if (original & kBarIo) {
        bar.io = true;
        uint32_t m = mask & ~3u & 0xffff;
        if (!m) return 1;
        bar.size = (~m & 0xffff) + 1;
        bar.address = original & ~3u;
        return 1;
    }
    bar.is64 = (original & kBarMemTypeMask) == kBarMemType64;
    bar.prefetchable = original & kBarPrefetch;
    uint64_t base = original & ~0xfull;
    uint64_t size_mask = mask & ~0xfull;
    if (bar.is64 && index < 5) {
        uint8_t high_reg = uint8_t(reg + 4);
        uint32_t high = config_read32(f.bus, f.device, f.function, high_reg);
        config_write32(f.bus, f.device, f.function, high_reg, 0xffffffff);
        uint32_t high_mask = config_read32(f.bus, f.device, f.function, high_reg);
        config_write32(f.bus, f.device, f.function, high_reg, high);
        base |= uint64_t(high) << 32;
        size_mask |= uint64_t(high_mask) << 32;
        if (size_mask) bar.size = ~size_mask + 1;
    } else if (size_mask) {
        bar.size = uint32_t(~uint32_t(size_mask) + 1);  // a 32-bit BAR: size within 32 bits
    }
    bar.address = base;
    return bar.is64 ? 2 : 1;
}

void assign_bar(Function& f, int index) {
    Bar& bar = f.bars[index];
    uint8_t reg = uint8_t(kRegBar0 + 4 * index);
    if (bar.io) {
        uint64_t at = align_up(next_io, bar.size);
        if (at + bar.size > kIoWindowEnd) return;
        config_write32(f.bus, f.device, f.function, reg, uint32_t(at) | kBarIo);
        if ((config_read32(f.bus, f.device, f.function, reg) & ~3u) != at) return;  // did not stick
        bar.address = at;
        next_io = uint32_t(at + bar.size);
    } else {
        uint64_t at = align_up(next_memory, bar.size);
        if (at + bar.size > kMemoryWindowEnd) return;
        uint32_t low_flags = config_read32(f.bus, f.device, f.function, reg) & 0xf;
        config_write32(f.bus, f.device, f.function, reg, uint32_t(at) | low_flags);
        if (bar.is64) config_write32(f.bus, f.device, f.function, uint8_t(reg + 4), uint32_t(at >> 32));
        if ((config_read32(f.bus, f.device, f.function, reg) & ~0xfu) != uint32_t(at)) return;  // did not stick
        bar.address = at;
        next_memory = at + bar.size;
    }
    bar.assigned_by_us = true;
}

void scan_bus(uint8_t bus, int depth);

void find_capabilities(Function& f) {
    if (!(config_read32(f.bus, f.device, f.function, kRegCommand) & kStatusCapabilityList)) return;
    uint8_t at = uint8_t(config_read32(f.bus, f.device, f.function, kRegCapabilities) & 0xfc);
    for (int guard = 0; at >= 0x40 && guard < 48; ++guard) {  // a looping list must end
        uint32_t header = config_read32(f.bus, f.device, f.function, at);
        uint8_t id = uint8_t(header);
        if (id == kCapMsi) f.msi_cap = at;
        if (id == kCapMsix) {
            f.msix_cap = at;
            f.msix_table_size = uint16_t(((header >> 16) & 0x7ff) + 1);
        }
        at = uint8_t((header >> 8) & 0xfc);
    }
}

void scan_function(uint8_t bus, uint8_t dev, uint8_t fn, int depth) {
    uint32_t id = config_read32(bus, dev, fn, kRegVendorDevice);
    if ((id & 0xffff) == 0xffff || count == kMaxFunctions) return;
    Function& f = functions[count++];
    f = {};
    f.bus = bus;
    f.device = dev;
    f.function = fn;
    f.vendor_id = uint16_t(id);
    f.device_id = uint16_t(id >> 16);
    uint32_t class_reg = config_read32(bus, dev, fn, kRegClass);
    f.class_code = uint8_t(class_reg >> 24);
    f.subclass = uint8_t(class_reg >> 16);
    f.prog_if = uint8_t(class_reg >> 8);
    f.header_type = uint8_t(config_read32(bus, dev, fn, kRegHeader) >> 16);
    uint8_t type = f.header_type & kHeaderTypeMask;
    int bar_count = type == 0 ? 6 : type == kHeaderBridge ? 2 : 0;
    for (int i = 0; i < bar_count;) i += probe_bar(f, i);
    find_capabilities(f);
    uint32_t interrupt = config_read32(bus, dev, fn, kRegInterrupt);
    f.interrupt_line = uint8_t(interrupt);
    f.interrupt_pin = uint8_t(interrupt >> 8);
    if (type == kHeaderBridge && depth < 8) {
        uint8_t secondary = uint8_t(config_read32(bus, dev, fn, kRegBridgeBuses) >> 8);
        if (secondary > bus) scan_bus(secondary, depth + 1);
    }
}

void scan_bus(uint8_t bus, int depth) {
    for (uint8_t dev = 0; dev < 32; ++dev) {
        if ((config_read32(bus, dev, 0, kRegVendorDevice) & 0xffff) == 0xffff) continue;
        bool multi = (config_read32(bus, dev, 0, kRegHeader) >> 16) & kHeaderMultiFunction;
        for (uint8_t fn = 0; fn < (multi ? 8 : 1); ++fn) scan_function(bus, dev, fn, depth);
    }
}

}  // namespace

uint32_t config_read32(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset) {
    if (ecam_base) {
        volatile uint32_t* r = ecam_register(bus, device, function, offset);
        return r ? *r : 0xffffffff;
    }
    cpu::outl(kConfigAddress, address(bus, device, function, offset));
    return cpu::inl(kConfigData);
}

void config_write32(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset, uint32_t value) {
    if (ecam_base) {
        if (volatile uint32_t* r = ecam_register(bus, device, function, offset)) *r = value;
        return;
    }
    cpu::outl(kConfigAddress, address(bus, device, function, offset));
    cpu::outl(kConfigData, value);
}

size_t init(uint64_t low_ram_top, uint64_t ecam, uint8_t ecam_start, uint8_t ecam_end) {
    if (low_ram_top > memory_window_start) memory_window_start = align_up(low_ram_top, kWindowAlign);
    next_memory = memory_window_start;
    next_io = kIoWindowStart;
    // Mechanism #1 present: the address register reads back what was written (PCI 3.0, 3.2.2.3.2).
    cpu::outl(kConfigAddress, kConfigEnable);
    if (cpu::inl(kConfigAddress) == kConfigEnable) {
        printk(KERN_INFO "pci: configuration space through ports 0xcf8/0xcfc\n");
    } else if (ecam) {
        ecam_base = ecam;
        ecam_start_bus = ecam_start;
        ecam_end_bus = ecam_end;
        printk(KERN_INFO "pci: configuration space through ECAM at %#lx (buses %u-%u)\n", ecam, ecam_start, ecam_end);
    } else {
        printk(KERN_INFO "pci: no configuration space at 0xcf8 and no MCFG (no PCI on this machine)\n");
        return 0;
    }
    count = 0;
    scan_bus(ecam_base ? ecam_start_bus : 0, 0);
    for (size_t i = 0; i < count; ++i)
        for (const Bar& bar : functions[i].bars)
            if (bar.size && bar.address) reserve_above(bar);
    for (size_t i = 0; i < count; ++i) {
        Function& f = functions[i];
        char msix[24] = "";
        if (f.msix_cap) ksnprintf(msix, sizeof msix, " msi-x(%u)", f.msix_table_size);
        printk(KERN_INFO "pci: %02x:%02x.%x %04x:%04x class %02x.%02x.%02x%s%s\n", f.bus, f.device, f.function,
               f.vendor_id, f.device_id, f.class_code, f.subclass, f.prog_if, f.msi_cap ? " msi" : "", msix);
        bool any_assigned = false;
        for (int b = 0; b < 6; ++b) {
            Bar& bar = f.bars[b];
            if (!bar.size) continue;
            if (!bar.address && f.bus == 0) {  // behind a bridge we would need to program its window too
                assign_bar(f, b);
                any_assigned |= bar.assigned_by_us;
            }
            printk(KERN_INFO "pci:   BAR%d %s %#lx size %#lx%s%s%s\n", b, bar.io ? "io " : "mem", bar.address, bar.size,
                   bar.is64 ? " 64-bit" : "", bar.prefetchable ? " prefetchable" : "",
                   bar.assigned_by_us ? " (assigned by Pollux)" : bar.address ? "" : " (unassigned)");
        }
        if (any_assigned) {
            uint32_t command = config_read32(f.bus, f.device, f.function, kRegCommand);
            // Only the command half: the status half is write-1-to-clear.
            config_write32(f.bus, f.device, f.function, kRegCommand, (command & 0xffff) | kCommandIo | kCommandMemory);
        }
    }
    printk(KERN_INFO "pci: %zu functions\n", count);
    return count;
}

bool enable_msi(const Function& f, uint8_t vector) {
    if (!f.msi_cap) return false;
    uint8_t cap = f.msi_cap;
    uint32_t control = config_read32(f.bus, f.device, f.function, cap);
    config_write32(f.bus, f.device, f.function, uint8_t(cap + 4), kMsiAddressBase | lapic::id() << 12);
    uint8_t data_at = uint8_t(cap + 8);
    if (control & kMsi64Bit) {
        config_write32(f.bus, f.device, f.function, uint8_t(cap + 8), 0);
        data_at = uint8_t(cap + 12);
    }
    config_write32(f.bus, f.device, f.function, data_at, vector);  // fixed delivery, edge
    config_write32(f.bus, f.device, f.function, cap, (control & ~kMsiMultipleEnableMask) | kMsiEnable);
    uint32_t command = config_read32(f.bus, f.device, f.function, kRegCommand);
    // An MSI is a memory write by the device: without bus mastering it goes nowhere.
    config_write32(f.bus, f.device, f.function, kRegCommand, (command & 0xffff) | kCommandIntxDisable | kCommandBusMaster);
    return true;
}

bool enable_msix(const Function& f, uint16_t entry, uint8_t vector) {
    if (!f.msix_cap || entry >= f.msix_table_size) return false;
    uint8_t cap = f.msix_cap;
    uint32_t table = config_read32(f.bus, f.device, f.function, uint8_t(cap + 4));
    const Bar& bar = f.bars[table & kMsixBirMask];
    if (!bar.address || bar.io) return false;
    uint64_t at = bar.address + (table & ~kMsixBirMask) + uint64_t(entry) * kMsixEntrySize;
    auto* e = static_cast<volatile uint32_t*>(mm::map_mmio(at, kMsixEntrySize));
    e[0] = kMsiAddressBase | lapic::id() << 12;
    e[1] = 0;
    e[2] = vector;  // fixed delivery, edge
    e[3] = 0;       // unmasked
    uint32_t control = config_read32(f.bus, f.device, f.function, cap);
    config_write32(f.bus, f.device, f.function, cap, (control | kMsixEnable) & ~kMsixFunctionMask);
    uint32_t command = config_read32(f.bus, f.device, f.function, kRegCommand);
    config_write32(f.bus, f.device, f.function, kRegCommand,
                   (command & 0xffff) | kCommandIntxDisable | kCommandBusMaster | kCommandMemory);
    return true;
}

uint8_t route_piix_intx(const Function& f, uint8_t irq) {
    // PIIX3 datasheet (290550), 2.2.10: PIRQRC[A:D] at 0x60-0x63, bit 7 disables the route,
    // bits 3:0 the ISA IRQ. Devices on bus 0 swizzle INTA-D by slot; QEMU's piix3 does
    // (slot - 1 + pin) mod 4, the wiring the firmware's tables describe.
    constexpr uint16_t kIntel = 0x8086, kPiix3 = 0x7000, kPiix4 = 0x7110;
    constexpr uint8_t kRegPirqRoute = 0x60, kRouteDisabled = 0x80;
    if (f.interrupt_pin < 1 || f.interrupt_pin > 4 || f.bus != 0) return 0;
    for (size_t i = 0; i < count; ++i) {
        const Function& b = functions[i];
        if (b.vendor_id != kIntel || (b.device_id != kPiix3 && b.device_id != kPiix4) || b.function != 0) continue;
        uint32_t routes = config_read32(b.bus, b.device, b.function, kRegPirqRoute);
        for (int pirq = 0; pirq < 4; ++pirq) {
            if ((routes >> (8 * pirq)) & kRouteDisabled) {
                routes = (routes & ~(0xffu << (8 * pirq))) | uint32_t(irq) << (8 * pirq);
            }
        }
        config_write32(b.bus, b.device, b.function, kRegPirqRoute, routes);
        int pirq = (f.device - 1 + f.interrupt_pin - 1) & 3;
        return uint8_t((routes >> (8 * pirq)) & 0x0f);
    }
    return 0;
}

void enable_intx(const Function& f) {
    uint32_t command = config_read32(f.bus, f.device, f.function, kRegCommand);
    uint32_t on = kCommandBusMaster | kCommandMemory | kCommandIo;
    config_write32(f.bus, f.device, f.function, kRegCommand, (command & 0xffff & ~uint32_t(kCommandIntxDisable)) | on);
}

size_t function_count() { return count; }
const Function* function(size_t i) { return i < count ? &functions[i] : nullptr; }

}  // namespace pollux::pci
