/* Pollux's vDSO: the time calls served at CPL3 from the TSC and the kernel's data page
 * (vvar.h), so an application reading the clock does not trap. Linux's x86_64 vDSO exports
 * the same names under the version LINUX_2.6 (vdso.map), which is what glibc's
 * dl_vdso_vsym and musl's __vdsosym look up; the plain names (clock_gettime, ...) are weak
 * aliases, as in Linux's.
 *
 * Served here: CLOCK_REALTIME, MONOTONIC, MONOTONIC_RAW, BOOTTIME and the _COARSE ones, all
 * from the one TSC clock exactly as syscall/sys_time.cc serves them (the kernel has no
 * NTP-slewed clock, no suspend, and no tick-granular coarse clock to differ). Any other clock
 * id, valid or not, takes the real syscall, so its answer (and errno) is the kernel's.
 *
 * Freestanding: no libc, no relocations (everything is PC-relative, the data page a hidden
 * symbol at a fixed distance from the code: vdso.lds), no stack protector (it would read
 * the libc's canary in %fs). */
#include <asm/unistd_64.h>
#include <linux/time.h>
#include <stddef.h>
#include <stdint.h>

#include "vvar.h"

#define EXPORT __attribute__((visibility("default")))

struct vdso_timespec {
    int64_t tv_sec, tv_nsec;
};
struct vdso_timeval {
    int64_t tv_sec, tv_usec;
};
struct vdso_timezone {
    int tz_minuteswest, tz_dsttime;
};

/* Defined by vdso.lds one page below the image; hidden, so the compiler reaches it
 * RIP-relative and the linker resolves it without a dynamic relocation. */
extern const volatile struct pollux_vvar pollux_vvar __attribute__((visibility("hidden")));

static const uint64_t kNsPerSec = 1000000000;

static long raw_syscall2(long nr, long a0, long a1) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a0), "S"(a1) : "rcx", "r11", "memory");
    return ret;
}
static long raw_syscall1(long nr, long a0) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a0) : "rcx", "r11", "memory");
    return ret;
}

/* Nanoseconds on clock id, or 0 (not served here: the caller makes the syscall). */
static inline __attribute__((always_inline)) int read_clock(long id, uint64_t *ns) {
    uint64_t mono, offset;
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE:
        if (!pollux_vvar_read(&pollux_vvar, &mono, &offset)) return 0;
        *ns = mono + offset;
        return 1;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME:
        if (!pollux_vvar_read(&pollux_vvar, &mono, &offset)) return 0;
        *ns = mono;
        return 1;
    default:
        return 0;
    }
}

EXPORT int __vdso_clock_gettime(long id, struct vdso_timespec *ts) {
    uint64_t ns;
    if (!read_clock(id, &ns)) return (int)raw_syscall2(__NR_clock_gettime, id, (long)ts);
    ts->tv_sec = (int64_t)(ns / kNsPerSec);
    ts->tv_nsec = (int64_t)(ns % kNsPerSec);
    return 0;
}

EXPORT int __vdso_gettimeofday(struct vdso_timeval *tv, struct vdso_timezone *tz) {
    uint64_t ns;
    if (!read_clock(CLOCK_REALTIME, &ns)) return (int)raw_syscall2(__NR_gettimeofday, (long)tv, (long)tz);
    if (tv) {
        tv->tv_sec = (int64_t)(ns / kNsPerSec);
        tv->tv_usec = (int64_t)(ns % kNsPerSec / 1000);
    }
    if (tz) {  /* UTC, as sys_gettimeofday answers */
        tz->tz_minuteswest = 0;
        tz->tz_dsttime = 0;
    }
    return 0;
}

EXPORT long __vdso_time(long *t) {
    uint64_t ns;
    if (!read_clock(CLOCK_REALTIME, &ns)) return raw_syscall1(__NR_time, (long)t);
    long seconds = (long)(ns / kNsPerSec);
    if (t) *t = seconds;
    return seconds;
}

/* The kernel's sys_clock_getres says 1 ns for every clock it serves (the TSC's ns are
 * interpolated, never coarser); the same here, for the clocks served here. */
EXPORT int __vdso_clock_getres(long id, struct vdso_timespec *res) {
    uint64_t ns;
    if (!read_clock(id, &ns)) return (int)raw_syscall2(__NR_clock_getres, id, (long)res);
    if (res) {
        res->tv_sec = 0;
        res->tv_nsec = 1;
    }
    return 0;
}

/* One vCPU, one NUMA node: always 0. (With SMP this becomes RDPID/RDTSCP reading the
 * TSC_AUX the kernel sets per CPU, as Linux does.) */
EXPORT long __vdso_getcpu(unsigned *cpu, unsigned *node, void *unused) {
    (void)unused;
    if (cpu) *cpu = 0;
    if (node) *node = 0;
    return 0;
}

EXPORT int clock_gettime(long, struct vdso_timespec *) __attribute__((weak, alias("__vdso_clock_gettime")));
EXPORT int gettimeofday(struct vdso_timeval *, struct vdso_timezone *) __attribute__((weak, alias("__vdso_gettimeofday")));
EXPORT long time(long *) __attribute__((weak, alias("__vdso_time")));
EXPORT int clock_getres(long, struct vdso_timespec *) __attribute__((weak, alias("__vdso_clock_getres")));
EXPORT long getcpu(unsigned *, unsigned *, void *) __attribute__((weak, alias("__vdso_getcpu")));
