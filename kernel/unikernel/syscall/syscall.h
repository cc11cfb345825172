// The Linux x86_64 system-call ABI: number in rax, arguments in rdi rsi rdx r10 r8 r9, result
// (or -errno) in rax. syscall_dispatch (syscall_table.cc) looks the number up; each sys_*
// below is one Linux call with Linux's semantics for what an application in this unikernel
// can ask for.
#pragma once

#include <cstdint>

#include "arch/x86_64/interrupt_frame.h"

namespace pollux::sched {
struct Thread;
}

namespace pollux::sys {

struct Args {
    uint64_t a0, a1, a2, a3, a4, a5;
    InterruptFrame* frame;  // for clone, which copies the caller's user state
};
using Handler = int64_t (*)(const Args&);

// syscall/sys_console.cc: fds 0-2 and fstat
void install_console_fds();  // before the application starts
int64_t sys_ioctl(const Args&);
int64_t sys_fstat(const Args&);
// syscall/sys_files.cc: descriptors, sockets, epoll
int64_t sys_read(const Args&);
int64_t sys_write(const Args&);
int64_t sys_readv(const Args&);
int64_t sys_writev(const Args&);
int64_t sys_close(const Args&);
int64_t sys_dup(const Args&);
int64_t sys_dup2(const Args&);
int64_t sys_dup3(const Args&);
int64_t sys_fcntl(const Args&);
int64_t sys_close_range(const Args&);
int64_t sys_flock(const Args&);
int64_t sys_poll(const Args&);
int64_t sys_ppoll(const Args&);
int64_t sys_select(const Args&);
int64_t sys_pselect6(const Args&);
int64_t sys_epoll_create(const Args&);
int64_t sys_epoll_create1(const Args&);
int64_t sys_epoll_ctl(const Args&);
int64_t sys_epoll_wait(const Args&);
int64_t sys_epoll_pwait(const Args&);
int64_t sys_epoll_pwait2(const Args&);
int64_t sys_eventfd(const Args&);
int64_t sys_eventfd2(const Args&);
int64_t sys_timerfd_create(const Args&);
int64_t sys_timerfd_settime(const Args&);
int64_t sys_timerfd_gettime(const Args&);
int64_t sys_pipe(const Args&);
int64_t sys_pipe2(const Args&);
int64_t sys_socketpair(const Args&);
int64_t sys_socket(const Args&);
int64_t sys_bind(const Args&);
int64_t sys_connect(const Args&);
int64_t sys_listen(const Args&);
int64_t sys_accept(const Args&);
int64_t sys_accept4(const Args&);
int64_t sys_getsockname(const Args&);
int64_t sys_getpeername(const Args&);
int64_t sys_setsockopt(const Args&);
int64_t sys_getsockopt(const Args&);
int64_t sys_sendto(const Args&);
int64_t sys_recvfrom(const Args&);
int64_t sys_sendmsg(const Args&);
int64_t sys_recvmsg(const Args&);
int64_t sys_shutdown(const Args&);
int64_t sys_pread64(const Args&);
int64_t sys_sendfile(const Args&);
int64_t sys_preadv(const Args&);
int64_t sys_lseek(const Args&);
// syscall/sys_fs.cc: the file tree (fs/)
int64_t sys_open(const Args&);
int64_t sys_openat(const Args&);
int64_t sys_creat(const Args&);
int64_t sys_stat(const Args&);
int64_t sys_lstat(const Args&);
int64_t sys_newfstatat(const Args&);
int64_t sys_statx(const Args&);
int64_t sys_getdents64(const Args&);
int64_t sys_access(const Args&);
int64_t sys_faccessat(const Args&);
int64_t sys_faccessat2(const Args&);
int64_t sys_readlink(const Args&);
int64_t sys_readlinkat(const Args&);
int64_t sys_getcwd(const Args&);
int64_t sys_chdir(const Args&);
int64_t sys_fchdir(const Args&);
int64_t sys_umask(const Args&);
// syscall/sys_fs_names.cc: the calls that change names and attributes by path
int64_t sys_mkdir(const Args&);
int64_t sys_mkdirat(const Args&);
int64_t sys_unlink(const Args&);
int64_t sys_unlinkat(const Args&);
int64_t sys_rmdir(const Args&);
int64_t sys_rename(const Args&);
int64_t sys_renameat(const Args&);
int64_t sys_renameat2(const Args&);
int64_t sys_symlink(const Args&);
int64_t sys_symlinkat(const Args&);
int64_t sys_link(const Args&);
int64_t sys_linkat(const Args&);
int64_t sys_chmod(const Args&);
int64_t sys_fchmodat(const Args&);
int64_t sys_chown(const Args&);
int64_t sys_lchown(const Args&);
int64_t sys_fchownat(const Args&);
int64_t sys_truncate(const Args&);
int64_t sys_utimensat(const Args&);
// syscall/sys_fs_io.cc: the tree's calls on descriptors
int64_t sys_pwrite64(const Args&);
int64_t sys_pwritev(const Args&);
int64_t sys_ftruncate(const Args&);
int64_t sys_fsync(const Args&);
int64_t sys_fallocate(const Args&);
int64_t sys_sync(const Args&);
int64_t sys_syncfs(const Args&);
int64_t sys_fchmod(const Args&);
int64_t sys_fchown(const Args&);
// syscall/sys_memory.cc
int64_t sys_brk(const Args&);
int64_t sys_mmap(const Args&);
int64_t sys_munmap(const Args&);
int64_t sys_mprotect(const Args&);
int64_t sys_mremap(const Args&);
int64_t sys_madvise(const Args&);
// syscall/sys_memory_lock.cc
int64_t sys_mlock(const Args&);
int64_t sys_mlock2(const Args&);
int64_t sys_munlock(const Args&);
int64_t sys_mlockall(const Args&);
int64_t sys_munlockall(const Args&);
int64_t sys_msync(const Args&);
int64_t sys_mincore(const Args&);
// syscall/sys_statfs.cc
int64_t sys_statfs(const Args&);
int64_t sys_fstatfs(const Args&);
// syscall/sys_time.cc
int64_t sys_clock_gettime(const Args&);
int64_t sys_clock_getres(const Args&);
int64_t sys_gettimeofday(const Args&);
int64_t sys_time(const Args&);
int64_t sys_nanosleep(const Args&);
int64_t sys_clock_nanosleep(const Args&);
// syscall/sys_process.cc
int64_t sys_exit(const Args&);
int64_t sys_exit_group(const Args&);
int64_t sys_getpid(const Args&);
int64_t sys_gettid(const Args&);
int64_t sys_getuid(const Args&);
int64_t sys_set_tid_address(const Args&);
int64_t sys_set_robust_list(const Args&);
int64_t sys_rseq(const Args&);
int64_t sys_prlimit64(const Args&);
int64_t sys_getrlimit(const Args&);
int64_t sys_uname(const Args&);
int64_t sys_sysinfo(const Args&);
int64_t sys_getrusage(const Args&);
int64_t sys_times(const Args&);
int64_t sys_arch_prctl(const Args&);
int64_t sys_prctl(const Args&);
int64_t sys_membarrier(const Args&);
int64_t sys_getrandom(const Args&);
int64_t sys_sched_yield(const Args&);
int64_t sys_sched_getaffinity(const Args&);
int64_t sys_futex(const Args&);
int64_t sys_clone(const Args&);
int64_t sys_clone3(const Args&);
int64_t sys_getcpu(const Args&);
// syscall/sys_process_group.cc
int64_t sys_getppid(const Args&);
int64_t sys_getpgrp(const Args&);
int64_t sys_getpgid(const Args&);
int64_t sys_setpgid(const Args&);
int64_t sys_getsid(const Args&);
int64_t sys_setsid(const Args&);
int64_t sys_wait4(const Args&);
int64_t sys_waitid(const Args&);
// syscall/sys_sched.cc
void inherit_sched_attributes(const sched::Thread& parent, sched::Thread& child);  // clone()
int64_t sys_getpriority(const Args&);
int64_t sys_setpriority(const Args&);
int64_t sys_sched_setscheduler(const Args&);
int64_t sys_sched_setparam(const Args&);
int64_t sys_sched_getscheduler(const Args&);
int64_t sys_sched_getparam(const Args&);
int64_t sys_sched_get_priority_max(const Args&);
int64_t sys_sched_get_priority_min(const Args&);
int64_t sys_sched_rr_get_interval(const Args&);
// signal/sys_signal.cc
int64_t sys_rt_sigaction(const Args&);
int64_t sys_rt_sigprocmask(const Args&);
int64_t sys_rt_sigpending(const Args&);
int64_t sys_rt_sigreturn(const Args&);
int64_t sys_rt_sigtimedwait(const Args&);
int64_t sys_signalfd(const Args&);  // signal/signalfd.cc
int64_t sys_signalfd4(const Args&);
int64_t sys_rt_sigsuspend(const Args&);
int64_t sys_sigaltstack(const Args&);
int64_t sys_pause(const Args&);
int64_t sys_kill(const Args&);
int64_t sys_tkill(const Args&);
int64_t sys_tgkill(const Args&);
// signal/timers.cc
int64_t sys_alarm(const Args&);
int64_t sys_getitimer(const Args&);
int64_t sys_setitimer(const Args&);
int64_t sys_timer_create(const Args&);
int64_t sys_timer_settime(const Args&);
int64_t sys_timer_gettime(const Args&);
int64_t sys_timer_getoverrun(const Args&);
int64_t sys_timer_delete(const Args&);

}  // namespace pollux::sys
