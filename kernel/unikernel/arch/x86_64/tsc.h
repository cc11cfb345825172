// The TSC as the kernel's clock. Its frequency comes, in order of trust, from the hypervisor's
// timing leaf (CPUID 0x40000010, KVM/VMware), kvmclock, CPUID 0x15 (crystal ratio), else a measurement
// against the 8254 PIT (always the case under TCG, whose CPUs report neither).
#pragma once

#include <cstdint>

namespace pollux::tsc {

// Returns false when no source gave a plausible frequency.
bool init();
uint64_t hz();
const char* source();
// Nanoseconds for a TSC tick count, without 128-bit division (no libgcc here).
uint64_t ticks_to_ns(uint64_t ticks);
uint64_t ns_to_ticks(uint64_t ns);

}  // namespace pollux::tsc
