// Time and randomness for the platform layer and the syscalls.
//
// Monotonic time is the TSC since reset (QEMU starts it at 0 with the VM), so it also says how
// long the boot took. Realtime is monotonic plus the epoch the command line gives
// (`pollux.epoch=SECONDS`, which qemu/run passes from the host's clock): microvm has no RTC,
// and a wrong date is worse than a precise one from the host.
//
// Both are read from the page the vDSO reads too (vdso/vvar.h), with its arithmetic: a
// clock_gettime served by the vDSO and one served by the syscall come from the same numbers
// and the same code, so they are ordered exactly as the TSC reads behind them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::clock {

// Publishes the TSC's scale (tsc::init first) on the clock data page; until then the vDSO
// sends every call to the syscall.
void init();
void set_epoch_seconds(uint64_t seconds);
// The clock data page's frame, for user/vdso.cc to map read-only into the application.
uint64_t vvar_page_physical();
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
