// PCI enumeration through configuration mechanism #1 (ports 0xcf8/0xcfc; PCI Local Bus spec
// 3.0, 3.2.2.3.2) or, where there are no such ports (microvm with pcie=on), the PCIe ECAM
// window the MCFG names (PCIe base spec 7.2.2): walks bus 0 and every bus behind a PCI-to-PCI bridge, records functions
// and sizes their BARs, and gives an address to every BAR the firmware left at 0 (qboot and
// microvm's firmware assign none; SeaBIOS does). Drivers (virtio-net, later) look devices up
// here.
//
// Interrupts: MSI and MSI-X are programmed here (tested with QEMU's edu device and a
// virtio-rng queue).
// Not yet: bridge windows for BARs behind a bridge the firmware did not program; segments
// other than 0.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::pci {

struct Bar {
    uint64_t address;  // 0: absent
    uint64_t size;
    bool io;           // I/O space rather than memory
    bool prefetchable;
    bool is64;
    bool assigned_by_us;
};

struct Function {
    uint8_t bus, device, function;
    uint16_t vendor_id, device_id;
    uint8_t class_code, subclass, prog_if;
    uint8_t header_type;
    Bar bars[6];
    uint8_t msi_cap;          // config offset of the MSI capability, 0 if none
    uint8_t msix_cap;         // same for MSI-X
    uint16_t msix_table_size;
    uint8_t interrupt_pin;    // 1-4 for INTA-INTD, 0 if the function has no INTx
    uint8_t interrupt_line;   // what the firmware wrote (its ISA IRQ), 0xff or 0 if nothing
};

// Enumerates and prints one line per function and per BAR; returns the function count
// (0 when the machine has no configuration space, e.g. microvm without pcie=on). low_ram_top:
// the end of RAM below 4 GiB, which BARs we assign must stay above. ecam_*: from the MCFG
// (base 0: none), used only when the 0xcf8 ports are absent.
size_t init(uint64_t low_ram_top, uint64_t ecam_base, uint8_t ecam_start_bus, uint8_t ecam_end_bus);
size_t function_count();
const Function* function(size_t i);

// Points the function's MSI at `vector` on the boot CPU (one message, edge, fixed delivery)
// and turns legacy INTx off and bus mastering on. False without an MSI capability.
bool enable_msi(const Function& f, uint8_t vector);

// Points MSI-X table entry `entry` at `vector` on the boot CPU, unmasks it, and turns MSI-X
// on (INTx off, bus mastering on). The table's BAR must be assigned. False without MSI-X.
bool enable_msix(const Function& f, uint16_t entry, uint8_t vector);

// A PIIX3/PIIX4 south bridge (QEMU's pc) routes PCI INTx only through its PIRQ route control
// registers: returns the ISA IRQ the function's INTx reaches through them (its PIRQ's route),
// first routing every PIRQ the firmware left disabled to `irq`; 0 when there is no PIIX or the
// function has no pin. The interrupt line register need not agree: under qboot, slot 2's INTA
// says 11 while its PIRQ B is routed to 10.
uint8_t route_piix_intx(const Function& f, uint8_t irq);

// Legacy INTx on: Interrupt Disable clear, bus mastering and memory decoding on (what a device
// that cannot use MSI or MSI-X needs to interrupt and to reach its rings).
void enable_intx(const Function& f);

uint32_t config_read32(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset);
void config_write32(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset, uint32_t value);

}  // namespace pollux::pci
