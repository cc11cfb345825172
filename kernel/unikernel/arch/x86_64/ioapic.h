// The I/O APIC that turns device interrupt lines (GSIs) into vectors on the LAPIC. 82093AA
// datasheet (IOREGSEL/IOWIN, redirection table); the address and ISA overrides come from the
// MADT, else the architectural default 0xfec00000 with ISA IRQ n = GSI n. One I/O APIC
// (GSIs from its base); microvm's second one (ioapic2, for virtio-mmio) is not handled yet.
#pragma once

#include <cstdint>

namespace pollux::ioapic {

// Maps it and masks every pin. False if nothing answers at the address.
bool init(uint64_t phys_address, uint32_t gsi_base);
uint32_t pin_count();
// Delivers gsi as `vector` to the boot CPU's LAPIC (fixed, physical destination).
bool route(uint32_t gsi, uint8_t vector, bool active_low, bool level);
void mask(uint32_t gsi);

}  // namespace pollux::ioapic
