// The platform layer over Linux, for the hosted runtime.
//
// Only raw syscalls here: the hosted shim defines close(), dup3(), fcntl() and friends under
// their libc names, so calling libc for them would recurse into Pollux.
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "kernel/platform.h"
#include "kernel/spin_lock.h"
#include "kernel/timer.h"

namespace pollux::platform {

namespace {

uint64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

long raw(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
    long r = syscall(nr, a, b, c, d, e, f);
    return r == -1 ? -errno : r;
}

// The host file every Pollux descriptor number holds on the host's side: /dev/null, kept at a
// high number so that it does not shift the numbers an application sees.
std::atomic<int> placeholder_fd{-1};

int placeholder() {
    int fd = placeholder_fd.load(std::memory_order_acquire);
    if (fd >= 0) return fd;
    int opened = static_cast<int>(raw(SYS_openat, AT_FDCWD, reinterpret_cast<long>("/dev/null"),
                                      O_RDONLY | O_CLOEXEC));
    if (opened < 0) {
        fprintf(stderr, "pollux: cannot open /dev/null for descriptor placeholders (%d)\n", -opened);
        abort();
    }
    int high = static_cast<int>(raw(SYS_fcntl, opened, F_DUPFD_CLOEXEC, fd_limit() - 1));
    if (high < 0) high = static_cast<int>(raw(SYS_fcntl, opened, F_DUPFD_CLOEXEC, fd_limit() / 2));
    if (high >= 0) {
        raw(SYS_close, opened);
    } else {
        high = opened;
    }
    int expected = -1;
    if (!placeholder_fd.compare_exchange_strong(expected, high)) {
        raw(SYS_close, high);
        return expected;
    }
    return high;
}

std::atomic<uint32_t> timer_epoch{0};
std::atomic<bool> timer_thread_started{false};

void* timer_thread(void*) {
    for (;;) {
        uint32_t seen = timer_epoch.load(std::memory_order_acquire);
        uint64_t next = timer_run_expired(monotonic_ns());
        futex_wait(timer_epoch, seen, next);
    }
    return nullptr;
}

}  // namespace

uint64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }
uint64_t realtime_ns() { return clock_ns(CLOCK_REALTIME); }
uint64_t boottime_ns() { return clock_ns(CLOCK_BOOTTIME); }

WaitStatus futex_wait(std::atomic<uint32_t>& word, uint32_t expected, uint64_t deadline_ns, bool) {
    struct timespec abs;
    struct timespec* timeout = nullptr;
    if (deadline_ns != 0) {
        abs.tv_sec = static_cast<time_t>(deadline_ns / 1000000000ull);
        abs.tv_nsec = static_cast<long>(deadline_ns % 1000000000ull);
        timeout = &abs;
    }
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC deadline, so retries never drift.
    long r = raw(SYS_futex, reinterpret_cast<long>(&word), FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG,
                 expected, reinterpret_cast<long>(timeout), 0, static_cast<long>(FUTEX_BITSET_MATCH_ANY));
    if (r == -ETIMEDOUT) return WaitStatus::timed_out;
    if (r == -EINTR) return WaitStatus::interrupted;
    return WaitStatus::woken;
}

void futex_wake(std::atomic<uint32_t>& word, int count) {
    raw(SYS_futex, reinterpret_cast<long>(&word), FUTEX_WAKE | FUTEX_PRIVATE_FLAG, count);
}

void cpu_relax() { __builtin_ia32_pause(); }
// Hosted, the host's exit ends the process without closing its Pollux descriptors.
bool process_exiting() { return false; }
// POLLUX_POLL_US=N (0-1000): an application's wait polls N microseconds before it sleeps. A
// round trip between two threads on two CPUs takes a few microseconds when neither sleeps, and
// each sleep costs both sides a system call and a context switch (tens of microseconds on a
// virtualised host); but every wait that does sleep burns N microseconds first.
//
// Unset, the figure adapts per thread, as glibc's adaptive mutexes and Go's scheduler spin
// only while spinning pays: a thread polls for up to twice its typical wait (an average over
// its recent waits, each counted up to 200 us) while that is under 50 us, and not at all
// otherwise. A request/response ping-pong keeps its waits short and is served while polling; a
// thread whose waits are long (an idle server in epoll_wait) stops polling within a few waits.
// N = 0 turns polling off, as Linux without net.core.busy_poll.
namespace {
constexpr uint64_t kAdaptiveCapNs = 50'000;
constexpr uint64_t kAdaptiveCountedNs = 200'000;
thread_local uint64_t typical_wait_ns = 0;

bool multi_cpu() { return sysconf(_SC_NPROCESSORS_ONLN) > 1; }
uint64_t spin_from_environment() {
    const char* v = getenv("POLLUX_POLL_US");
    if (v == nullptr || *v == '\0') return multi_cpu() ? kParkSpinAdaptive : 0;
    char* end = nullptr;
    errno = 0;
    unsigned long us = strtoul(v, &end, 10);
    if (errno != 0 || *end != '\0' || us > 1000 || *v == '-') {
        fprintf(stderr, "pollux: expected POLLUX_POLL_US=0..1000 (microseconds), got \"%s\"\n", v);
        _exit(2);
    }
    return multi_cpu() ? uint64_t{us} * 1000 : 0;
}
std::atomic<uint64_t>& spin_ns() {
    static std::atomic<uint64_t> spin{spin_from_environment()};
    return spin;
}
}  // namespace

// About 5 us of pause (20 ns each here): the stack lock is held for a frame's processing, and
// with two threads exchanging requests over it a sleep and a wake-up cost more than the wait.
// (64-connection request/response: 97 000 req/s with 64 rounds, 147 000 with 256, no better
// with 1 024 or 4 096.)
int mutex_spins() {
    static const int spins = multi_cpu() ? 256 : 0;
    return spins;
}

uint64_t park_spin_ns() {
    uint64_t fixed = spin_ns().load(std::memory_order_relaxed);
    if (fixed != kParkSpinAdaptive) return fixed;
    uint64_t typical = typical_wait_ns;
    return typical >= kAdaptiveCapNs ? 0 : std::min(2 * typical + 2'000, kAdaptiveCapNs);
}
void set_park_spin_ns(uint64_t ns) { spin_ns().store(multi_cpu() ? ns : 0, std::memory_order_relaxed); }
bool park_spin_adaptive() { return spin_ns().load(std::memory_order_relaxed) == kParkSpinAdaptive; }
void park_waited(uint64_t ns) {
    // An average with weight 1/8 per wait; one long wait counts as 200 us, not as its length.
    typical_wait_ns = typical_wait_ns - typical_wait_ns / 8 + std::min(ns, kAdaptiveCountedNs) / 8;
}
void yield() { sched_yield(); }
uintptr_t thread_self() { return static_cast<uintptr_t>(pthread_self()); }

void* reserve_zeroed(size_t bytes) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "pollux: cannot reserve %zu bytes\n", bytes);
        abort();
    }
    return p;
}

// POLLUX_FD_NUMBERS=private: Pollux numbers its descriptors in a space of its own, without host
// placeholders. Only for programs that call the sys_* functions directly and never hand those
// numbers to the host (the two-host network tests, which need more descriptors than the host's
// RLIMIT_NOFILE allows); the shim needs the shared space.
namespace {

constexpr int kPrivateFdLimit = 1 << 20;

bool private_numbers() {
    static const bool on = [] {
        const char* v = getenv("POLLUX_FD_NUMBERS");
        return v != nullptr && strcmp(v, "private") == 0;
    }();
    return on;
}

struct PrivateFds {
    SpinLock lock;
    uint64_t words[kPrivateFdLimit / 64] GUARDED_BY(lock) = {7};  // 0, 1 and 2 are the host's stdio

    int take(int min_fd) {
        LockGuard guard(lock);
        for (int w = min_fd / 64; w < kPrivateFdLimit / 64; ++w) {
            uint64_t free_bits = ~words[w];
            if (w == min_fd / 64) free_bits &= ~uint64_t{0} << (min_fd % 64);
            if (free_bits == 0) continue;
            int bit = __builtin_ctzll(free_bits);
            words[w] |= uint64_t{1} << bit;
            return w * 64 + bit;
        }
        return -EMFILE;
    }
    int take_at(int fd) {
        if (fd < 0 || fd >= kPrivateFdLimit) return -EBADF;
        LockGuard guard(lock);
        words[fd / 64] |= uint64_t{1} << (fd % 64);
        return fd;
    }
    void give(int fd) {
        if (fd < 0 || fd >= kPrivateFdLimit) return;
        LockGuard guard(lock);
        words[fd / 64] &= ~(uint64_t{1} << (fd % 64));
    }
};

PrivateFds& private_fds() {
    static PrivateFds* fds = new PrivateFds;
    return *fds;
}

}  // namespace

int fd_limit() {
    if (private_numbers()) return kPrivateFdLimit;
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 1024;
    return lim.rlim_cur > 0x7fffffff ? 0x7fffffff : static_cast<int>(lim.rlim_cur);
}

int fd_capacity() {
    if (private_numbers()) return kPrivateFdLimit;
    // fs.nr_open caps every process's descriptor numbers: reserving that many slots means a
    // later setrlimit() can never outgrow the table.
    long cap = 1 << 20;
    if (FILE* f = fopen("/proc/sys/fs/nr_open", "re")) {
        if (fscanf(f, "%ld", &cap) != 1) cap = 1 << 20;
        fclose(f);
    }
    return static_cast<int>(cap);
}

int reserve_fd(int min_fd) {
    if (private_numbers()) return private_fds().take(min_fd);
    long r = raw(SYS_fcntl, placeholder(), F_DUPFD_CLOEXEC, min_fd);
    return static_cast<int>(r);
}

int reserve_fd_at(int fd) {
    if (private_numbers()) return private_fds().take_at(fd);
    long r = raw(SYS_dup3, placeholder(), fd, O_CLOEXEC);
    return static_cast<int>(r);
}

void release_fd(int fd) {
    if (private_numbers()) {
        private_fds().give(fd);
        return;
    }
    raw(SYS_close, fd);
}

namespace {

struct SpawnArgs {
    void (*fn)(void*);
    void* arg;
};

void* spawned_thread(void* p) {
    // Signals belong to the application's threads, never to ours.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, nullptr);
    SpawnArgs args = *static_cast<SpawnArgs*>(p);
    delete static_cast<SpawnArgs*>(p);
    args.fn(args.arg);
    return nullptr;
}

}  // namespace

void entropy(void* buf, size_t len) {
    auto* p = static_cast<unsigned char*>(buf);
    while (len > 0) {
        long r = raw(SYS_getrandom, reinterpret_cast<long>(p), static_cast<long>(len), 0);
        if (r <= 0) {
            if (r == -EINTR) continue;
            fprintf(stderr, "pollux: getrandom failed (%ld)\n", -r);
            abort();
        }
        p += r;
        len -= static_cast<size_t>(r);
    }
}

void spawn_kernel_thread(void (*fn)(void*), void* arg, const char* name) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    auto* args = new SpawnArgs{fn, arg};
    if (pthread_create(&thread, &attr, spawned_thread, args) != 0) {
        fprintf(stderr, "pollux: cannot start the %s thread\n", name);
        abort();
    }
    pthread_setname_np(thread, name);
    pthread_attr_destroy(&attr);
}

void timer_deadline_changed() {
    if (!timer_thread_started.exchange(true)) spawn_kernel_thread([](void*) { timer_thread(nullptr); }, nullptr, "pollux-timer");
    timer_epoch.fetch_add(1, std::memory_order_acq_rel);
    futex_wake(timer_epoch, 1);
}

long max_user_watches() {
    // The host's own limit, so a hosted program hits ENOSPC where it would on that host. Read
    // once: epoll_ctl(ADD) asks every time and must not pay four host syscalls for it.
    static const long limit = [] {
        long value = 1L << 22;
        if (FILE* f = fopen("/proc/sys/fs/epoll/max_user_watches", "re")) {
            if (fscanf(f, "%ld", &value) != 1) value = 1L << 22;
            fclose(f);
        }
        return value;
    }();
    return limit;
}

bool signal_restarts_syscall() {
    struct KernelSigaction {  // the kernel's struct sigaction on x86_64
        unsigned long handler;
        unsigned long flags;
        unsigned long restorer;
        unsigned long mask;
    };
    for (int sig = 1; sig <= 64; ++sig) {
        KernelSigaction act{};
        if (raw(SYS_rt_sigaction, sig, 0, reinterpret_cast<long>(&act), 8) < 0) continue;
        bool has_handler = act.handler != reinterpret_cast<unsigned long>(SIG_DFL) &&
                           act.handler != reinterpret_cast<unsigned long>(SIG_IGN);
        if (has_handler && (act.flags & SA_RESTART) == 0) return false;
    }
    return true;
}

void raise_sigpipe() { raw(SYS_tgkill, getpid(), gettid(), SIGPIPE); }

bool sigmask_swap(const uint64_t* mask, uint64_t* old) {
    uint64_t pending = 0;
    if (mask != nullptr) raw(SYS_rt_sigpending, reinterpret_cast<long>(&pending), 8);
    raw(SYS_rt_sigprocmask, SIG_SETMASK, reinterpret_cast<long>(mask), reinterpret_cast<long>(old), 8);
    return mask != nullptr && (pending & ~*mask) != 0;
}

bool capable_net_admin() {
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2] = {};
    if (raw(SYS_capget, reinterpret_cast<long>(&header), reinterpret_cast<long>(data)) < 0) return false;
    return (data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32))) != 0;
}

Credentials credentials() {
    return {static_cast<int32_t>(raw(SYS_getpid)), static_cast<uint32_t>(raw(SYS_getuid)),
            static_cast<uint32_t>(raw(SYS_getgid))};
}

// The host's file system holds the names (the host applies the umask); only the tests make
// Pollux's own AF_UNIX sockets hosted, since the shim sends socket(AF_UNIX) to the host.
// The checks alone are a mknod undone, as unix_bind_bsd() undoes it.
int unix_mknod(const char* path, bool create, UnixNode& node) {
    long r = raw(SYS_mknodat, AT_FDCWD, reinterpret_cast<long>(path), S_IFSOCK | 0777, 0);
    if (r == -EEXIST) return EADDRINUSE;
    if (r < 0) return static_cast<int>(-r);
    if (!create) return static_cast<int>(-raw(SYS_unlinkat, AT_FDCWD, reinterpret_cast<long>(path), 0));
    return unix_find_node(path, node);
}

int unix_find_node(const char* path, UnixNode& node) {
    struct stat st;
    long r = raw(SYS_newfstatat, AT_FDCWD, reinterpret_cast<long>(path), reinterpret_cast<long>(&st), 0);
    if (r < 0) return static_cast<int>(-r);
    if (!S_ISSOCK(st.st_mode)) return ECONNREFUSED;
    node.dev = st.st_dev;
    node.ino = st.st_ino;
    return 0;
}

}  // namespace pollux::platform
