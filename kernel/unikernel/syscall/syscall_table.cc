// The table, indexed by Linux x86_64 numbers (<asm/unistd_64.h>), and the dispatcher the
// entry stub calls. An unknown number is logged once, with its name, and fails with ENOSYS,
// which is what glibc and musl check before falling back (clone3, rseq, statx, ...).
#include <asm/unistd_64.h>
#include <linux/errno.h>

#include "console/printk.h"
#include "sched/irq_guard.h"
#include "sched/scheduler.h"
#include "syscall/syscall.h"
#include "syscall/syscall_stats.h"

namespace pollux::sys {
namespace {

constexpr int kTableSize = 512;

struct Table {
    Handler handlers[kTableSize] = {};
    constexpr Table() {
        handlers[__NR_ioctl] = sys_ioctl;
        handlers[__NR_read] = sys_read;
        handlers[__NR_write] = sys_write;
        handlers[__NR_readv] = sys_readv;
        handlers[__NR_writev] = sys_writev;
        handlers[__NR_close] = sys_close;
        handlers[__NR_dup] = sys_dup;
        handlers[__NR_dup2] = sys_dup2;
        handlers[__NR_dup3] = sys_dup3;
        handlers[__NR_fcntl] = sys_fcntl;
        handlers[__NR_poll] = sys_poll;
        handlers[__NR_ppoll] = sys_ppoll;
        handlers[__NR_select] = sys_select;
        handlers[__NR_pselect6] = sys_pselect6;
        handlers[__NR_epoll_create] = sys_epoll_create;
        handlers[__NR_epoll_create1] = sys_epoll_create1;
        handlers[__NR_epoll_ctl] = sys_epoll_ctl;
        handlers[__NR_epoll_wait] = sys_epoll_wait;
        handlers[__NR_epoll_pwait] = sys_epoll_pwait;
        handlers[__NR_epoll_pwait2] = sys_epoll_pwait2;
        handlers[__NR_eventfd] = sys_eventfd;
        handlers[__NR_eventfd2] = sys_eventfd2;
        handlers[__NR_timerfd_create] = sys_timerfd_create;
        handlers[__NR_timerfd_settime] = sys_timerfd_settime;
        handlers[__NR_timerfd_gettime] = sys_timerfd_gettime;
        handlers[__NR_pipe] = sys_pipe;
        handlers[__NR_pipe2] = sys_pipe2;
        handlers[__NR_socketpair] = sys_socketpair;
        handlers[__NR_socket] = sys_socket;
        handlers[__NR_bind] = sys_bind;
        handlers[__NR_connect] = sys_connect;
        handlers[__NR_listen] = sys_listen;
        handlers[__NR_accept] = sys_accept;
        handlers[__NR_accept4] = sys_accept4;
        handlers[__NR_getsockname] = sys_getsockname;
        handlers[__NR_getpeername] = sys_getpeername;
        handlers[__NR_setsockopt] = sys_setsockopt;
        handlers[__NR_getsockopt] = sys_getsockopt;
        handlers[__NR_sendto] = sys_sendto;
        handlers[__NR_recvfrom] = sys_recvfrom;
        handlers[__NR_sendmsg] = sys_sendmsg;
        handlers[__NR_recvmsg] = sys_recvmsg;
        handlers[__NR_shutdown] = sys_shutdown;
        handlers[__NR_fstat] = sys_fstat;
        handlers[__NR_newfstatat] = sys_newfstatat;
        handlers[__NR_brk] = sys_brk;
        handlers[__NR_mmap] = sys_mmap;
        handlers[__NR_munmap] = sys_munmap;
        handlers[__NR_mprotect] = sys_mprotect;
        handlers[__NR_mremap] = sys_mremap;
        handlers[__NR_madvise] = sys_madvise;
        handlers[__NR_clock_gettime] = sys_clock_gettime;
        handlers[__NR_clock_getres] = sys_clock_getres;
        handlers[__NR_gettimeofday] = sys_gettimeofday;
        handlers[__NR_time] = sys_time;
        handlers[__NR_nanosleep] = sys_nanosleep;
        handlers[__NR_clock_nanosleep] = sys_clock_nanosleep;
        handlers[__NR_alarm] = sys_alarm;
        handlers[__NR_getitimer] = sys_getitimer;
        handlers[__NR_setitimer] = sys_setitimer;
        handlers[__NR_timer_create] = sys_timer_create;
        handlers[__NR_timer_settime] = sys_timer_settime;
        handlers[__NR_timer_gettime] = sys_timer_gettime;
        handlers[__NR_timer_getoverrun] = sys_timer_getoverrun;
        handlers[__NR_timer_delete] = sys_timer_delete;
        handlers[__NR_exit] = sys_exit;
        handlers[__NR_exit_group] = sys_exit_group;
        handlers[__NR_getpid] = sys_getpid;
        handlers[__NR_gettid] = sys_gettid;
        handlers[__NR_getuid] = sys_getuid;
        handlers[__NR_geteuid] = sys_getuid;
        handlers[__NR_getgid] = sys_getuid;
        handlers[__NR_getegid] = sys_getuid;
        handlers[__NR_set_tid_address] = sys_set_tid_address;
        handlers[__NR_set_robust_list] = sys_set_robust_list;
        handlers[__NR_rseq] = sys_rseq;
        handlers[__NR_prlimit64] = sys_prlimit64;
        handlers[__NR_getrlimit] = sys_getrlimit;
        handlers[__NR_uname] = sys_uname;
        handlers[__NR_sysinfo] = sys_sysinfo;
        handlers[__NR_getrusage] = sys_getrusage;
        handlers[__NR_times] = sys_times;
        handlers[__NR_arch_prctl] = sys_arch_prctl;
        handlers[__NR_prctl] = sys_prctl;
        handlers[__NR_membarrier] = sys_membarrier;
        handlers[__NR_rt_sigaction] = sys_rt_sigaction;
        handlers[__NR_rt_sigprocmask] = sys_rt_sigprocmask;
        handlers[__NR_rt_sigtimedwait] = sys_rt_sigtimedwait;
        handlers[__NR_signalfd] = sys_signalfd;
        handlers[__NR_signalfd4] = sys_signalfd4;
        handlers[__NR_getrandom] = sys_getrandom;
        handlers[__NR_sched_yield] = sys_sched_yield;
        handlers[__NR_sched_getaffinity] = sys_sched_getaffinity;
        handlers[__NR_futex] = sys_futex;
        handlers[__NR_clone] = sys_clone;
        handlers[__NR_clone3] = sys_clone3;
        handlers[__NR_tgkill] = sys_tgkill;
        handlers[__NR_getcpu] = sys_getcpu;
        handlers[__NR_pread64] = sys_pread64;
        handlers[__NR_sendfile] = sys_sendfile;
        handlers[__NR_preadv] = sys_preadv;
        handlers[__NR_lseek] = sys_lseek;
        handlers[__NR_open] = sys_open;
        handlers[__NR_openat] = sys_openat;
        handlers[__NR_creat] = sys_creat;
        handlers[__NR_stat] = sys_stat;
        handlers[__NR_lstat] = sys_lstat;
        handlers[__NR_statx] = sys_statx;
        handlers[__NR_getdents64] = sys_getdents64;
        handlers[__NR_access] = sys_access;
        handlers[__NR_faccessat] = sys_faccessat;
        handlers[__NR_faccessat2] = sys_faccessat2;
        handlers[__NR_readlink] = sys_readlink;
        handlers[__NR_readlinkat] = sys_readlinkat;
        handlers[__NR_getcwd] = sys_getcwd;
        handlers[__NR_chdir] = sys_chdir;
        handlers[__NR_fchdir] = sys_fchdir;
        handlers[__NR_mkdir] = sys_mkdir;
        handlers[__NR_mkdirat] = sys_mkdirat;
        handlers[__NR_unlink] = sys_unlink;
        handlers[__NR_unlinkat] = sys_unlinkat;
        handlers[__NR_rmdir] = sys_rmdir;
        handlers[__NR_rename] = sys_rename;
        handlers[__NR_renameat] = sys_renameat;
        handlers[__NR_renameat2] = sys_renameat2;
        handlers[__NR_symlink] = sys_symlink;
        handlers[__NR_symlinkat] = sys_symlinkat;
        handlers[__NR_link] = sys_link;
        handlers[__NR_linkat] = sys_linkat;
        handlers[__NR_chmod] = sys_chmod;
        handlers[__NR_fchmodat] = sys_fchmodat;
        handlers[__NR_fchmod] = sys_fchmod;
        handlers[__NR_chown] = sys_chown;
        handlers[__NR_lchown] = sys_lchown;
        handlers[__NR_fchown] = sys_fchown;
        handlers[__NR_fchownat] = sys_fchownat;
        handlers[__NR_truncate] = sys_truncate;
        handlers[__NR_ftruncate] = sys_ftruncate;
        handlers[__NR_utimensat] = sys_utimensat;
        handlers[__NR_umask] = sys_umask;
        handlers[__NR_pwrite64] = sys_pwrite64;
        handlers[__NR_pwritev] = sys_pwritev;
        handlers[__NR_fsync] = sys_fsync;
        handlers[__NR_fdatasync] = sys_fsync;
        handlers[__NR_fallocate] = sys_fallocate;
        handlers[__NR_sync] = sys_sync;
        handlers[__NR_syncfs] = sys_syncfs;
        handlers[__NR_rt_sigpending] = sys_rt_sigpending;
        handlers[__NR_rt_sigreturn] = sys_rt_sigreturn;
        handlers[__NR_rt_sigsuspend] = sys_rt_sigsuspend;
        handlers[__NR_sigaltstack] = sys_sigaltstack;
        handlers[__NR_pause] = sys_pause;
        handlers[__NR_kill] = sys_kill;
        handlers[__NR_tkill] = sys_tkill;
        handlers[__NR_close_range] = sys_close_range;
        handlers[__NR_flock] = sys_flock;
        handlers[__NR_mlock] = sys_mlock;
        handlers[__NR_mlock2] = sys_mlock2;
        handlers[__NR_munlock] = sys_munlock;
        handlers[__NR_mlockall] = sys_mlockall;
        handlers[__NR_munlockall] = sys_munlockall;
        handlers[__NR_msync] = sys_msync;
        handlers[__NR_mincore] = sys_mincore;
        handlers[__NR_statfs] = sys_statfs;
        handlers[__NR_fstatfs] = sys_fstatfs;
        handlers[__NR_getppid] = sys_getppid;
        handlers[__NR_getpgrp] = sys_getpgrp;
        handlers[__NR_getpgid] = sys_getpgid;
        handlers[__NR_setpgid] = sys_setpgid;
        handlers[__NR_getsid] = sys_getsid;
        handlers[__NR_setsid] = sys_setsid;
        handlers[__NR_wait4] = sys_wait4;
        handlers[__NR_waitid] = sys_waitid;
        handlers[__NR_getpriority] = sys_getpriority;
        handlers[__NR_setpriority] = sys_setpriority;
        handlers[__NR_sched_setscheduler] = sys_sched_setscheduler;
        handlers[__NR_sched_setparam] = sys_sched_setparam;
        handlers[__NR_sched_getscheduler] = sys_sched_getscheduler;
        handlers[__NR_sched_getparam] = sys_sched_getparam;
        handlers[__NR_sched_get_priority_max] = sys_sched_get_priority_max;
        handlers[__NR_sched_get_priority_min] = sys_sched_get_priority_min;
        handlers[__NR_sched_rr_get_interval] = sys_sched_rr_get_interval;
    }
};
constexpr Table table;

const char* syscall_name(uint64_t nr) {
    switch (nr) {
#include "syscall_names.inc"
    default: return "?";
    }
}

bool logged[kTableSize];

}  // namespace
}  // namespace pollux::sys

extern "C" void syscall_dispatch(pollux::InterruptFrame* f) {
    using namespace pollux::sys;
    {
        pollux::sched::IrqGuard guard;
        pollux::sched::kernel_entered_from_user();  // ru_stime from here
    }
    uint64_t nr = f->vector;
    count_syscall(nr);
    Handler h = nr < kTableSize ? table.handlers[nr] : nullptr;
    if (!h) {
        if (nr >= kTableSize || !logged[nr]) {
            if (nr < kTableSize) logged[nr] = true;
            pollux::printk(KERN_NOTICE "syscall: %lu (%s) is not implemented: ENOSYS\n", nr, syscall_name(nr));
        }
        f->rax = uint64_t(-ENOSYS);
        return;
    }
    Args a{f->rdi, f->rsi, f->rdx, f->r10, f->r8, f->r9, f};
    f->rax = uint64_t(h(a));
}
