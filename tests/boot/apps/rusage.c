// CPU time split into user and system mode, as getrusage, times and ITIMER_VIRTUAL report it:
// a loop that only computes is charged to user time; a loop of system calls that do the work
// (reads of /dev/zero) is charged mostly to system time, which ITIMER_PROF counts and ITIMER_VIRTUAL does not. Also RUSAGE_THREAD
// against another thread's work, ru_maxrss and ru_minflt as memory is touched, the context
// switches of a thread that blocks, and the errors. The same static binary runs on Linux
// (boot.linux.rusage-glibc) and in the unikernel (boot.app.rusage-glibc).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#define CHECK_NAME "rusage"
#include "check.h"

static int64_t us(struct timeval tv) { return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec; }

static int64_t cpu_us(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

// Computes until the clock has advanced `budget_us` of CPU time.
static volatile uint64_t sink;
static void compute(clockid_t clock, int64_t budget_us) {
    int64_t end = cpu_us(clock) + budget_us;
    uint64_t x = 1;
    while (cpu_us(clock) < end)
        for (int i = 0; i < 20000; ++i) x = x * 6364136223846793005ull + 1442695040888963407ull;
    sink = x;
}

// System calls until `budget_us` of process CPU time has passed: reading 64 KiB of /dev/zero is
// the kernel's work (it clears the buffer), the loop around it next to nothing.
static void call_kernel(int64_t budget_us) {
    static char buf[65536];
    int fd = open("/dev/zero", O_RDONLY);
    CHECK(fd >= 0);
    int64_t end = cpu_us(CLOCK_PROCESS_CPUTIME_ID) + budget_us;
    int full = 1;
    while (fd >= 0 && full && cpu_us(CLOCK_PROCESS_CPUTIME_ID) < end)
        for (int i = 0; i < 20 && full; ++i) full = read(fd, buf, sizeof buf) == (ssize_t)sizeof buf;
    CHECK(full);
    if (fd >= 0) close(fd);
}

static void* worker(void* arg) {
    struct rusage* out = arg;
    compute(CLOCK_THREAD_CPUTIME_ID, 200000);
    getrusage(RUSAGE_THREAD, out);
    return NULL;
}

static void user_time_from_computing(void) {
    struct rusage a, b;
    CHECK(getrusage(RUSAGE_SELF, &a) == 0);
    int64_t cpu0 = cpu_us(CLOCK_PROCESS_CPUTIME_ID);
    compute(CLOCK_PROCESS_CPUTIME_ID, 300000);
    int64_t cpu = cpu_us(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    CHECK(getrusage(RUSAGE_SELF, &b) == 0);
    int64_t user = us(b.ru_utime) - us(a.ru_utime), sys = us(b.ru_stime) - us(a.ru_stime);
    // Linux samples at its tick (4 ms here), so allow a few ticks either way.
    CHECK(user >= cpu * 7 / 10);
    CHECK(user + sys >= cpu - 20000 && user + sys <= cpu + 20000);
    if (failures) printf("rusage: computing: cpu %lld us, user %lld, sys %lld\n", (long long)cpu, (long long)user, (long long)sys);
}

static void system_time_from_calls(void) {
    struct rusage a, b;
    struct tms ta, tb;
    struct itimerval prof = {{0, 0}, {100, 0}}, virt = {{0, 0}, {100, 0}}, p, v;
    CHECK(setitimer(ITIMER_PROF, &prof, NULL) == 0 && setitimer(ITIMER_VIRTUAL, &virt, NULL) == 0);
    CHECK(getrusage(RUSAGE_SELF, &a) == 0);
    clock_t t0 = times(&ta);
    call_kernel(300000);
    clock_t t1 = times(&tb);
    CHECK(getrusage(RUSAGE_SELF, &b) == 0);
    CHECK(getitimer(ITIMER_PROF, &p) == 0 && getitimer(ITIMER_VIRTUAL, &v) == 0);
    int64_t user = us(b.ru_utime) - us(a.ru_utime), sys = us(b.ru_stime) - us(a.ru_stime);
    CHECK(sys > user);
    CHECK(sys >= 100000);
    // The interval timers: PROF counted all of it, VIRTUAL the user part only.
    int64_t prof_used = 100000000 - us(p.it_value), virt_used = 100000000 - us(v.it_value);
    CHECK(prof_used >= 250000);
    CHECK(virt_used < prof_used / 2);
    // times(): the same split in clock ticks, and the elapsed ticks as its value.
    long hz = sysconf(_SC_CLK_TCK);
    CHECK(hz == 100);
    CHECK(tb.tms_stime - ta.tms_stime >= 10 && tb.tms_stime - ta.tms_stime > tb.tms_utime - ta.tms_utime);
    CHECK(tb.tms_cutime == 0 && tb.tms_cstime == 0);
    CHECK(t1 - t0 >= 25);  // at least 300 ms went by
    CHECK(times(NULL) >= t1);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_PROF, &off, NULL);
    setitimer(ITIMER_VIRTUAL, &off, NULL);
    if (failures) printf("rusage: calls: user %lld us, sys %lld, prof %lld, virtual %lld\n", (long long)user, (long long)sys, (long long)prof_used, (long long)virt_used);
}

static void thread_and_process(void) {
    struct rusage mine0, mine1, theirs, self;
    CHECK(getrusage(RUSAGE_THREAD, &mine0) == 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, worker, &theirs) == 0);
    CHECK(pthread_join(t, NULL) == 0);  // blocks: a voluntary switch
    CHECK(getrusage(RUSAGE_THREAD, &mine1) == 0);
    CHECK(getrusage(RUSAGE_SELF, &self) == 0);
    int64_t worker_cpu = us(theirs.ru_utime) + us(theirs.ru_stime);
    CHECK(worker_cpu >= 180000 && worker_cpu <= 400000);
    // This thread waited meanwhile: its own time hardly moved, the process's includes the worker's.
    CHECK(us(mine1.ru_utime) + us(mine1.ru_stime) - us(mine0.ru_utime) - us(mine0.ru_stime) < 100000);
    CHECK(us(self.ru_utime) + us(self.ru_stime) >= worker_cpu);
    CHECK(mine1.ru_nvcsw > mine0.ru_nvcsw);
    CHECK(self.ru_nvcsw >= mine1.ru_nvcsw);
}

static void memory(void) {
    struct rusage a, b;
    CHECK(getrusage(RUSAGE_SELF, &a) == 0);
    size_t len = 16 << 20;
    unsigned char* p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    if (p != MAP_FAILED) {
        for (size_t i = 0; i < len; i += 4096) p[i] = 1;
        CHECK(getrusage(RUSAGE_SELF, &b) == 0);
        CHECK(b.ru_maxrss >= a.ru_maxrss && b.ru_maxrss >= 16 * 1024);  // KiB
        CHECK(b.ru_minflt - a.ru_minflt >= 4096 / 2);  // a fault per page (Linux may batch a few)
        munmap(p, len);
    }
}

static void errors(void) {
    struct rusage r;
    memset(&r, 0xff, sizeof r);
    CHECK(getrusage(RUSAGE_CHILDREN, &r) == 0);
    CHECK(us(r.ru_utime) == 0 && us(r.ru_stime) == 0 && r.ru_minflt == 0);
    CHECK(getrusage(2, &r) == -1 && errno == EINVAL);
    CHECK(syscall(SYS_getrusage, 2, (void*)8) == -1 && errno == EINVAL);  // who first
    CHECK(syscall(SYS_getrusage, RUSAGE_SELF, (void*)8) == -1 && errno == EFAULT);
    CHECK(syscall(SYS_times, (void*)8) == -1 && errno == EFAULT);
}

int main(void) {
    user_time_from_computing();
    system_time_from_calls();
    thread_and_process();
    memory();
    errors();
    return check_summary();
}
