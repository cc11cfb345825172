// Just enough ACPI to route interrupts (the MADT), find PCIe configuration space (the MCFG)
// and to power the machine off when QEMU's
// isa-debug-exit is absent: find the RSDP, the FADT and the \_S5 sleep type in the DSDT,
// then enter S5 through PM1a/PM1b control (ACPI 6.4, 4.8.3.2 and 7.4.2) or, on
// hardware-reduced platforms such as QEMU's microvm, the sleep control register (ACPI 6.4,
// 4.8.3.7). No AML interpreter: the \_S5 package is read from its bytes, as every small
// kernel does.
#pragma once

#include <cstdint>

namespace pollux::acpi {

// What the MADT says about interrupt routing (ACPI 6.4, 5.2.12).
struct InterruptInfo {
    static constexpr int kMaxIoApics = 4;
    struct IoApic {
        uint64_t address;
        uint32_t gsi_base;
    } ioapics[kMaxIoApics] = {};
    int ioapic_count = 0;  // 0 when there is no MADT
    struct IsaIrq {
        uint32_t gsi;  // identity unless an interrupt source override says otherwise
        bool active_low, level;
    } isa[16] = {};
};
const InterruptInfo& interrupts();

// The PCI Express configuration window from the MCFG (PCI Firmware spec 3.2, 4.1.2),
// segment 0 only, else from a _CBA name in the DSDT; base 0 when there is none.
struct PciEcam {
    uint64_t base = 0;
    uint8_t start_bus = 0, end_bus = 0;
};
const PciEcam& pci_ecam();

// Reads the tables once (after paging_init). rsdp_paddr: from the boot loader, 0 to search
// the BIOS area. False when there is no usable FADT/\_S5.
bool init(uint64_t rsdp_paddr);
// Returns only if the platform did not power off.
void power_off();

}  // namespace pollux::acpi
