// The memory calls a language runtime leans on (Go's: mmap hints, madvise to give pages back,
// sched_getaffinity for the CPU count; sysinfo, which programs size their caches by), checked
// for what Linux does. The same static binary runs on Linux (boot.linux.memory-glibc) and in
// the unikernel (boot.app.memory-glibc); only checks whose answer is Linux's on every
// configuration are here (THP advice is not: it is EINVAL only on a kernel without transparent
// huge pages, as the unikernel is).
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define CHECK_NAME "memory"
#include "check.h"

#define PAGE 4096ul

static int all_bytes(const unsigned char* p, size_t n, unsigned char v) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != v) return 0;
    return 1;
}

int main(void) {
    // A free hint is where the mapping goes (Go reserves its heap at 0xc000000000 so).
    uintptr_t hint = 0x3a0000000000ul;
    unsigned char* a = mmap((void*)hint, 16 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(a == (void*)hint);
    memset(a, 0x5a, 16 * PAGE);
    // A hint that is taken: somewhere else, and what is there is left alone.
    unsigned char* b = mmap((void*)(hint + 4 * PAGE), 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(b != MAP_FAILED && b != a + 4 * PAGE);
    CHECK(all_bytes(a, 16 * PAGE, 0x5a));
    // An unaligned hint is rounded down to its page; with MAP_FIXED it is an error.
    unsigned char* c = mmap((void*)(hint + 32 * PAGE + 123), PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(c == (void*)(hint + 32 * PAGE));
    CHECK(mmap((void*)(hint + 40 * PAGE + 1), PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED &&
          errno == EINVAL);
    CHECK(mmap((void*)(hint + 8 * PAGE), PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED &&
          errno == EEXIST);

    // MADV_DONTNEED: the pages read as zeros after, the mapping stays.
    CHECK(madvise(a, 4 * PAGE, MADV_DONTNEED) == 0);
    CHECK(all_bytes(a, 4 * PAGE, 0) && all_bytes(a + 4 * PAGE, 12 * PAGE, 0x5a));
    a[0] = 1;
    CHECK(a[0] == 1);
    // MADV_FREE: the old contents or zeros (once reclaimed), and writable again.
    CHECK(madvise(a + 4 * PAGE, 4 * PAGE, MADV_FREE) == 0);
    CHECK(all_bytes(a + 4 * PAGE, 4 * PAGE, 0x5a) || all_bytes(a + 4 * PAGE, 4 * PAGE, 0));
    a[4 * PAGE] = 2;
    CHECK(a[4 * PAGE] == 2);
    // A range with a hole: what is mapped is done, ENOMEM, and the hole stays a hole.
    CHECK(munmap(a + 10 * PAGE, 2 * PAGE) == 0);
    errno = 0;
    CHECK(madvise(a + 8 * PAGE, 8 * PAGE, MADV_DONTNEED) == -1 && errno == ENOMEM);
    CHECK(all_bytes(a + 8 * PAGE, 2 * PAGE, 0) && all_bytes(a + 12 * PAGE, 4 * PAGE, 0));
    CHECK(mmap(a + 10 * PAGE, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == a + 10 * PAGE);
    errno = 0;
    CHECK(madvise(a + 8 * PAGE, 8 * PAGE, MADV_NORMAL) == 0);
    CHECK(munmap(a + 10 * PAGE, 2 * PAGE) == 0);
    CHECK(madvise(a + 8 * PAGE, 8 * PAGE, MADV_WILLNEED) == -1 && errno == ENOMEM);
    // A terabyte of mostly nothing: done where mapped (c), ENOMEM, and at once.
    c[0] = 7;
    CHECK(madvise(a + 16 * PAGE, 1ul << 40, MADV_DONTNEED) == -1 && errno == ENOMEM);
    CHECK(c[0] == 0);
    CHECK(munmap(a, 1ul << 50) == -1 && errno == EINVAL);
    // Argument errors, in Linux's order: the advice, then the start's alignment.
    CHECK(madvise(a, PAGE, 12345) == -1 && errno == EINVAL);
    CHECK(madvise(a + 1, PAGE, MADV_DONTNEED) == -1 && errno == EINVAL);
    CHECK(madvise(a + 1, PAGE, 12345) == -1 && errno == EINVAL);
    CHECK(madvise(a, 0, MADV_DONTNEED) == 0);
    CHECK(madvise(a, (size_t)-1, MADV_DONTNEED) == -1 && errno == EINVAL);
    // Prefaulting (Linux 5.14): EINVAL for a range without the access's permission; contents kept.
    unsigned char* r = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(madvise(r, 2 * PAGE, MADV_POPULATE_READ) == 0 && all_bytes(r, 2 * PAGE, 0));
    CHECK(madvise(r, 2 * PAGE, MADV_POPULATE_WRITE) == -1 && errno == EINVAL);
    CHECK(mprotect(r, 2 * PAGE, PROT_NONE) == 0);
    CHECK(madvise(r, 2 * PAGE, MADV_POPULATE_READ) == -1 && errno == EINVAL);
    CHECK(madvise(a, 4 * PAGE, MADV_POPULATE_WRITE) == 0 && a[0] == 1 && a[1] == 0);

    // sched_getaffinity: the mask's size back, in longs; EINVAL for a length that is not;
    // ESRCH for no such thread.
    // mprotect never discards: what was written survives PROT_NONE and back.
    unsigned char* q = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(q != MAP_FAILED);
    if (q != MAP_FAILED) {
        memset(q, 0x3c, 2 * PAGE);
        CHECK(mprotect(q, 2 * PAGE, PROT_NONE) == 0);
        CHECK(mprotect(q, PAGE, PROT_READ) == 0);
        CHECK(all_bytes(q, PAGE, 0x3c));
        CHECK(mprotect(q + PAGE, PAGE, PROT_READ | PROT_WRITE) == 0);
        CHECK(all_bytes(q + PAGE, PAGE, 0x3c));
        q[PAGE] = 1;
        CHECK(q[PAGE] == 1);
        CHECK(munmap(q, 2 * PAGE) == 0);
    }

    // A freed range is handed out again: mapping and unmapping a buffer over and over must not
    // walk through the address space (each new range costs page tables).
    void* first = mmap(NULL, 256 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(first != MAP_FAILED);
    int same = 1;
    for (int i = 0; i < 2000 && first != MAP_FAILED; ++i) {
        CHECK(munmap(first, 256 * PAGE) == 0);
        unsigned char* again = mmap(NULL, 256 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (again == MAP_FAILED) {
            CHECK(again != MAP_FAILED);
            first = MAP_FAILED;
            break;
        }
        again[i % (256 * PAGE)] = 1;
        same &= again == first;
        first = again;
    }
    CHECK(same);
    if (first != MAP_FAILED) CHECK(munmap(first, 256 * PAGE) == 0);

    cpu_set_t set;
    long n = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
    CHECK(n >= 8 && n % 8 == 0 && CPU_COUNT(&set) >= 1);
    CHECK(syscall(SYS_sched_getaffinity, 0, 12, &set) == -1 && errno == EINVAL);
    CHECK(syscall(SYS_sched_getaffinity, 0x3fffffff, sizeof set, &set) == -1 && errno == ESRCH);
    CHECK(syscall(SYS_sched_getaffinity, syscall(SYS_gettid), sizeof set, &set) == n);
    CHECK(syscall(SYS_sched_getaffinity, 0, sizeof set, (void*)8) == -1 && errno == EFAULT);

    // sysinfo: RAM in mem_unit units, the free part no more than the total, at least this
    // thread counted; what a program may size itself by. A bad pointer is EFAULT.
    struct sysinfo si;
    memset(&si, 0xff, sizeof si);
    CHECK(sysinfo(&si) == 0);
    CHECK(si.mem_unit >= 1 && (uint64_t)si.totalram * si.mem_unit >= (4u << 20));
    CHECK(si.freeram > 0 && si.freeram <= si.totalram);
    CHECK(si.uptime >= 0 && si.procs >= 1 && si.totalswap >= si.freeswap);
    CHECK(syscall(SYS_sysinfo, (void*)8) == -1 && errno == EFAULT);

    return check_summary();
}
