// The local APIC (xAPIC, MMIO) and its timer, in one-shot mode. SDM Vol. 3A chapter 11.
// QEMU's TCG has no TSC-deadline mode and no x2APIC in 7.2, so neither is used yet.
#pragma once

#include <cstdint>

namespace pollux::lapic {

// Maps and enables the LAPIC, masks the legacy 8259 PICs and lets the timer count down,
// masked, from its largest count. False if the CPU has no APIC.
bool start();
// Measures the timer's rate against the TSC (tsc::init() first) from how far it counted since
// start(): the boot's work in between is the measuring window, and init() waits only for what
// is missing of 1 ms. False if start() failed.
bool init();
uint64_t timer_hz();
// Arms the timer to raise idt::kVectorLapicTimer once, ns from now.
void timer_oneshot(uint64_t ns);
// How often timer_oneshot has run: a caller that caches what it armed sees someone else arm it.
uint64_t timer_programs();
uint64_t timer_interrupts();
uint32_t id();  // this CPU's APIC ID (SDM table 11-1, bits 24-31 of register 0x20)
void eoi();

}  // namespace pollux::lapic
