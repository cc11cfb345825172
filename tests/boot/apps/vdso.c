// The vDSO seen from a static program, through its libc (glibc or musl) as any program uses
// it: the libc's clock_gettime, gettimeofday, time, clock_getres and sched_getcpu must agree
// with the real syscalls, made here on purpose with syscall(2), and must not trap themselves.
// That last part is the kernel's to tell: with pollux.syscall_stats it prints how many
// syscalls of each number it served, and tests/boot/CMakeLists.txt expects exactly the
// deliberate ones counted below (kExpected*), so one libc call that trapped would fail it.
// Booted with pollux.vdso=off (no AT_SYSINFO_EHDR) the same program passes its own checks
// while the counts grow by every libc call: the control that shows the count can fail.
//
// Exit status 0 when every check held, 1 otherwise; the first failure is printed.
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

// The syscalls this program makes on purpose, counted as it makes them; the totals are
// printed at the end and must equal the kernel's counts (and CMakeLists.txt's numbers).
static long made_clock_gettime, made_gettimeofday, made_time, made_getcpu, made_clock_getres;
static int failures;

#define CHECK(cond, ...)                        \
    do {                                        \
        if (!(cond)) {                          \
            if (failures++ == 0) {              \
                printf("vdso: FAILED: ");       \
                printf(__VA_ARGS__);            \
                printf("\n");                   \
            }                                   \
        }                                       \
    } while (0)

static int64_t ns_of(const struct timespec* t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

static int64_t libc_clock(clockid_t id) {
    struct timespec t;
    int r = clock_gettime(id, &t);
    CHECK(r == 0, "clock_gettime(%d) through the libc returned %d (errno %d)", (int)id, r, errno);
    return ns_of(&t);
}

static int64_t trap_clock(clockid_t id) {
    struct timespec t;
    ++made_clock_gettime;
    long r = syscall(SYS_clock_gettime, id, &t);
    CHECK(r == 0, "the clock_gettime(%d) syscall returned %ld", (int)id, r);
    return ns_of(&t);
}

static const char* clock_name(clockid_t id) {
    switch (id) {
    case CLOCK_MONOTONIC: return "MONOTONIC";
    case CLOCK_MONOTONIC_RAW: return "MONOTONIC_RAW";
    case CLOCK_MONOTONIC_COARSE: return "MONOTONIC_COARSE";
    case CLOCK_BOOTTIME: return "BOOTTIME";
    case CLOCK_REALTIME: return "REALTIME";
    case CLOCK_REALTIME_COARSE: return "REALTIME_COARSE";
    default: return "?";
    }
}

// libc, syscall, libc, ... interleaved: each read is at or after the one before, whichever
// path served it (the kernel and the vDSO compute the same function of the TSC). Pollux's
// _COARSE clocks are its precise ones, so they hold to this too (Linux's, tick-granular,
// would not: this program is for Pollux, as its sched_getcpu() == 0 check is).
static void interleaved(clockid_t id, int rounds) {
    int64_t previous = libc_clock(id);
    for (int i = 0; i < rounds; ++i) {
        int64_t a = trap_clock(id);
        int64_t b = libc_clock(id);
        CHECK(previous <= a && a <= b, "CLOCK_%s went backwards: libc %lld, then syscall %lld, then libc %lld",
              clock_name(id), (long long)previous, (long long)a, (long long)b);
        previous = b;
    }
    printf("vdso: CLOCK_%s: %d interleaved syscall and libc reads in order\n", clock_name(id), rounds);
}

static void check_gettimeofday(int rounds) {
    for (int i = 0; i < rounds; ++i) {
        struct timeval tv;
        struct timezone tz;  // passed for glibc, which hands it to the vDSO; musl ignores it
        int64_t before = trap_clock(CLOCK_REALTIME);
        int r = gettimeofday(&tv, &tz);
        int64_t after = trap_clock(CLOCK_REALTIME);
        int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
        CHECK(r == 0 && before / 1000 <= us && us <= after / 1000,
              "gettimeofday %lld us is not within the syscall's REALTIME %lld..%lld ns", (long long)us,
              (long long)before, (long long)after);
    }
    struct timeval a, b;
    gettimeofday(&a, NULL);
    ++made_gettimeofday;
    long r = syscall(SYS_gettimeofday, &b, NULL);
    CHECK(r == 0 && (b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_usec >= a.tv_usec)),
          "the gettimeofday syscall is behind the libc's gettimeofday");
    printf("vdso: gettimeofday within the syscall's REALTIME %d times\n", rounds);
}

static void check_time(void) {
    ++made_time;
    long before = syscall(SYS_time, NULL);
    time_t t = time(NULL);
    ++made_time;
    long after = syscall(SYS_time, NULL);
    CHECK(before <= t && t <= after, "time() %ld is not within the syscall's %ld..%ld", (long)t, before, after);
    // qemu/run passes the host's clock as pollux.epoch: a date after 2020 says it arrived.
    CHECK(t > 1577836800, "time() %ld is before 2020: no pollux.epoch?", (long)t);
    printf("vdso: time() within the syscall's, after 2020\n");
}

static void check_getcpu(void) {
    int cpu = sched_getcpu();
    CHECK(cpu == 0, "sched_getcpu() returned %d", cpu);
    unsigned c = 7, node = 7;
    ++made_getcpu;
    long r = syscall(SYS_getcpu, &c, &node, NULL);
    CHECK(r == 0 && c == 0 && node == 0, "the getcpu syscall returned %ld, cpu %u node %u", r, c, node);
    printf("vdso: sched_getcpu() %d, the getcpu syscall %u\n", cpu, c);
}

static void check_getres(void) {
    struct timespec a = {9, 9}, b = {9, 9};
    int r = clock_getres(CLOCK_MONOTONIC, &a);
    ++made_clock_getres;
    long s = syscall(SYS_clock_getres, CLOCK_MONOTONIC, &b);
    CHECK(r == 0 && s == 0 && a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec,
          "clock_getres: libc %d {%ld, %ld}, syscall %ld {%ld, %ld}", r, (long)a.tv_sec, a.tv_nsec, s,
          (long)b.tv_sec, b.tv_nsec);
    printf("vdso: clock_getres(CLOCK_MONOTONIC) %ld ns both ways\n", a.tv_nsec);
}

// Clocks the vDSO does not serve reach the kernel through its syscall fallback: both count
// as clock_gettime syscalls (the libc calls the vDSO, which traps).
static void check_fallback(void) {
    struct timespec t;
    ++made_clock_gettime;
    int r = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    CHECK(r == 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed (errno %d)", errno);
    ++made_clock_gettime;
    errno = 0;
    r = clock_gettime((clockid_t)99, &t);
    CHECK(r == -1 && errno == EINVAL, "clock_gettime(99) returned %d, errno %d (not EINVAL)", r, errno);
    printf("vdso: other clocks fall back to the syscall (CPUTIME served, clock 99 EINVAL)\n");
}

// The page below the vDSO is the kernel's clock data (Pollux's layout, user/vdso.h): user
// mode may read it and nothing more. (A write would fault; mprotect says so first.)
static void check_data_page(const unsigned char* ehdr) {
    void* page = (void*)(ehdr - 4096);
    int r = mprotect(page, 4096, PROT_READ | PROT_WRITE);
    CHECK(r == -1 && errno == EACCES, "mprotect(PROT_WRITE) of the clock data page returned %d, errno %d", r, errno);
    r = mprotect(page, 4096, PROT_READ);
    CHECK(r == 0, "mprotect(PROT_READ) of the clock data page returned %d, errno %d", r, errno);
    printf("vdso: the clock data page below it cannot be made writable\n");
}

// Not asserted: TCG's cost of a trap against that of an RDTSC, for the record.
static void bench(void) {
    enum { kLibcCalls = 200000, kTraps = 5000 };
    struct timespec t;
    int64_t start = libc_clock(CLOCK_MONOTONIC);
    for (int i = 0; i < kLibcCalls; ++i) clock_gettime(CLOCK_MONOTONIC, &t);
    int64_t middle = libc_clock(CLOCK_MONOTONIC);
    for (int i = 0; i < kTraps; ++i) syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t);
    made_clock_gettime += kTraps;
    int64_t end = libc_clock(CLOCK_MONOTONIC);
    printf("vdso: bench clock_gettime(CLOCK_MONOTONIC): %lld ns per libc call, %lld ns per syscall\n",
           (long long)((middle - start) / kLibcCalls), (long long)((end - middle) / kTraps));
}

int main(void) {
    const unsigned char* ehdr = (const unsigned char*)getauxval(AT_SYSINFO_EHDR);
    if (ehdr) {
        CHECK(memcmp(ehdr, ELFMAG, SELFMAG) == 0, "AT_SYSINFO_EHDR does not point at an ELF header");
        printf("vdso: AT_SYSINFO_EHDR %p, a %s program\n", (const void*)ehdr,
#ifdef __GLIBC__
               "glibc"
#else
               "musl"
#endif
        );
        check_data_page(ehdr);
    } else {
        printf("vdso: no AT_SYSINFO_EHDR: every time call is a syscall\n");
    }
    interleaved(CLOCK_MONOTONIC, 1000);
    interleaved(CLOCK_MONOTONIC_RAW, 100);
    interleaved(CLOCK_MONOTONIC_COARSE, 100);
    interleaved(CLOCK_BOOTTIME, 100);
    interleaved(CLOCK_REALTIME, 100);
    interleaved(CLOCK_REALTIME_COARSE, 100);
    check_gettimeofday(100);
    check_time();
    check_getcpu();
    check_getres();
    check_fallback();
    bench();
    printf("vdso: syscalls made on purpose: clock_gettime %ld, gettimeofday %ld, time %ld, getcpu %ld, "
           "clock_getres %ld\n",
           made_clock_gettime, made_gettimeofday, made_time, made_getcpu, made_clock_getres);
    if (failures) {
        printf("vdso: %d check%s failed\n", failures, failures == 1 ? "" : "s");
        return 1;
    }
    printf("vdso: all checks passed\n");
    return 0;
}
