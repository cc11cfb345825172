// Clocks and sleeping. CLOCK_MONOTONIC, _RAW, _COARSE and BOOTTIME are the TSC since reset;
// REALTIME adds the epoch from the command line (platform/clock.h). The CPU-time clocks are the
// scheduler's accounting (sched::application_cpu_ns): time application threads spent on the
// CPU, user and kernel mode together (getrusage splits them: sys_rusage.cc).
#include <linux/errno.h>
#include <linux/time.h>

#include "eventpoll/linux_abi.h"
#include "platform/clock.h"
#include "sched/scheduler.h"
#include "syscall/syscall.h"
#include "user/address_space.h"

namespace pollux::sys {
namespace {

constexpr uint64_t kNsPerSec = 1'000'000'000;

using abi::Timespec;

bool clock_now(uint64_t id, uint64_t& ns) {
    switch (id) {
    case CLOCK_REALTIME:
    case CLOCK_REALTIME_COARSE: ns = clock::realtime_ns(); return true;
    case CLOCK_MONOTONIC:
    case CLOCK_MONOTONIC_RAW:
    case CLOCK_MONOTONIC_COARSE:
    case CLOCK_BOOTTIME: ns = clock::monotonic_ns(); return true;
    case CLOCK_PROCESS_CPUTIME_ID: ns = sched::application_cpu_ns(); return true;
    case CLOCK_THREAD_CPUTIME_ID: ns = sched::thread_cpu_ns(sched::current()); return true;
    default: return false;
    }
}

bool put_timespec(uint64_t addr, uint64_t ns) {
    if (!user::accessible(addr, sizeof(Timespec), user::kProtWrite)) return false;
    *reinterpret_cast<Timespec*>(addr) = {int64_t(ns / kNsPerSec), int64_t(ns % kNsPerSec)};
    return true;
}

// -EINVAL for a malformed timespec, as Linux's timespec64_valid.
int64_t get_timespec(uint64_t addr, uint64_t& ns) {
    if (!user::accessible(addr, sizeof(Timespec), user::kProtRead)) return -EFAULT;
    Timespec t = *reinterpret_cast<const Timespec*>(addr);
    if (t.tv_sec < 0 || t.tv_nsec < 0 || t.tv_nsec >= int64_t(kNsPerSec)) return -EINVAL;
    ns = uint64_t(t.tv_sec) > ~0ull / kNsPerSec / 2 ? ~0ull / 2 : uint64_t(t.tv_sec) * kNsPerSec + uint64_t(t.tv_nsec);
    return 0;
}

// A signal ends the sleep with EINTR, and a relative one reports in *rem what was left (rem 0:
// none wanted). Linux would restart it for the remaining time when no handler runs (its
// restart block); here a signal that interrupts always has a handler or ends the application.
int64_t sleep_for(uint64_t ns, uint64_t rem) {
    uint64_t now = clock::monotonic_ns();
    uint64_t deadline = ns > ~0ull / 2 - now ? ~0ull / 2 : now + ns;
    if (sched::sleep_until_interruptible(deadline) == 0) return 0;
    if (rem) {
        uint64_t left = deadline - clock::monotonic_ns();
        if (int64_t(left) < 0) left = 0;
        if (!put_timespec(rem, left)) return -EFAULT;
    }
    return -EINTR;
}

}  // namespace

int64_t sys_clock_gettime(const Args& a) {
    uint64_t ns;
    if (!clock_now(a.a0, ns)) return -EINVAL;
    return put_timespec(a.a1, ns) ? 0 : -EFAULT;
}

int64_t sys_clock_getres(const Args& a) {
    uint64_t ns;
    if (!clock_now(a.a0, ns)) return -EINVAL;
    return a.a1 == 0 || put_timespec(a.a1, 1) ? 0 : -EFAULT;
}

int64_t sys_gettimeofday(const Args& a) {
    if (a.a0) {
        if (!user::accessible(a.a0, 16, user::kProtWrite)) return -EFAULT;
        uint64_t ns = clock::realtime_ns();
        auto* tv = reinterpret_cast<int64_t*>(a.a0);
        tv[0] = int64_t(ns / kNsPerSec);
        tv[1] = int64_t(ns % kNsPerSec / 1000);
    }
    if (a.a1) {
        if (!user::accessible(a.a1, 8, user::kProtWrite)) return -EFAULT;
        *reinterpret_cast<uint64_t*>(a.a1) = 0;  // UTC
    }
    return 0;
}

int64_t sys_time(const Args& a) {
    int64_t seconds = int64_t(clock::realtime_ns() / kNsPerSec);
    if (a.a0) {
        if (!user::accessible(a.a0, 8, user::kProtWrite)) return -EFAULT;
        *reinterpret_cast<int64_t*>(a.a0) = seconds;
    }
    return seconds;
}

int64_t sys_nanosleep(const Args& a) {
    uint64_t ns;
    if (int64_t r = get_timespec(a.a0, ns)) return r;
    return sleep_for(ns, a.a1);
}

int64_t sys_clock_nanosleep(const Args& a) {
    uint64_t ns, now;
    if (!clock_now(a.a0, now) || a.a0 == CLOCK_THREAD_CPUTIME_ID) return -EINVAL;
    if (int64_t r = get_timespec(a.a2, ns)) return r;
    if (a.a1 & TIMER_ABSTIME) return sleep_for(ns > now ? ns - now : 0, 0);
    return sleep_for(ns, a.a3);
}

}  // namespace pollux::sys
