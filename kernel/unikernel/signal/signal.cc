// Signal state and sending: the actions, the pending sets, the masks, the list of the
// application's threads, and Linux's rules for who gets a signal (kernel/signal.c:
// prepare_signal, complete_signal, recalc_sigpending, dequeue_signal).
#include <linux/errno.h>

#include "console/printk.h"
#include "sched/irq_guard.h"
#include "sched/scheduler.h"
#include "signal/internal.h"
#include "user/user_mode.h"

namespace pollux::signal {

namespace detail {

Action actions[kSignals + 1];
uint64_t shared_pending = 0;
int32_t shared_code[kSignals];
int32_t shared_timer_id[kSignals];
uint64_t shared_timer_value[kSignals];

namespace {

// In creation order: the first is the main thread, which Linux's complete_signal tries first.
sched::Thread* threads = nullptr;

// The thread would take sig now: not blocked, or waited for by rt_sigtimedwait.
bool wants(const sched::Thread* t, int sig) {
    return !(t->signals.mask & bit(sig)) || (t->signals.waiting & bit(sig));
}

struct TimerSource {
    int32_t id;
    uint64_t value;
};

// Linux's prepare_signal/complete_signal. target: the thread the signal is for, null for the
// process; timer: the POSIX timer behind an SI_TIMER signal. Interrupts off.
int send(sched::Thread* target, int sig, int code, const char* how, const TimerSource* timer = nullptr) {
    if (sig == kSigKill) terminate(sig, how);  // cannot be caught, blocked or ignored
    sched::Thread* taker = target;
    if (!taker) {
        for (sched::Thread* t = threads; t && !taker; t = t->signals.next)
            if (wants(t, sig)) taker = t;
    }
    // Blocked by the mask of the thread it lands on; a set rt_sigtimedwait waits for does not
    // count as unblocked here (Linux's real_blocked): sigwait takes SIGTERM, it does not die of it.
    bool blocked = !taker || (taker->signals.mask & bit(sig));
    // An ignored signal is dropped at once unless blocked: the action may change before it is
    // unblocked (sig_ignored).
    if (!blocked && ignored(sig)) return 0;
    // A fatal default action ends the process at once (the group exit of complete_signal).
    if (!blocked && actions[sig].handler == kSigDfl)
        terminate(sig, how);
    if (target) {
        target->signals.pending |= bit(sig);
        target->signals.code[sig - 1] = code;
        if (timer) {
            target->signals.timer_id[sig - 1] = timer->id;
            target->signals.timer_value[sig - 1] = timer->value;
        }
    } else {
        shared_pending |= bit(sig);
        shared_code[sig - 1] = code;
        if (timer) {
            shared_timer_id[sig - 1] = timer->id;
            shared_timer_value[sig - 1] = timer->value;
        }
    }
    if (taker) {
        recalc(taker);
        if (taker->sigpending) sched::interrupt(taker);
    }
    signalfd_notify();
    return 0;
}

}  // namespace

bool default_ignores(int sig) {
    constexpr uint64_t kIgnore = bit(kSigChld) | bit(kSigUrg) | bit(kSigWinch) | bit(kSigCont) | bit(kSigStop) |
                                 bit(kSigTstp) | bit(kSigTtin) | bit(kSigTtou);
    return kIgnore & bit(sig);
}

bool ignored(int sig) {
    uint64_t h = actions[sig].handler;
    return h == kSigIgn || (h == kSigDfl && default_ignores(sig));
}

const char* name(int sig) {
    static const char* const kNames[32] = {
        "0",       "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",  "SIGTRAP", "SIGABRT", "SIGBUS",
        "SIGFPE",  "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM",
        "SIGSTKFLT", "SIGCHLD", "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG",
        "SIGXCPU", "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",  "SIGPWR",  "SIGSYS"};
    return sig > 0 && sig < 32 ? kNames[sig] : "a real-time signal";
}

void recalc(sched::Thread* t) {
    const ThreadSignals& s = t->signals;
    uint64_t pending = s.pending | shared_pending;
    t->sigpending = s.fault.sig != 0 || (pending & (~s.mask | s.waiting)) != 0;
}

int dequeue(sched::Thread* t, uint64_t allowed, SigInfo& info) {
    uint64_t own = t->signals.pending & allowed, shared = shared_pending & allowed;
    uint64_t any = own | shared;
    if (!any) return 0;
    uint64_t first = (any & kSynchronous) ? (any & kSynchronous) : any;
    int sig = __builtin_ctzll(first) + 1;
    int code;
    int32_t timer_id;
    uint64_t timer_value;
    if (own & bit(sig)) {
        t->signals.pending &= ~bit(sig);
        code = t->signals.code[sig - 1];
        timer_id = t->signals.timer_id[sig - 1];
        timer_value = t->signals.timer_value[sig - 1];
    } else {
        shared_pending &= ~bit(sig);
        code = shared_code[sig - 1];
        timer_id = shared_timer_id[sig - 1];
        timer_value = shared_timer_value[sig - 1];
    }
    info = SigInfo{};
    info.signo = sig;
    info.code = code;
    if (code == kSiTimer) {
        info.timer.tid = timer_id;
        info.timer.value = timer_value;
        info.timer.overrun = timer_signal_taken(timer_id);
    } else if (code != kSiKernel) {
        info.kill.pid = int32_t(kPid);  // every sender is this process; uid 0
    }  // SEND_SIG_PRIV's SI_KERNEL (interval timers): pid and uid 0
    recalc(t);
    return sig;
}

void discard(int sig) {
    shared_pending &= ~bit(sig);
    for (sched::Thread* t = threads; t; t = t->signals.next) {
        t->signals.pending &= ~bit(sig);
        recalc(t);
    }
}

int thread_count() {
    int n = 0;
    for (sched::Thread* t = threads; t; t = t->signals.next) ++n;
    return n;
}

sched::Thread* leader_thread() { return threads; }  // appended at the tail: the head is the oldest

sched::Thread* find_task(int pid) { return pid == kPid ? leader_thread() : find_thread(pid); }

sched::Thread* find_thread(int tid) {
    for (sched::Thread* t = threads; t; t = t->signals.next)
        if (t->tid == tid) return t;
    return nullptr;
}

void terminate(int sig, const char* how) {
    printk("application killed by signal %d (%s, %s): exit status %d\n", sig, name(sig), how, 128 + sig);
    user::exit_application(128 + sig);
}

bool on_altstack(const sched::Thread* t, uint64_t sp) {
    const ThreadSignals& s = t->signals;
    // With SS_AUTODISARM the stack is disarmed while a handler runs on it: never "on" it.
    if (s.altstack_flags & kSsAutodisarm) return false;
    return sp > s.altstack_sp && sp - s.altstack_sp <= s.altstack_size;
}

int altstack_state(const sched::Thread* t, uint64_t sp) {
    if (!t->signals.altstack_size) return kSsDisable;
    return on_altstack(t, sp) ? kSsOnstack : 0;
}

int set_altstack(sched::Thread* t, const StackT& ss, uint64_t sp) {
    if (on_altstack(t, sp)) return -EPERM;  // changing the stack a handler runs on
    uint32_t flags = uint32_t(ss.flags);
    uint32_t mode = flags & ~kSsAutodisarm;
    if (mode != uint32_t(kSsDisable) && mode != uint32_t(kSsOnstack) && mode != 0) return -EINVAL;
    ThreadSignals& s = t->signals;
    if (mode == uint32_t(kSsDisable)) {
        s.altstack_sp = s.altstack_size = 0;
    } else {
        if (ss.size < kMinSigstksz) return -ENOMEM;
        s.altstack_sp = ss.sp;
        s.altstack_size = ss.size;
    }
    s.altstack_flags = flags;
    return 0;
}

}  // namespace detail

using namespace detail;

void thread_started(sched::Thread* t, const sched::Thread* creator) {
    sched::IrqGuard guard;
    t->signals.mask = creator ? creator->signals.mask : 0;  // clone: the mask is inherited
    t->signals.next = nullptr;
    sched::Thread** tail = &threads;
    while (*tail) tail = &(*tail)->signals.next;
    *tail = t;
}

void thread_exiting(sched::Thread* t) {
    sched::IrqGuard guard;
    for (sched::Thread** p = &threads; *p; p = &(*p)->signals.next) {
        if (*p == t) {
            *p = t->signals.next;
            break;
        }
    }
}

int send_to_thread(int tid, int sig, int code, const char* how) {
    sched::IrqGuard guard;
    sched::Thread* t = find_thread(tid);
    if (!t) return -ESRCH;
    if (sig < 0 || sig > kSignals) return -EINVAL;
    return sig == 0 ? 0 : send(t, sig, code, how);
}

int send_to_process(int sig, int code, const char* how) {
    if (sig < 0 || sig > kSignals) return -EINVAL;
    sched::IrqGuard guard;
    return sig == 0 ? 0 : send(nullptr, sig, code, how);
}

int send_timer_signal(int tid, int sig, int32_t timer_id, uint64_t value) {
    sched::Thread* target = nullptr;
    if (tid) {
        target = find_thread(tid);
        if (!target) return -ESRCH;  // the thread of SIGEV_THREAD_ID is gone: nobody to tell
    }
    uint64_t pending = target ? target->signals.pending : shared_pending;
    const int32_t* codes = target ? target->signals.code : shared_code;
    const int32_t* ids = target ? target->signals.timer_id : shared_timer_id;
    if ((pending & bit(sig)) && codes[sig - 1] == kSiTimer && ids[sig - 1] == timer_id) return 0;
    TimerSource source{timer_id, value};
    send(target, sig, kSiTimer, "sent by a POSIX timer", &source);
    return 1;
}

void raise_sigpipe() {
    sched::Thread* self = sched::current();
    if (!self->user) return;  // a kernel thread's write: no application thread to tell
    sched::IrqGuard guard;
    send(self, kSigPipe, kSiUser, "a write with no reader");
}

uint64_t current_mask() { return sched::current()->signals.mask; }

void set_current_mask(uint64_t mask) {
    sched::Thread* self = sched::current();
    sched::IrqGuard guard;
    self->signals.mask = mask & ~kUnblockable;
    recalc(self);
}

// The first call installs ppoll's (pselect's, epoll_pwait's) mask for the call; the second,
// ScopedSigmask's destructor (old null), puts the caller's back. If a signal the call's mask
// let through is pending then, the call's mask stays until that handler's frame has recorded
// the caller's: Linux's restore_saved_sigmask_unless(signal_pending()). Putting it back at
// once would block the very signal that made the call return EINTR.
bool sigmask_swap(const uint64_t* mask, uint64_t* old) {
    sched::Thread* self = sched::current();
    sched::IrqGuard guard;
    ThreadSignals& s = self->signals;
    if (old) *old = s.mask;
    if (!mask) return false;
    uint64_t m = *mask & ~kUnblockable;
    if (!old && self->sigpending) {
        s.saved_mask = m;
        s.restore_mask = true;
        return false;
    }
    s.mask = m;
    recalc(self);
    return self->sigpending;
}

bool restarts_syscall() {
    for (int sig = 1; sig <= kSignals; ++sig) {
        uint64_t h = actions[sig].handler;
        if (h != kSigDfl && h != kSigIgn && !(actions[sig].flags & kSaRestart)) return false;
    }
    return true;
}

}  // namespace pollux::signal
