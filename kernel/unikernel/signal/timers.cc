// Interval timers for the one process: alarm, setitimer/getitimer (ITIMER_REAL, _VIRTUAL,
// _PROF) and the POSIX timers (timer_create ... timer_delete), with Linux's semantics
// (kernel/time/itimer.c, kernel/time/posix-timers.c), checked in the order Linux checks.
//
// Each timer is a core Timer (kernel/include/kernel/timer.h) on the monotonic clock whose
// callback runs on the timer service's kernel thread. The callback never trusts why it was
// called: under the IrqGuard that protects every timer's state it compares the timer's own
// clock with the expiry it has now, so a stale queued Timer left by a later settime or delete
// does nothing, and the syscalls never need to cancel it or wait for a running callback.
// Timers live in a fixed table: a slot is never freed under a callback.
//
// CPU time is the scheduler's accounting (sched::application_cpu_ns, thread_cpu_ns): the time
// application threads spent on the CPU, user and kernel mode together, which ITIMER_PROF and
// the CPU-time clocks count; ITIMER_VIRTUAL counts the user-mode part alone, as on Linux
// (sched::application_times). A CPU-time expiry
// is armed on the monotonic clock for the CPU time still missing (CPU time cannot advance
// faster than wall time) and re-armed from the callback until the CPU clock has got there.
//
// Overruns as Linux counts them: a POSIX timer whose signal is still pending when it expires
// again does not queue another one; the expirations add to the overrun that the signal's
// si_overrun reports when it is dequeued, and timer_getoverrun after that.
//
// LOCKING: one CPU; every field below changes with interrupts off (sched::IrqGuard).
#include <linux/errno.h>
#include <linux/time.h>

#include <climits>

#include "eventpoll/linux_abi.h"
#include "eventpoll/sys.h"
#include "kernel/timer.h"
#include "platform/clock.h"
#include "sched/irq_guard.h"
#include "sched/scheduler.h"
#include "signal/internal.h"
#include "syscall/syscall.h"
#include "user/user_access.h"

namespace pollux::signal {

using namespace detail;

namespace {

constexpr uint64_t kNsPerSec = 1'000'000'000, kNsPerUsec = 1000;
constexpr uint64_t kForever = ~0ull / 4;  // beyond any uptime; leaves room to add an interval
// A periodic timer's next callback comes at least this long after the last one: expirations
// of a shorter interval are counted (overruns), not each given a wakeup of the timer thread.
constexpr uint64_t kMinRearmNs = 50'000;
// Linux bounds the timers by RLIMIT_SIGPENDING (each holds a preallocated sigqueue).
constexpr int kMaxPosixTimers = 256;
constexpr int kSigVtalrm = 26, kSigProf = 27;
constexpr int kSigevSignal = 0, kSigevNone = 1, kSigevThread = 2, kSigevThreadId = 4;
constexpr int kItimerReal = 0, kItimerVirtual = 1, kItimerProf = 2;

enum class Kind : uint8_t { posix, itimer };
enum class Clock : uint8_t { realtime, monotonic, process_cpu, process_user, thread_cpu };

void expired(Timer& t);

struct IntervalTimer : Timer {
    IntervalTimer() : Timer(expired) {}
    Kind kind = Kind::posix;
    Clock clock = Clock::monotonic;
    bool used = false;
    bool armed = false;
    uint64_t expiry = 0;    // in clock's time
    uint64_t interval = 0;  // 0: one shot
    int sig = 0;
    // POSIX timers: Linux's it_id, it_sigev_notify, the target thread (SIGEV_THREAD_ID, else
    // 0: the process), sigev_value, and the overrun counts (it_overrun, it_overrun_last).
    int32_t id = 0;
    int notify = kSigevSignal;
    int tid = 0;
    uint64_t value = 0;
    int32_t overrun = 0, overrun_last = 0;
    int cpu_tid = 0;  // Clock::thread_cpu: whose CPU time
};

IntervalTimer itimers[3];  // ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF
IntervalTimer posix[kMaxPosixTimers];
int32_t next_id = 0;  // as Linux's next_posix_timer_id: ids count up from 0, not reused soon
bool stopped = false;

// The timer's clock now; false if it has none any more (its thread has exited).
bool clock_now(const IntervalTimer& t, uint64_t& now) {
    switch (t.clock) {
    case Clock::realtime: now = clock::realtime_ns(); return true;
    case Clock::monotonic: now = clock::monotonic_ns(); return true;
    case Clock::process_cpu: now = sched::application_cpu_ns(); return true;
    case Clock::process_user: now = sched::application_times().user_ns; return true;
    case Clock::thread_cpu:
        if (sched::Thread* th = find_thread(t.cpu_tid)) {
            now = sched::thread_cpu_ns(th);
            return true;
        }
        return false;
    }
    return false;
}

// Arms the core Timer for t.expiry, now being t's clock now; not sooner than min_ns from now.
void arm(IntervalTimer& t, uint64_t now, uint64_t min_ns) {
    uint64_t delay = t.expiry > now ? t.expiry - now : 0;
    if (delay < min_ns) delay = min_ns;
    if (delay > kForever) delay = kForever;
    timer_arm(t, clock::monotonic_ns() + delay);
}

void saturating_add(int32_t& overrun, uint64_t n) {
    uint64_t sum = uint64_t(overrun) + n;
    overrun = sum > uint64_t(INT_MAX) ? INT_MAX : int32_t(sum);  // DELAYTIMER_MAX
}

// n expirations at once (n > 1: a periodic timer's callback came late).
void notify(IntervalTimer& t, uint64_t n) {
    if (t.kind == Kind::itimer) {  // kill_pid_info(sig, SEND_SIG_PRIV): SI_KERNEL, no overruns
        send_to_process(t.sig, kSiKernel, "sent by an interval timer");
        return;
    }
    int r = send_timer_signal(t.tid, t.sig, t.id, t.value);
    if (r == 1) {
        t.overrun = 0;
        saturating_add(t.overrun, n - 1);
    } else if (r == 0) {
        saturating_add(t.overrun, n);
    }
}

void expired(Timer& timer) {
    auto& t = static_cast<IntervalTimer&>(timer);
    sched::IrqGuard guard;
    if (stopped || !t.used || !t.armed || t.notify == kSigevNone) return;
    uint64_t now;
    if (!clock_now(t, now)) {
        t.armed = false;
        return;
    }
    if (now < t.expiry) {  // stale, or CPU time has not got there yet
        arm(t, now, 0);
        return;
    }
    uint64_t n = 1;
    if (t.interval) {
        n += (now - t.expiry) / t.interval;
        t.expiry += n * t.interval;
    } else {
        t.armed = false;
    }
    bool periodic = t.armed;
    notify(t, n);  // may end the application
    if (periodic && t.armed) arm(t, now, kMinRearmNs);
}

// Linux's common_timer_get and itimer_get_remtime: the time left and the interval. A timer
// that is due but has not been seen to fire yet reports 1 ns (POSIX) or 1 us (itimers), never
// 0, which would mean disarmed; an expired SIGEV_NONE one-shot timer reports 0.
void remaining(IntervalTimer& t, uint64_t& value, uint64_t& interval) {
    value = 0;
    interval = t.interval;
    if (!t.armed) return;
    uint64_t now;
    if (!clock_now(t, now)) return;
    if (t.notify == kSigevNone && t.kind == Kind::posix) {
        if (t.interval && now >= t.expiry) {  // never queued: forward it here, as Linux does
            uint64_t n = 1 + (now - t.expiry) / t.interval;
            t.expiry += n * t.interval;
            saturating_add(t.overrun, n);
        }
        value = t.expiry > now ? t.expiry - now : 0;
        return;
    }
    if (t.expiry > now)
        value = t.expiry - now;
    else
        value = t.kind == Kind::itimer ? kNsPerUsec : 1;
}

// value 0 disarms (the interval is kept, as Linux's it_interval is).
void set(IntervalTimer& t, uint64_t value, uint64_t interval, bool absolute) {
    t.armed = false;
    t.interval = interval;
    if (t.kind == Kind::posix) t.overrun_last = 0;
    if (!value) return;
    uint64_t now;
    if (!clock_now(t, now)) return;
    t.expiry = absolute ? value : now + value;
    t.armed = true;
    if (t.notify != kSigevNone) arm(t, now, 0);
}

IntervalTimer* find_posix(int64_t id) {
    if (id < 0 || id > INT_MAX) return nullptr;
    for (IntervalTimer& t : posix)
        if (t.used && t.id == id) return &t;
    return nullptr;
}

// struct itimerval; struct timeval, timespec and itimerspec are the core's (eventpoll/sys.h,
// linux_abi.h).
struct Itimerval {
    Timeval interval, value;
};
using abi::Itimerspec;
using abi::Timespec;
// The kernel's struct sigevent (64 bytes): sigev_value, sigev_signo, sigev_notify, then the
// union whose first int is sigev_notify_thread_id.
struct Sigevent {
    uint64_t value;
    int32_t signo, notify, tid;
    int32_t pad[11];
};
static_assert(sizeof(Sigevent) == 64);

uint64_t to_ns(int64_t sec, uint64_t frac_ns) {
    return uint64_t(sec) >= kForever / kNsPerSec ? kForever : uint64_t(sec) * kNsPerSec + frac_ns;
}
// timeval_valid and timespec64_valid: a negative second or a fraction out of range is EINVAL.
bool from_timeval(const Timeval& tv, uint64_t& ns) {
    if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1'000'000) return false;
    ns = to_ns(tv.tv_sec, uint64_t(tv.tv_usec) * kNsPerUsec);
    return true;
}
bool from_timespec(const Timespec& ts, uint64_t& ns) {
    if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= int64_t(kNsPerSec)) return false;
    ns = to_ns(ts.tv_sec, uint64_t(ts.tv_nsec));
    return true;
}
Timeval to_timeval(uint64_t ns) { return {int64_t(ns / kNsPerSec), int64_t(ns % kNsPerSec / kNsPerUsec)}; }
Timespec to_timespec(uint64_t ns) { return {int64_t(ns / kNsPerSec), int64_t(ns % kNsPerSec)}; }

// ITIMER_REAL, _VIRTUAL or _PROF; null for a bad which (EINVAL). Interrupts off.
IntervalTimer* itimer(int64_t which) {
    if (which < kItimerReal || which > kItimerProf) return nullptr;
    IntervalTimer& t = itimers[which];
    if (!t.used) {
        t.used = true;
        t.kind = Kind::itimer;
        t.clock = which == kItimerReal      ? Clock::monotonic
                  : which == kItimerVirtual ? Clock::process_user
                                            : Clock::process_cpu;
        t.sig = which == kItimerReal ? kSigAlrm : which == kItimerVirtual ? kSigVtalrm : kSigProf;
    }
    return &t;
}

// do_setitimer: the interval counts only with a value (it_real_incr is 0 otherwise).
void set_itimer(IntervalTimer& t, uint64_t value, uint64_t interval, uint64_t& old_value, uint64_t& old_interval) {
    remaining(t, old_value, old_interval);
    set(t, value, value ? interval : 0, false);
}

}  // namespace

int32_t detail::timer_signal_taken(int32_t id) {
    IntervalTimer* t = find_posix(id);
    if (!t) return 0;
    t->overrun_last = t->overrun;
    t->overrun = 0;
    return t->overrun_last;
}

void stop_timers() {
    sched::IrqGuard guard;
    stopped = true;
}

}  // namespace pollux::signal

namespace pollux::sys {

using namespace signal;
using namespace signal::detail;
using user::get;
using user::put;

int64_t sys_alarm(const Args& a) {
    uint64_t old, old_interval;
    {
        sched::IrqGuard guard;
        set_itimer(*itimer(kItimerReal), to_ns(int64_t(uint32_t(a.a0)), 0), 0, old, old_interval);
    }
    // Linux's alarm_setitimer: never 0 for an alarm still pending, and rather too much than too little.
    uint64_t sec = old / kNsPerSec, frac = old % kNsPerSec;
    if ((!sec && frac) || frac >= kNsPerSec / 2) ++sec;
    return int64_t(sec);
}

int64_t sys_getitimer(const Args& a) {
    uint64_t value, interval;
    {
        sched::IrqGuard guard;
        IntervalTimer* t = itimer(int32_t(a.a0));
        if (!t) return -EINVAL;
        remaining(*t, value, interval);
    }
    return put(a.a1, Itimerval{to_timeval(interval), to_timeval(value)}) ? 0 : -EFAULT;
}

// A null new value is Linux's "misfeature": it disarms.
int64_t sys_setitimer(const Args& a) {
    uint64_t value = 0, interval = 0;
    if (a.a1) {
        Itimerval v;
        if (!get(a.a1, v)) return -EFAULT;
        if (!from_timeval(v.value, value) || !from_timeval(v.interval, interval)) return -EINVAL;
    }
    uint64_t old_value, old_interval;
    {
        sched::IrqGuard guard;
        IntervalTimer* t = itimer(int32_t(a.a0));
        if (!t) return -EINVAL;
        set_itimer(*t, value, interval, old_value, old_interval);
    }
    if (a.a2 && !put(a.a2, Itimerval{to_timeval(old_interval), to_timeval(old_value)})) return -EFAULT;
    return 0;
}

int64_t sys_timer_create(const Args& a) {
    Sigevent ev{};
    bool has_event = a.a1 != 0;
    if (has_event && !get(a.a1, ev)) return -EFAULT;
    Clock clk;
    int32_t clock_id = int32_t(a.a0);
    int cpu_tid = sched::current()->tid;
    if (clock_id < 0) {
        // A CPU clock by pid or tid (Linux's MAKE_PROCESS_CPUCLOCK / MAKE_THREAD_CPUCLOCK, what
        // glibc passes for CLOCK_PROCESS_CPUTIME_ID and pthread_getcpuclockid gives): ~id >> 3
        // the pid or tid (0: the caller's), bit 2 per thread, bits 0-1 PROF, VIRT or SCHED,
        // which all measure the same here.
        int32_t who = ~(clock_id >> 3);
        if ((clock_id & 3) == 3) return -EINVAL;
        if (clock_id & 4) {
            if (who && !find_thread(who)) return -EINVAL;
            clk = Clock::thread_cpu;
            if (who) cpu_tid = who;
        } else {
            if (who && who != kPid) return -EINVAL;
            clk = Clock::process_cpu;
        }
    } else {
        switch (clock_id) {
        case CLOCK_REALTIME: clk = Clock::realtime; break;
        case CLOCK_MONOTONIC:
        case CLOCK_BOOTTIME: clk = Clock::monotonic; break;  // no suspend: the same clock
        case CLOCK_PROCESS_CPUTIME_ID: clk = Clock::process_cpu; break;
        case CLOCK_THREAD_CPUTIME_ID: clk = Clock::thread_cpu; break;
        // Clocks Linux has but cannot time (no timer_create of their k_clock); the alarm clocks
        // need an RTC to wake the machine, which Linux lacking one answers the same.
        case CLOCK_MONOTONIC_RAW:
        case CLOCK_REALTIME_COARSE:
        case CLOCK_MONOTONIC_COARSE:
        case CLOCK_REALTIME_ALARM:
        case CLOCK_BOOTTIME_ALARM: return -EOPNOTSUPP;
        default: return -EINVAL;
        }
    }
    sched::IrqGuard guard;
    IntervalTimer* t = nullptr;
    for (IntervalTimer& slot : posix) {
        if (!slot.used) {
            t = &slot;
            break;
        }
    }
    if (!t) return -EAGAIN;
    int32_t id = next_id;
    while (find_posix(id)) id = (id + 1) & INT_MAX;
    int notify = kSigevSignal, sig = kSigAlrm, tid = 0;
    uint64_t value = uint64_t(uint32_t(id));  // no sigevent: SIGALRM with the id as sival_int
    if (has_event) {
        notify = ev.notify;
        sig = ev.signo;
        value = ev.value;
        // good_sigevent
        switch (notify) {
        case kSigevSignal | kSigevThreadId:
            if (!find_thread(ev.tid)) return -EINVAL;
            tid = ev.tid;
            [[fallthrough]];
        case kSigevSignal:
        case kSigevThread:
            if (sig <= 0 || sig > kSignals) return -EINVAL;
            break;
        case kSigevNone: break;
        default: return -EINVAL;
        }
    }
    if (!put(a.a2, id)) return -EFAULT;
    next_id = (id + 1) & INT_MAX;
    t->used = true;
    t->kind = Kind::posix;
    t->clock = clk;
    t->cpu_tid = cpu_tid;
    t->armed = false;
    t->expiry = t->interval = 0;
    t->id = id;
    t->notify = notify;
    t->sig = sig;
    t->tid = tid;
    t->value = value;
    t->overrun = t->overrun_last = 0;
    return 0;
}

int64_t sys_timer_settime(const Args& a) {
    if (!a.a2) return -EINVAL;
    Itimerspec spec;
    if (!get(a.a2, spec)) return -EFAULT;
    uint64_t value, interval;
    if (!from_timespec(spec.it_value, value) || !from_timespec(spec.it_interval, interval)) return -EINVAL;
    uint64_t old_value, old_interval;
    {
        sched::IrqGuard guard;
        IntervalTimer* t = find_posix(int32_t(a.a0));
        if (!t) return -EINVAL;
        remaining(*t, old_value, old_interval);
        // Linux tests TIMER_ABSTIME alone and ignores the other bits. An absolute time already
        // past fires at once.
        set(*t, value, interval, a.a1 & TIMER_ABSTIME);
    }
    if (a.a3 && !put(a.a3, Itimerspec{to_timespec(old_interval), to_timespec(old_value)})) return -EFAULT;
    return 0;
}

int64_t sys_timer_gettime(const Args& a) {
    uint64_t value, interval;
    {
        sched::IrqGuard guard;
        IntervalTimer* t = find_posix(int32_t(a.a0));
        if (!t) return -EINVAL;
        remaining(*t, value, interval);
    }
    return put(a.a1, Itimerspec{to_timespec(interval), to_timespec(value)}) ? 0 : -EFAULT;
}

int64_t sys_timer_getoverrun(const Args& a) {
    sched::IrqGuard guard;
    IntervalTimer* t = find_posix(int32_t(a.a0));
    return t ? t->overrun_last : -EINVAL;
}

// A signal the timer queued stays pending and is delivered (with si_overrun 0), as Linux's
// sigqueue_free leaves a queued one to be freed by its dequeue. The core Timer may stay queued:
// its callback finds the slot unused (or reused, and then re-checks the new timer's expiry), so
// no timer_cancel, which could race with a create reusing the slot.
int64_t sys_timer_delete(const Args& a) {
    sched::IrqGuard guard;
    IntervalTimer* t = find_posix(int32_t(a.a0));
    if (!t) return -EINVAL;
    t->armed = false;
    t->used = false;
    return 0;
}

}  // namespace pollux::sys
