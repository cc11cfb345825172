// Syscalls counted by number, as the dispatcher sees them (served or not): how many times the
// application trapped, and for what. With `pollux.syscall_stats` on the command line the
// counts are printed when the application exits, which is how the boot tests tell that the
// libcs' time calls went through the vDSO (user/vdso.h) instead of trapping.
#pragma once

#include <cstdint>

namespace pollux::sys {

constexpr uint64_t kCountedSyscalls = 512;  // the table's size
extern uint64_t syscall_counts[kCountedSyscalls];

// One per trap; relaxed atomic, since two threads may trap on the one CPU in turn mid-increment.
inline void count_syscall(uint64_t nr) {
    if (nr < kCountedSyscalls) __atomic_fetch_add(&syscall_counts[nr], 1, __ATOMIC_RELAXED);
}

void enable_syscall_stats();
// At the application's exit, when enabled: "syscall stats: NAME COUNT" for every number
// called, and for the time calls the vDSO serves even when 0, then the total.
void print_syscall_stats();

}  // namespace pollux::sys
