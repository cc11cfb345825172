// The process's place among processes, after kernel/sys.c and kernel/exit.c: the application
// is pid 1 (init) with no parent (getppid 0, as init's real parent is the idle task) and no
// children (no fork), the leader of its own process group and session (pgid = sid = 1). A pid
// names us when it is 1 or one of the threads' ids (Linux's find_task_by_vpid finds threads
// too); any other is ESRCH.
#include <linux/errno.h>
#include <linux/wait.h>

#include "sched/irq_guard.h"
#include "signal/internal.h"
#include "syscall/syscall.h"

namespace pollux::sys {
namespace {

using signal::detail::kPid;

bool names_us(int32_t pid) {
    if (pid <= 0) return false;
    sched::IrqGuard guard;  // the thread list changes under interrupts
    return signal::detail::find_task(pid) != nullptr;
}

// do_getpgid() and getsid(): 0 is the caller; every thread's group and session is the process's.
int64_t group_of(int32_t pid) { return pid == 0 || names_us(pid) ? kPid : -ESRCH; }

}  // namespace

int64_t sys_getppid(const Args&) { return 0; }
int64_t sys_getpgrp(const Args&) { return kPid; }
int64_t sys_getpgid(const Args& a) { return group_of(int32_t(a.a0)); }
int64_t sys_getsid(const Args& a) { return group_of(int32_t(a.a0)); }

// ksys_setsid(): the caller leads a process group already (it is pid 1's own): EPERM.
int64_t sys_setsid(const Args&) { return -EPERM; }

// setpgid(2) in kernel/sys.c's order: EINVAL for a negative pgid, ESRCH for a pid not ours,
// EINVAL for a thread that is not the group leader, then EPERM: the process is a session
// leader, whose group cannot change.
int64_t sys_setpgid(const Args& a) {
    int32_t pid = int32_t(a.a0), pgid = int32_t(a.a1);
    if (pid == 0) pid = kPid;
    if (pgid == 0) pgid = pid;
    if (pgid < 0) return -EINVAL;
    if (!names_us(pid)) return -ESRCH;
    if (pid != kPid) return -EINVAL;  // a thread id: !thread_group_leader(p)
    return -EPERM;
}

// wait4(2): kernel_wait4()'s option and pid checks, then do_wait() finds no child: ECHILD
// (WNOHANG too: there is nothing that could ever be waited for).
int64_t sys_wait4(const Args& a) {
    constexpr uint64_t kOptions = WNOHANG | WUNTRACED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL;
    int32_t pid = int32_t(a.a0);
    if (uint32_t(a.a2) & ~uint32_t(kOptions)) return -EINVAL;
    if (pid == INT32_MIN) return -ESRCH;  // -INT_MIN is not defined
    return -ECHILD;
}

// waitid(2): kernel_waitid()'s checks (options, at least one of WEXITED/WSTOPPED/WCONTINUED,
// the idtype and its id; P_PIDFD's id must be a pidfd, and there are none: EBADF), then ECHILD.
int64_t sys_waitid(const Args& a) {
    constexpr uint64_t kOptions = WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL;
    int which = int(a.a0);
    int32_t id = int32_t(a.a1);
    uint32_t options = uint32_t(a.a3);
    if (options & ~uint32_t(kOptions)) return -EINVAL;
    if (!(options & (WEXITED | WSTOPPED | WCONTINUED))) return -EINVAL;
    switch (which) {
    case P_ALL:
        break;
    case P_PID:
        if (id <= 0) return -EINVAL;
        break;
    case P_PGID:
        if (id < 0) return -EINVAL;
        break;
    case P_PIDFD:
        if (id < 0) return -EINVAL;
        return -EBADF;  // pidfd_get_pid(): no descriptor here is a pidfd
    default:
        return -EINVAL;
    }
    return -ECHILD;
}

}  // namespace pollux::sys
