/* The vDSO's data page (Linux calls it vvar): the clock parameters the kernel publishes and
 * the vDSO reads at CPL3, one page right below the vDSO's first byte.
 *
 * One header for both sides, C (vdso.c) and C++ (platform/clock.cc, arch/x86_64/tsc.cc), so
 * that the kernel's clock and the vDSO's are the same arithmetic on the same numbers: a time
 * read through the vDSO and one read through the syscall are ordered exactly as the TSC reads
 * behind them are. The layout is a private ABI between this kernel and its own vDSO (the
 * kernel embeds the vDSO it was built with), never seen by applications.
 *
 *   monotonic_ns = mono_base_ns + ((tsc - tsc_base) * mult) >> shift   (128-bit product)
 *   realtime_ns  = monotonic_ns + realtime_offset_ns
 *
 * The product is taken in 128 bits (one MUL on x86_64, no libgcc), so the base never needs
 * moving forward to keep it from overflowing: with shift 32 and a TSC of at least 100 MHz
 * (tsc.cc's floor), it would take centuries. */
#ifndef POLLUX_VDSO_VVAR_H
#define POLLUX_VDSO_VVAR_H

#include <stdint.h>

#define POLLUX_VVAR_SIZE 4096

/* mode: 0 (what a zeroed page says) tells the vDSO to make the real syscall instead. */
#define POLLUX_VCLOCK_NONE 0u
#define POLLUX_VCLOCK_TSC 1u

struct pollux_vvar {
    uint32_t seq; /* seqlock: odd while the kernel rewrites the fields below */
    uint32_t mode;
    uint64_t tsc_base;
    uint64_t mono_base_ns;
    uint64_t realtime_offset_ns; /* from pollux.epoch (qemu/run passes the host's clock) */
    uint64_t mult;
    uint32_t shift;
    uint32_t pad;
};

/* Linux's rdtsc_ordered: LFENCE keeps RDTSC from running ahead of the loads before it (the
 * seqlock's first read, or the kernel work a syscall did just before), which is what keeps a
 * vDSO read after a syscall read from coming out earlier. */
static inline uint64_t pollux_rdtsc_ordered(void) {
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t pollux_cycles_to_ns(uint64_t cycles, uint64_t mult, uint32_t shift) {
    return (uint64_t)(((unsigned __int128)cycles * mult) >> shift);
}

/* One consistent snapshot: monotonic ns now and the realtime offset. 0 when the kernel
 * publishes no user-space clock (the caller makes the syscall), else 1. The kernel writes
 * with interrupts off on its one CPU, so a reader on that CPU never sees an odd sequence;
 * the retry is there for a reader preempted mid-read across an update, and for SMP later. */
static inline int pollux_vvar_read(const volatile struct pollux_vvar *v, uint64_t *mono_ns,
                                   uint64_t *realtime_offset_ns) {
    for (;;) {
        uint32_t seq = v->seq;
        if (seq & 1) {
            __asm__ volatile("pause" ::: "memory");
            continue;
        }
        /* Volatile loads stay in program order in the compiler, and x86 keeps loads in order
         * (TSO): the fields below are read after seq, and seq again after them. */
        uint32_t mode = v->mode;
        uint64_t tsc_base = v->tsc_base, mono_base = v->mono_base_ns;
        uint64_t offset = v->realtime_offset_ns, mult = v->mult;
        uint32_t shift = v->shift;
        uint64_t now = pollux_rdtsc_ordered();
        if (v->seq != seq) continue;
        if (mode != POLLUX_VCLOCK_TSC) return 0;
        *mono_ns = mono_base + pollux_cycles_to_ns(now - tsc_base, mult, shift);
        *realtime_offset_ns = offset;
        return 1;
    }
}

#endif
