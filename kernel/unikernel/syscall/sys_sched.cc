// Scheduling attributes: getpriority/setpriority (the nice value) and the sched_* policy calls,
// with kernel/sys.c's and kernel/sched/core.c's checks. The attributes are per thread, as on
// Linux (pid 1 names the leader, any thread id its thread), kept in sched::Thread, inherited by
// clone() and reported back; the scheduler itself gives every thread the same 10 ms round
// robin whatever its nice value or policy. The application is root with every capability, so,
// as on Linux, it may lower a nice value and choose SCHED_FIFO or SCHED_RR: those are accepted
// and reported but not honoured (no real-time preemption, no priority order).
//
// LOCKING: the thread list and the attributes are read and written under an IrqGuard.
#include <linux/errno.h>
#include <linux/sched.h>

#include "eventpoll/linux_abi.h"
#include "sched/irq_guard.h"
#include "sched/scheduler.h"
#include "signal/internal.h"
#include "syscall/syscall.h"
#include "user/user_access.h"

namespace pollux::sys {
namespace {

// PRIO_* (<linux/resource.h>, whose linux/time.h clashes with glibc's: see sys_process.cc).
constexpr int PRIO_PROCESS = 0, PRIO_PGRP = 1, PRIO_USER = 2;
constexpr int kMinNice = -20, kMaxNice = 19;
constexpr int kMaxRtPrio = 100;            // MAX_RT_PRIO
constexpr int kSchedDeadline = 6;          // SCHED_DEADLINE
constexpr int kResetOnFork = SCHED_RESET_ON_FORK;

bool rt_policy(int policy) { return policy == SCHED_FIFO || policy == SCHED_RR; }
bool valid_policy(int policy) {
    return policy == SCHED_NORMAL || policy == SCHED_BATCH || policy == SCHED_IDLE || rt_policy(policy) ||
           policy == kSchedDeadline;
}

// find_process_by_pid(): 0 is the caller.
sched::Thread* task_of(int32_t pid) { return pid == 0 ? sched::current() : signal::detail::find_task(pid); }

// The threads PRIO_PROCESS/PGRP/USER name (who already known to be 0 or one of ours), for f.
template <typename F>
int for_each_target(int which, int32_t who, F f) {
    if (which == PRIO_PROCESS) {
        sched::Thread* t = task_of(who);
        if (t == nullptr) return -ESRCH;
        f(*t);
        return 0;
    }
    // PRIO_PGRP: the one group (1) holds every thread; PRIO_USER: uid 0 owns them all.
    if (which == PRIO_PGRP ? who != 0 && who != signal::detail::kPid : who != 0) return -ESRCH;
    for (sched::Thread* t = signal::detail::leader_thread(); t != nullptr; t = t->signals.next) f(*t);
    return 0;
}

struct SchedParam {
    int32_t sched_priority;
};

}  // namespace

void inherit_sched_attributes(const sched::Thread& parent, sched::Thread& child) {
    child.nice = parent.nice;
    child.policy = parent.policy;
    child.rt_priority = parent.rt_priority;
    if (parent.reset_on_fork) {  // sched_fork(): the child goes back to SCHED_NORMAL's defaults
        if (rt_policy(child.policy)) child.policy = SCHED_NORMAL, child.rt_priority = 0;
        if (child.nice < 0) child.nice = 0;
    }
}

// getpriority(2) as the raw syscall answers: 20 - nice (1..40), the highest among the targets;
// libc turns it back into the nice value.
int64_t sys_getpriority(const Args& a) {
    int which = int(a.a0);
    int32_t who = int32_t(a.a1);
    if (which < PRIO_PROCESS || which > PRIO_USER) return -EINVAL;
    sched::IrqGuard guard;
    int best = 0;  // below any 20 - nice
    int r = for_each_target(which, who, [&](sched::Thread& t) {
        if (20 - t.nice > best) best = 20 - t.nice;
    });
    if (r < 0) return r;
    return best == 0 ? -ESRCH : best;  // PRIO_PGRP/USER with no thread left
}

// setpriority(2): the value clamped to [-20, 19]; root may raise priority too (no EACCES).
int64_t sys_setpriority(const Args& a) {
    int which = int(a.a0);
    int32_t who = int32_t(a.a1);
    int nice = int(int32_t(a.a2));
    if (which < PRIO_PROCESS || which > PRIO_USER) return -EINVAL;
    if (nice < kMinNice) nice = kMinNice;
    if (nice > kMaxNice) nice = kMaxNice;
    sched::IrqGuard guard;
    return for_each_target(which, who, [&](sched::Thread& t) { t.nice = int8_t(nice); });
}

// sched_setscheduler(2) and sched_setparam(2) (policy -1: keep it), after
// do_sched_setscheduler() and __sched_setscheduler().
int64_t set_scheduler(int32_t pid, int policy, uint64_t uparam) {
    if (uparam == 0 || pid < 0) return -EINVAL;
    SchedParam param;
    if (!user::get(uparam, param)) return -EFAULT;
    sched::IrqGuard guard;
    sched::Thread* t = task_of(pid);
    if (t == nullptr) return -ESRCH;
    bool reset = t->reset_on_fork;
    if (policy < 0) {
        policy = t->policy;
    } else {
        reset = (policy & kResetOnFork) != 0;
        policy &= ~kResetOnFork;
        if (!valid_policy(policy)) return -EINVAL;
    }
    if (param.sched_priority < 0 || param.sched_priority > kMaxRtPrio - 1) return -EINVAL;
    // SCHED_DEADLINE needs sched_setattr's runtime/deadline/period; sched_param has none.
    if (policy == kSchedDeadline) return -EINVAL;
    if (rt_policy(policy) != (param.sched_priority != 0)) return -EINVAL;
    t->policy = uint8_t(policy);
    t->rt_priority = uint8_t(param.sched_priority);
    t->reset_on_fork = reset;
    return 0;
}

int64_t sys_sched_setscheduler(const Args& a) {
    if (int32_t(a.a1) < 0) return -EINVAL;  // before the pid: the syscall's own check
    return set_scheduler(int32_t(a.a0), int(a.a1), a.a2);
}

int64_t sys_sched_setparam(const Args& a) { return set_scheduler(int32_t(a.a0), -1, a.a1); }

int64_t sys_sched_getscheduler(const Args& a) {
    int32_t pid = int32_t(a.a0);
    if (pid < 0) return -EINVAL;
    sched::IrqGuard guard;
    sched::Thread* t = task_of(pid);
    if (t == nullptr) return -ESRCH;
    return t->policy | (t->reset_on_fork ? kResetOnFork : 0);
}

int64_t sys_sched_getparam(const Args& a) {
    int32_t pid = int32_t(a.a0);
    if (a.a1 == 0 || pid < 0) return -EINVAL;
    SchedParam param{};
    {
        sched::IrqGuard guard;
        sched::Thread* t = task_of(pid);
        if (t == nullptr) return -ESRCH;
        if (rt_policy(t->policy)) param.sched_priority = t->rt_priority;
    }
    return user::put(a.a1, param) ? 0 : -EFAULT;
}

int64_t sys_sched_get_priority_max(const Args& a) {
    int policy = int(a.a0);
    if (rt_policy(policy)) return kMaxRtPrio - 1;
    return valid_policy(policy) ? 0 : -EINVAL;
}

int64_t sys_sched_get_priority_min(const Args& a) {
    int policy = int(a.a0);
    if (rt_policy(policy)) return 1;
    return valid_policy(policy) ? 0 : -EINVAL;
}

// The slice the thread gets: this scheduler's 10 ms for every policy but SCHED_FIFO (0: runs
// until it blocks, as Linux reports it). Linux's SCHED_RR would say 100 ms.
int64_t sys_sched_rr_get_interval(const Args& a) {
    int32_t pid = int32_t(a.a0);
    if (pid < 0) return -EINVAL;
    uint64_t slice;
    {
        sched::IrqGuard guard;
        sched::Thread* t = task_of(pid);
        if (t == nullptr) return -ESRCH;
        slice = t->policy == SCHED_FIFO ? 0 : sched::kTimeSliceNs;
    }
    abi::Timespec ts{int64_t(slice / 1'000'000'000), int64_t(slice % 1'000'000'000)};
    return user::put(a.a1, ts) ? 0 : -EFAULT;
}

}  // namespace pollux::sys
