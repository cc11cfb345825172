// TimerFd: see eventpoll/include/eventpoll/timerfd.h for the model, locking and invariants.
//
// Times are Linux's ktime_t: signed 64-bit nanoseconds, saturating at KTIME_MAX the way
// ktime_set() and ktime_add_safe() do, so huge values read back exactly as on Linux.
#include "eventpoll/timerfd.h"

#include <linux/errno.h>

#include <cstdint>
#include <cstring>
#include <new>

#include "eventpoll/fd_table.h"
#include "eventpoll/printer.h"
#include "eventpoll/sys.h"
#include "eventpoll/wait_event.h"
#include "kernel/platform.h"

namespace pollux {

namespace {

constexpr int kCreateFlags = abi::kTFD_CLOEXEC | abi::kTFD_NONBLOCK;
constexpr int kSettimeFlags = abi::kTFD_TIMER_ABSTIME | abi::kTFD_TIMER_CANCEL_ON_SET;
constexpr int64_t kNsecPerSec = 1000000000;
constexpr int64_t kKtimeMax = INT64_MAX;
constexpr int64_t kKtimeSecMax = kKtimeMax / kNsecPerSec;

bool valid_clock(int clockid) {
    return clockid == abi::kCLOCK_MONOTONIC || clockid == abi::kCLOCK_REALTIME ||
           clockid == abi::kCLOCK_REALTIME_ALARM || clockid == abi::kCLOCK_BOOTTIME ||
           clockid == abi::kCLOCK_BOOTTIME_ALARM;
}

// timespec64_valid().
bool valid_timespec(const abi::Timespec& ts) {
    return ts.tv_sec >= 0 && static_cast<uint64_t>(ts.tv_nsec) < static_cast<uint64_t>(kNsecPerSec);
}

// timespec64_to_ktime() -> ktime_set(): seconds beyond KTIME_SEC_MAX mean "never".
int64_t to_ktime(const abi::Timespec& ts) {
    if (ts.tv_sec >= kKtimeSecMax) return kKtimeMax;
    return ts.tv_sec * kNsecPerSec + ts.tv_nsec;
}

abi::Timespec to_timespec(int64_t ns) { return abi::Timespec{ns / kNsecPerSec, ns % kNsecPerSec}; }

// ktime_add_safe(): an overflow saturates at KTIME_MAX (via ktime_set(KTIME_SEC_MAX, 0)).
int64_t add_safe(int64_t a, int64_t b) {
    int64_t sum;
    if (__builtin_add_overflow(a, b, &sum) || sum < 0) return kKtimeMax;
    return sum;
}

int64_t sub_saturating(int64_t a, int64_t b) {
    int64_t diff;
    if (__builtin_sub_overflow(a, b, &diff)) return b < 0 ? kKtimeMax : INT64_MIN;
    return diff;
}

int64_t monotonic_now() { return static_cast<int64_t>(platform::monotonic_ns()); }

// The distance from CLOCK_MONOTONIC to the clock's timeline, right now.
int64_t clock_offset(int clockid, int64_t mono) {
    switch (clockid) {
    case abi::kCLOCK_REALTIME:
    case abi::kCLOCK_REALTIME_ALARM:
        return static_cast<int64_t>(platform::realtime_ns()) - mono;
    case abi::kCLOCK_BOOTTIME:
    case abi::kCLOCK_BOOTTIME_ALARM:
        return static_cast<int64_t>(platform::boottime_ns()) - mono;
    default:
        return 0;
    }
}

}  // namespace

TimerFd::TimerFd(int clockid, int flags)
    // anon_inode_getfd("[timerfd]", ..., O_RDWR | (flags & TFD_SHARED_FCNTL_FLAGS)): opened
    // read-write, but with no write method, so write() fails with EINVAL.
    : File(FileKind::timerfd, FMODE_READ | FMODE_WRITE, abi::kO_RDWR | (flags & abi::kO_NONBLOCK)),
      clockid_(clockid) {}

kstd::Result<FileRef> TimerFd::create(int clockid, int flags) {
    if ((flags & ~kCreateFlags) != 0 || !valid_clock(clockid)) return kstd::err(EINVAL);
    TimerFd* tfd = new (std::nothrow) TimerFd(clockid, flags);
    if (tfd == nullptr) return kstd::err(ENOMEM);
    return FileRef(tfd);
}

bool TimerFd::settime_args_valid(int flags, const abi::Itimerspec& value) {
    return (flags & ~kSettimeFlags) == 0 && valid_timespec(value.it_value) && valid_timespec(value.it_interval);
}

int64_t TimerFd::now() { return monotonic_now() + offset_; }

// hrtimer_forward_now(): moves expires_ past now by whole intervals and returns how many
// expirations that covers, counting the one at the old expires_ (0 if it is still ahead).
uint64_t TimerFd::forward_now() {
    int64_t now = this->now();
    int64_t delta = sub_saturating(now, expires_);
    if (delta < 0) return 0;
    int64_t interval = interval_ < 1 ? 1 : interval_;  // hrtimer_resolution: 1 ns (high-res)
    uint64_t overruns = 1;
    if (delta >= interval) {
        overruns = static_cast<uint64_t>(delta / interval);
        expires_ += interval * static_cast<int64_t>(overruns);  // stays <= now: no overflow
        if (expires_ > now) return overruns;
        ++overruns;  // the correction for exact multiples
    }
    expires_ = add_safe(expires_, interval);
    return overruns;
}

// hrtimer_restart() / hrtimer_start(): queue expires_, mapped onto the monotonic clock. A
// deadline already past (an ABSTIME value in the past) fires at once.
void TimerFd::restart() {
    int64_t deadline = sub_saturating(expires_, offset_);
    if (deadline < 1) deadline = 1;
    armed_ = true;
    timer_arm(timer_, static_cast<uint64_t>(deadline));
}

// timerfd_setup(): the new setting replaces everything, pending expirations included.
void TimerFd::setup(int flags, const abi::Itimerspec& value) {
    int64_t texp = to_ktime(value.it_value);
    expired_ = false;
    ticks_ = 0;
    interval_ = to_ktime(value.it_interval);
    settime_flags_ = flags & kSettimeFlags;
    if (texp == 0) {
        // hrtimer_set_expires(0): a disarmed timer has no remaining time; a firing still queued
        // (re-armed by a racing read after settime() cancelled) is ignored via armed_.
        expires_ = 0;
        offset_ = 0;
        armed_ = false;
        return;
    }
    int64_t mono = monotonic_now();
    offset_ = clock_offset(clockid_, mono);
    expires_ = (flags & abi::kTFD_TIMER_ABSTIME) != 0 ? texp : add_safe(texp, mono + offset_);
    restart();
}

// timerfd_get_remaining() and the interval, as gettime and settime's old value report them.
abi::Itimerspec TimerFd::current() {
    int64_t remaining = sub_saturating(expires_, now());
    if (remaining < 0) remaining = 0;
    return abi::Itimerspec{to_timespec(interval_), to_timespec(remaining)};
}

void TimerFd::tmrproc(Timer& timer) { static_cast<Alarm&>(timer).owner->triggered(); }

// timerfd_triggered(): count one expiration and wake, without re-arming (HRTIMER_NORESTART).
void TimerFd::triggered() {
    LockGuard guard(wqh_.lock);
    // A firing of a setting that settime() replaced while this callback waited for the lock.
    if (!armed_ || now() < expires_) return;
    armed_ = false;
    expired_ = true;
    ++ticks_;
    wqh_.wake_up_locked(abi::kEPOLLIN);
}

PollMask TimerFd::poll(PollTable* pt) {
    poll_wait(*this, wqh_, pt);
    LockGuard guard(wqh_.lock);
    return ticks_ != 0 ? abi::kEPOLLIN : 0;
}

kstd::Result<size_t> TimerFd::read(IoIter& to, bool nonblock) {
    uint64_t ticks = 0;
    if (to.remaining() < sizeof(ticks)) return kstd::err(EINVAL);
    for (;;) {
        {
            LockGuard guard(wqh_.lock);
            if (ticks_ != 0) {
                ticks = ticks_;
                if (expired_ && interval_ != 0) {
                    // timerfd_read_iter() re-arms a periodic timer here rather than in the
                    // callback, so a tiny interval cannot flood the timer context.
                    uint64_t overruns = forward_now();
                    if (overruns > 0) ticks += overruns - 1;
                    restart();
                }
                expired_ = false;
                ticks_ = 0;
                break;
            }
            if (nonblock) return kstd::err(EAGAIN);
        }
        // Nothing was read: the syscall boundary restarts it or reports EINTR.
        int waited = wait_event(wqh_, [this] {
            LockGuard guard(wqh_.lock);
            return ticks_ != 0;
        }, 0);
        if (waited == -EINTR) return kstd::err(abi::kERESTARTSYS);
    }
    // copy_to_iter() may copy part of the count; only a copy of nothing is EFAULT. The ticks
    // are consumed either way.
    size_t copied = to.copy_out(&ticks, sizeof(ticks));
    if (copied == 0) return kstd::err(EFAULT);
    return copied;
}

kstd::Result<long> TimerFd::ioctl(unsigned long cmd, uintptr_t arg) {
    // timerfd_ioctl() (CONFIG_CHECKPOINT_RESTORE, which distribution kernels enable).
    if (static_cast<uint32_t>(cmd) != kTFD_IOC_SET_TICKS) return kstd::err(ENOTTY);
    const void* user = reinterpret_cast<const void*>(arg);
    if (user == nullptr) return kstd::err(EFAULT);
    uint64_t ticks;
    std::memcpy(&ticks, user, sizeof(ticks));
    if (ticks == 0) return kstd::err(EINVAL);
    LockGuard guard(wqh_.lock);
    ticks_ = ticks;
    wqh_.wake_up_locked(abi::kEPOLLIN);
    return 0L;
}

kstd::Result<void> TimerFd::settime(int flags, const abi::Itimerspec& value, abi::Itimerspec* old) {
    if (!settime_args_valid(flags, value)) return kstd::err(EINVAL);
    // Linux cancels under the lock with hrtimer_try_to_cancel(), dropping it while the
    // callback runs. timer_cancel() waits for a running callback, which needs wqh_.lock, so
    // it runs first, unlocked; whatever re-arms in the gap is overridden by setup() below.
    timer_cancel(timer_);
    LockGuard guard(wqh_.lock);
    // An expired periodic timer is forwarded first so that *old shows its next expiration;
    // ticks_ and expired_ are about to be reset anyway.
    if (expired_ && interval_ != 0) (void)forward_now();
    abi::Itimerspec previous = current();
    setup(flags, value);
    if (old != nullptr) *old = previous;
    return {};
}

abi::Itimerspec TimerFd::gettime() {
    LockGuard guard(wqh_.lock);
    // do_timerfd_gettime() re-arms an expired periodic timer, banking the missed periods.
    if (expired_ && interval_ != 0) {
        expired_ = false;
        uint64_t overruns = forward_now();
        if (overruns > 0) ticks_ += overruns - 1;
        restart();
    }
    return current();
}

void TimerFd::show_fdinfo(Printer& out) {
    abi::Itimerspec setting;
    unsigned long long ticks;
    int flags;
    {
        LockGuard guard(wqh_.lock);
        setting = current();
        ticks = ticks_;
        flags = settime_flags_;
    }
    out.print("clockid: %d\nticks: %llu\nsettime flags: 0%o\nit_value: (%llu, %llu)\nit_interval: (%llu, %llu)\n",
              clockid_, ticks, static_cast<unsigned>(flags),
              static_cast<unsigned long long>(setting.it_value.tv_sec),
              static_cast<unsigned long long>(setting.it_value.tv_nsec),
              static_cast<unsigned long long>(setting.it_interval.tv_sec),
              static_cast<unsigned long long>(setting.it_interval.tv_nsec));
}

void TimerFd::release() {
    // timerfd_release(): hrtimer_cancel() waits out a running callback before the free.
    timer_cancel(timer_);
}

long sys_timerfd_create(int clockid, int flags) {
    kstd::Result<FileRef> file = TimerFd::create(clockid, flags);
    if (!file.ok()) return -file.error_code();
    kstd::Result<int> fd = FdTable::instance().install(file.release_value(), (flags & abi::kTFD_CLOEXEC) != 0);
    return fd.ok() ? fd.value() : -fd.error_code();
}

// SYSCALL_DEFINE4(timerfd_settime): copy in (EFAULT), validate (EINVAL), look up the fd (EBADF,
// then EINVAL for a non-timerfd), set, then copy out the old value if asked.
long sys_timerfd_settime(int fd, int flags, const abi::Itimerspec* new_value, abi::Itimerspec* old_value) {
    if (new_value == nullptr) return -EFAULT;
    abi::Itimerspec value = *new_value;
    if (!TimerFd::settime_args_valid(flags, value)) return -EINVAL;
    FileRef file = FdTable::instance().get(fd);
    if (!file) return -EBADF;
    if (file->kind() != FileKind::timerfd) return -EINVAL;
    abi::Itimerspec old{};
    kstd::Result<void> r = static_cast<TimerFd&>(*file).settime(flags, value, &old);
    if (!r.ok()) return -r.error_code();
    if (old_value != nullptr) *old_value = old;
    return 0;
}

// SYSCALL_DEFINE2(timerfd_gettime): the fd is checked and the timer forwarded before the
// copy-out can fail with EFAULT.
long sys_timerfd_gettime(int fd, abi::Itimerspec* curr_value) {
    FileRef file = FdTable::instance().get(fd);
    if (!file) return -EBADF;
    if (file->kind() != FileKind::timerfd) return -EINVAL;
    abi::Itimerspec value = static_cast<TimerFd&>(*file).gettime();
    if (curr_value == nullptr) return -EFAULT;
    *curr_value = value;
    return 0;
}

}  // namespace pollux
