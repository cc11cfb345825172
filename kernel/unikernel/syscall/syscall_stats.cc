#include "syscall/syscall_stats.h"

#include <asm/unistd_64.h>

#include "console/printk.h"

namespace pollux::sys {
namespace {

bool enabled = false;

// Its own copy of the names (generated from <asm/unistd_64.h> by CMakeLists.txt): the
// table's is private to syscall_table.cc.
const char* name_of(uint64_t nr) {
    switch (nr) {
#include "syscall_names.inc"
    default: return "?";
    }
}

bool served_by_vdso(uint64_t nr) {
    return nr == __NR_clock_gettime || nr == __NR_gettimeofday || nr == __NR_time || nr == __NR_getcpu ||
           nr == __NR_clock_getres;
}

}  // namespace

uint64_t syscall_counts[kCountedSyscalls];

void enable_syscall_stats() { enabled = true; }

void print_syscall_stats() {
    if (!enabled) return;
    uint64_t total = 0;
    for (uint64_t nr = 0; nr < kCountedSyscalls; ++nr) {
        uint64_t n = __atomic_load_n(&syscall_counts[nr], __ATOMIC_RELAXED);
        total += n;
        if (n || served_by_vdso(nr)) printk("syscall stats: %s %lu\n", name_of(nr), n);
    }
    printk("syscall stats: %lu syscalls in total\n", total);
}

}  // namespace pollux::sys
