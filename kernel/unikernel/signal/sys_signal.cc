// The signal system calls, checked in the order Linux checks them (kernel/signal.c).
#include <linux/errno.h>

#include <cstring>

#include "platform/clock.h"
#include "sched/irq_guard.h"
#include "sched/scheduler.h"
#include "signal/internal.h"
#include "syscall/syscall.h"
#include "user/address_space.h"
#include "user/user_access.h"

namespace pollux::sys {

using user::get;
using user::put;

using namespace signal;
using namespace signal::detail;

namespace {

constexpr uint64_t kSigsetSize = 8;

// Blocks until a signal for the thread (pause, rt_sigsuspend); its handler runs on the way out.
void wait_for_signal() {
    sched::IrqGuard guard;
    while (sched::block_interruptible(0) != -EINTR) {
    }
}

}  // namespace

int64_t sys_rt_sigaction(const Args& a) {
    int sig = int(a.a0);
    if (a.a3 != kSigsetSize) return -EINVAL;
    Action act;
    if (a.a1 && !get(a.a1, act)) return -EFAULT;
    if (sig < 1 || sig > kSignals || (a.a1 && (sig == kSigKill || sig == kSigStop))) return -EINVAL;
    Action old;
    {
        sched::IrqGuard guard;
        old = actions[sig];
        if (a.a1) {
            act.mask &= ~kUnblockable;
            actions[sig] = act;
            // POSIX: setting an ignoring action discards what is pending of the signal.
            if (ignored(sig)) discard(sig);
        }
    }
    if (a.a2 && !put(a.a2, old)) return -EFAULT;
    return 0;
}

int64_t sys_rt_sigprocmask(const Args& a) {
    if (a.a3 != kSigsetSize) return -EINVAL;
    uint64_t old = current_mask();
    if (a.a1) {
        uint64_t set;
        if (!get(a.a1, set)) return -EFAULT;
        switch (a.a0) {
        case 0: set_current_mask(old | set); break;   // SIG_BLOCK
        case 1: set_current_mask(old & ~set); break;  // SIG_UNBLOCK
        case 2: set_current_mask(set); break;         // SIG_SETMASK
        default: return -EINVAL;
        }
    }
    if (a.a2 && !put(a.a2, old)) return -EFAULT;
    return 0;  // a signal this unblocked is delivered on the way out
}

int64_t sys_rt_sigpending(const Args& a) {
    if (a.a1 > kSigsetSize) return -EINVAL;
    sched::Thread* self = sched::current();
    uint64_t set;
    {
        sched::IrqGuard guard;
        set = (self->signals.pending | shared_pending) & self->signals.mask;
    }
    if (a.a1 && (!user::accessible(a.a0, a.a1, user::kProtWrite))) return -EFAULT;
    memcpy(reinterpret_cast<void*>(a.a0), &set, a.a1);
    return 0;
}

int64_t sys_rt_sigreturn(const Args& a) { return sigreturn(a.frame); }

int64_t sys_sigaltstack(const Args& a) {
    sched::Thread* self = sched::current();
    uint64_t sp = a.frame->rsp;
    StackT ss;
    if (a.a0 && !get(a.a0, ss)) return -EFAULT;
    StackT old{};
    {
        sched::IrqGuard guard;
        const ThreadSignals& s = self->signals;
        old = StackT{s.altstack_sp, int32_t(altstack_state(self, sp) | (s.altstack_flags & kSsAutodisarm)), 0,
                     s.altstack_size};
        if (a.a0) {
            if (int r = set_altstack(self, ss, sp)) return r;
        }
    }
    if (a.a1 && !put(a.a1, old)) return -EFAULT;
    return 0;
}

// kill(2): the one process is pid 1, its own group 0; -1 means every process but init and
// the caller, and init is the caller.
int64_t sys_kill(const Args& a) {
    int64_t pid = int32_t(a.a0);
    if (pid != kPid && pid != 0) return -ESRCH;
    return send_to_process(int(a.a1), kSiUser, "sent with kill");
}

int64_t sys_tkill(const Args& a) {
    if (int32_t(a.a0) <= 0) return -EINVAL;
    return send_to_thread(int32_t(a.a0), int(a.a1), kSiTkill, "sent with tkill");
}

int64_t sys_tgkill(const Args& a) {
    if (int32_t(a.a0) <= 0 || int32_t(a.a1) <= 0) return -EINVAL;
    if (int32_t(a.a0) != kPid) return -ESRCH;
    return send_to_thread(int32_t(a.a1), int(a.a2), kSiTkill, "sent with tgkill");
}

// rt_sigtimedwait(set, info, timeout, sigsetsize): a pending signal of the set, at once or when
// it comes; the set's signals wake the thread while it sleeps even though they are blocked.
int64_t sys_rt_sigtimedwait(const Args& a) {
    if (a.a3 != kSigsetSize) return -EINVAL;
    uint64_t set;
    if (!get(a.a0, set)) return -EFAULT;
    set &= ~kUnblockable;
    uint64_t deadline = 0;
    bool poll = false;
    if (a.a2) {
        struct {
            int64_t sec, nsec;
        } ts;
        if (!get(a.a2, ts)) return -EFAULT;
        if (ts.sec < 0 || ts.nsec < 0 || ts.nsec >= 1'000'000'000) return -EINVAL;
        poll = ts.sec == 0 && ts.nsec == 0;
        uint64_t ns = uint64_t(ts.sec) > (1ull << 62) / 1'000'000'000 ? 1ull << 62
                                                                      : uint64_t(ts.sec) * 1'000'000'000 + uint64_t(ts.nsec);
        deadline = clock::monotonic_ns() + ns;
    }
    if (a.a1 && !user::accessible(a.a1, sizeof(SigInfo), user::kProtWrite)) return -EFAULT;
    sched::Thread* self = sched::current();
    SigInfo info;
    int sig;
    {
        sched::IrqGuard guard;
        sig = dequeue(self, set, info);
        while (!sig && !poll) {
            self->signals.waiting = set;
            recalc(self);
            int r = sched::block_interruptible(deadline);
            self->signals.waiting = 0;
            recalc(self);
            sig = dequeue(self, set, info);
            if (sig || r == -ETIMEDOUT) break;
            if (r == -EINTR) return -EINTR;  // another signal: its handler runs on the way out
        }
    }
    if (!sig) return -EAGAIN;
    if (a.a1) memcpy(reinterpret_cast<void*>(a.a1), &info, sizeof info);
    return sig;
}

// rt_sigsuspend(mask, sigsetsize): waits with mask in place for a signal whose handler then
// runs and sees the caller's mask in its frame; EINTR after it.
int64_t sys_rt_sigsuspend(const Args& a) {
    if (a.a1 != kSigsetSize) return -EINVAL;
    uint64_t mask;
    if (!get(a.a0, mask)) return -EFAULT;
    sched::Thread* self = sched::current();
    {
        sched::IrqGuard guard;
        self->signals.saved_mask = self->signals.mask;
        self->signals.restore_mask = true;
        self->signals.mask = mask & ~kUnblockable;
        recalc(self);
    }
    wait_for_signal();
    return -kERestartNoHand;
}

int64_t sys_pause(const Args&) {
    wait_for_signal();
    return -kERestartNoHand;
}

}  // namespace pollux::sys
