// Time and randomness for the platform layer and the syscalls.
//
// Monotonic time is the TSC since reset (QEMU starts it at 0 with the VM), so it also says how
// long the boot took. Realtime is monotonic plus the epoch the command line gives
// (`pollux.epoch=SECONDS`, which qemu/run passes from the host's clock): microvm has no RTC,
// and a wrong date is worse than a precise one from the host.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::clock {

void set_epoch_seconds(uint64_t seconds);
uint64_t monotonic_ns();
uint64_t realtime_ns();

// RDSEED or RDRAND when CPUID lists them (SDM Vol. 1 7.3.17), else TSC jitter mixed through
// a 64-bit finalizer: good enough to seed hash tables and ISNs, not for keys.
void entropy(void* buf, size_t len);
const char* entropy_source();

}  // namespace pollux::clock

namespace pollux::platform {
// Starts the thread that runs the core's timer queue (kernel/core/timer_queue.cc).
void start_timer_service();
}  // namespace pollux::platform
