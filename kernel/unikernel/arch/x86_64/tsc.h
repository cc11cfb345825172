// The TSC as the kernel's clock. Its frequency comes, in order of trust, from the hypervisor's
// timing leaf (CPUID 0x40000010, KVM/VMware), kvmclock, CPUID 0x15 (crystal ratio), else a measurement
// against the 8254 PIT (always the case under TCG, whose CPUs report neither).
#pragma once

#include <cstdint>

namespace pollux::tsc {

// Returns false when no source gave a plausible frequency. A plausible override_hz (Linux's
// tsc_early_khz= on the command line) is taken as it is, before any other source, as Linux
// takes it: under TCG it spares the PIT calibration, most of the kernel's start-up time.
bool init(uint64_t override_hz = 0);
uint64_t hz();
const char* source();
// Nanoseconds for a TSC tick count: ticks * mult >> shift (vdso/vvar.h's arithmetic, with the
// numbers clock.cc publishes to the vDSO), so the kernel's every reading of the clock, the
// scheduler's included, is the one user space computes.
uint64_t ticks_to_ns(uint64_t ticks);
// The inverse, from the frequency (for deadlines of busy waits; not exactly ticks_to_ns's).
uint64_t ns_to_ticks(uint64_t ns);
// The scale of ticks_to_ns: mult = 10^9 * 2^shift / hz, rounded down.
uint64_t mult();
uint32_t shift();

}  // namespace pollux::tsc
