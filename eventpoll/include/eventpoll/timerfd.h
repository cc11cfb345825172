// TimerFd: a timerfd, Linux's struct timerfd_ctx together with its file, after fs/timerfd.c
// (6.x): a one-shot or periodic timer whose expirations read() returns as a 64-bit count.
//
// Time model: every setting lives in its clock's own timeline (expires_, like the hrtimer's
// expiry in its clock base), mapped onto CLOCK_MONOTONIC with offset_ = clock - monotonic,
// sampled when settime() arms the timer. So CLOCK_REALTIME and CLOCK_BOOTTIME values (and
// TFD_TIMER_ABSTIME ones) are honoured as of settime(), but a later clock step or a suspend is
// not followed, and TFD_TIMER_CANCEL_ON_SET is accepted (and shown in fdinfo) without its
// ECANCELED notification. The _ALARM clocks behave as their base clocks; Linux also demands
// CAP_WAKE_ALARM for them, which Pollux does not model (it acts as if the caller had it).
//
// Locking: wqh_.lock is the context lock, as Linux's ctx->wqh.lock: every field below marked
// GUARDED_BY is read and written under it, the timer callback takes it, and timer_arm() is
// called under it (lock order: wqh_.lock, then the timer queue's). timer_cancel() waits for a
// running callback, so it is only ever called without wqh_.lock.
// Invariants: the callback never re-arms (HRTIMER_NORESTART): a periodic timer is re-armed by
// read() or gettime() once it has expired. armed_ says an arming is still to be delivered; a
// callback that finds armed_ clear, or its deadline not yet reached, belongs to a setting that
// settime() has since replaced and is ignored (Linux cancels those under the lock instead).
#pragma once

#include <cstdint>

#include "eventpoll/file.h"
#include "eventpoll/wait_queue.h"
#include "kernel/timer.h"
#include "kstd/result.h"

namespace pollux {

// _IOW('T', 0, u64), include/uapi/linux/timerfd.h: sets the expiration count (CRIU restore).
inline constexpr unsigned long kTFD_IOC_SET_TICKS = 0x40085400;

class TimerFd final : public File {
public:
    // timerfd_create(): flags TFD_CLOEXEC | TFD_NONBLOCK and the five timerfd clocks, else
    // EINVAL. TFD_CLOEXEC is the caller's to apply to the descriptor.
    static kstd::Result<FileRef> create(int clockid, int flags);
    // do_timerfd_settime()'s first check, which Linux makes before it looks the fd up.
    static bool settime_args_valid(int flags, const abi::Itimerspec& value);

    PollMask poll(PollTable* pt) override;
    bool can_read() const override { return true; }
    kstd::Result<size_t> read(IoIter& to, bool nonblock) override;
    kstd::Result<long> ioctl(unsigned long cmd, uintptr_t arg) override;
    void show_fdinfo(Printer& out) override;

    // do_timerfd_settime() after the fd lookup: replaces the setting and drops pending
    // expirations; *old (if non-null) gets the previous setting as gettime() would show it.
    kstd::Result<void> settime(int flags, const abi::Itimerspec& value, abi::Itimerspec* old)
        EXCLUDES(wqh_.lock);
    // do_timerfd_gettime(): time to the next expiration (0 if disarmed) and the interval.
    abi::Itimerspec gettime() EXCLUDES(wqh_.lock);

    int clockid() const { return clockid_; }

protected:
    void release() override;

private:
    // The timer service hands the callback a Timer&; this gets back to the TimerFd.
    struct Alarm : Timer {
        explicit Alarm(TimerFd* fd) : Timer(&TimerFd::tmrproc), owner(fd) {}
        TimerFd* owner;
    };

    TimerFd(int clockid, int flags);
    static void tmrproc(Timer& timer);
    void triggered() EXCLUDES(wqh_.lock);

    int64_t now() REQUIRES(wqh_.lock);
    uint64_t forward_now() REQUIRES(wqh_.lock);
    void restart() REQUIRES(wqh_.lock);
    void setup(int flags, const abi::Itimerspec& value) REQUIRES(wqh_.lock);
    abi::Itimerspec current() REQUIRES(wqh_.lock);

    WaitQueueHead wqh_;
    Alarm timer_{this};
    int64_t expires_ GUARDED_BY(wqh_.lock) = 0;   // ns in clockid_'s timeline; 0 once disarmed
    int64_t offset_ GUARDED_BY(wqh_.lock) = 0;    // clockid_'s time minus monotonic time
    int64_t interval_ GUARDED_BY(wqh_.lock) = 0;  // ns; 0: one-shot
    uint64_t ticks_ GUARDED_BY(wqh_.lock) = 0;    // expirations not read yet
    bool expired_ GUARDED_BY(wqh_.lock) = false;  // fired and not yet forwarded
    bool armed_ GUARDED_BY(wqh_.lock) = false;    // an arming the callback has yet to deliver
    int settime_flags_ GUARDED_BY(wqh_.lock) = 0;
    const int clockid_;
};

}  // namespace pollux
