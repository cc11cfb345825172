// The I/O APIC that turns device interrupt lines (GSIs) into vectors on the LAPIC. 82093AA
// datasheet (IOREGSEL/IOWIN, redirection table); the address and ISA overrides come from the
// MADT, else the architectural default 0xfec00000 with ISA IRQ n = GSI n. Every I/O APIC the
// MADT lists (microvm with ACPI has a second, ioapic2, whose GSIs from 24 serve virtio-mmio).
#pragma once

#include <cstdint>

namespace pollux::ioapic {

inline constexpr int kMaxChips = 4;

// Maps one more I/O APIC and masks every pin. False if nothing answers at the address or
// there are kMaxChips already.
bool init(uint64_t phys_address, uint32_t gsi_base);
// Pins of the one init() added last.
uint32_t pin_count();
// Whether some I/O APIC has a pin for gsi.
bool covers(uint32_t gsi);
// Delivers gsi as `vector` to the boot CPU's LAPIC (fixed, physical destination).
bool route(uint32_t gsi, uint8_t vector, bool active_low, bool level);
void mask(uint32_t gsi);
// Whether gsi is routed (unmasked), and whether its level-triggered interrupt is in service
// (Remote IRR: the LAPIC took it and no EOI has come back yet).
bool routed(uint32_t gsi);
bool in_service(uint32_t gsi);

}  // namespace pollux::ioapic
