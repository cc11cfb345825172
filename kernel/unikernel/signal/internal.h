// What signal.cc, deliver.cc and sys_signal.cc share; not for the rest of the kernel.
#pragma once

#include <cstdint>

#include "arch/x86_64/interrupt_frame.h"
#include "sched/thread.h"
#include "signal/sigframe.h"
#include "signal/signal.h"

namespace pollux::signal::detail {

constexpr int64_t kPid = 1;  // sys_getpid's: the one process
constexpr uint64_t kUnblockable = bit(kSigKill) | bit(kSigStop);
// Faults the thread caused itself go before anything else, as Linux's SYNCHRONOUS_MASK.
constexpr uint64_t kSynchronous =
    bit(kSigSegv) | bit(kSigBus) | bit(kSigIll) | bit(kSigTrap) | bit(kSigFpe) | bit(kSigSys);
// Linux's -ERESTART* codes (include/linux/errno.h; never seen by the application).
constexpr int64_t kERestartSys = 512, kERestartNoIntr = 513, kERestartNoHand = 514, kERestartRestartBlock = 516;
// InterruptFrame::vector of a syscall frame that must not be restarted (Linux's orig_ax = -1):
// rt_sigreturn's, whose rax is the interrupted code's.
constexpr uint64_t kNoSyscall = ~0ull;

// The process's actions (shared by all threads: CLONE_SIGHAND) and its pending set (kill).
extern Action actions[kSignals + 1];
extern uint64_t shared_pending;
extern int32_t shared_code[kSignals];
extern int32_t shared_timer_id[kSignals];
extern uint64_t shared_timer_value[kSignals];

// SIG_DFL's action is to ignore: SIGCHLD, SIGURG, SIGWINCH, SIGCONT, and the stop signals
// (no job control here: there is no one to continue a stopped application).
bool default_ignores(int sig);
// The action ignores sig (SIG_IGN, or SIG_DFL that ignores).
bool ignored(int sig);
const char* name(int sig);

// Interrupts off for everything below.
// Recomputes t->sigpending (Linux's recalc_sigpending).
void recalc(sched::Thread* t);
// Takes the next pending signal in allowed off t's set, else the process's (a fault-type one
// first, else the lowest), and fills info as Linux's dequeue_signal; 0 if none.
int dequeue(sched::Thread* t, uint64_t allowed, SigInfo& info);
// Discards pending instances of sig everywhere (rt_sigaction to an ignoring action).
void discard(int sig);
sched::Thread* find_thread(int tid);
// The oldest living application thread: the one pid 1 names where Linux means the thread-group
// leader (getpriority(PRIO_PROCESS, 1), sched_getscheduler(1)); null once none is left.
sched::Thread* leader_thread();
// Linux's find_task_by_vpid(): pid 1 is the leader, any other number one of the threads' ids.
sched::Thread* find_task(int pid);
// The application's living threads (sysinfo's procs).
int thread_count();
// timers.cc: the POSIX timer id's signal was just dequeued; returns its si_overrun (the
// expirations since it was queued), which timer_getoverrun reports from now on. 0 for a timer
// deleted meanwhile.
int32_t timer_signal_taken(int32_t id);
// signalfd.cc's signalfd_notify(): a signal was queued, signalfd readers and pollers look again.
void signalfd_notify();
// A default action ends the application: the console line qemu/run reads, then 128 + sig.
[[noreturn]] void terminate(int sig, const char* how);

// sigaltstack: whether sp lies on t's alternate stack (Linux's on_sig_stack), and the
// ss_flags sigaltstack reports for it (sas_ss_flags).
bool on_altstack(const sched::Thread* t, uint64_t sp);
int altstack_state(const sched::Thread* t, uint64_t sp);
// do_sigaltstack: -EPERM, -EINVAL, -ENOMEM, or 0 once applied.
int set_altstack(sched::Thread* t, const StackT& ss, uint64_t sp);

// rt_sigreturn: restores the registers, FPU image, mask and alternate stack from the frame at
// the user's rsp - 8; returns the interrupted code's rax.
int64_t sigreturn(InterruptFrame* frame);

}  // namespace pollux::signal::detail
