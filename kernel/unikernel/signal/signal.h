// Signals for the application, as Linux delivers them on x86_64.
//
// Sending marks a signal pending on a thread (tgkill, tkill, SIGPIPE, a fault) or on the
// process (kill), sets the chosen thread's Thread::sigpending when it does not block the
// signal, and ends that thread's interruptible wait (sched::interrupt): the wait returns
// -EINTR, the portable code turns that into EINTR or -ERESTARTSYS. Nothing runs in the middle
// of the kernel: the handler starts on the way back to user mode (signal_exit_to_user, called
// by the syscall and interrupt exits with the saved user registers and FPU image), which
// settles the interrupted call first (restart or EINTR), then builds Linux's rt_sigframe on
// the user stack and points the frame at the handler. rt_sigreturn puts everything back.
// A default action that ends the process ends the application, at once, with 128 + n.
//
// LOCKING: one CPU; all state changes with interrupts off.
#pragma once

#include <cstdint>

#include "arch/x86_64/interrupt_frame.h"
#include "sched/thread.h"

namespace pollux::signal {

// Linux's x86_64 numbers.
constexpr int kSigHup = 1, kSigInt = 2, kSigQuit = 3, kSigIll = 4, kSigTrap = 5, kSigAbrt = 6, kSigBus = 7,
              kSigFpe = 8, kSigKill = 9, kSigUsr1 = 10, kSigSegv = 11, kSigUsr2 = 12, kSigPipe = 13,
              kSigAlrm = 14, kSigTerm = 15, kSigChld = 17, kSigCont = 18, kSigStop = 19, kSigTstp = 20,
              kSigTtin = 21, kSigTtou = 22, kSigUrg = 23, kSigWinch = 28, kSigSys = 31;

constexpr uint64_t bit(int sig) { return 1ull << (sig - 1); }

// The kernel's struct sigaction on x86_64 (what rt_sigaction copies).
struct Action {
    uint64_t handler, flags, restorer, mask;
};
constexpr uint64_t kSigDfl = 0, kSigIgn = 1;

// Threads: a new application thread inherits its creator's mask (clone); an exiting one
// leaves the list tgkill searches.
void thread_started(sched::Thread* t, const sched::Thread* creator);
void thread_exiting(sched::Thread* t);

// Sending. code is the siginfo's si_code (kSiTkill, kSiUser); how ends the console line if the
// signal ends the application ("sent with tgkill"). -ESRCH, -EINVAL as kill(2).
int send_to_thread(int tid, int sig, int code, const char* how);
int send_to_process(int sig, int code, const char* how);
// A POSIX timer's expiry (interrupts off): its SI_TIMER signal for thread tid (0: the process)
// unless the one it sent before is still pending (then 0: an overrun, Linux's send_sigqueue);
// 1 when sent, -ESRCH when the thread has exited. May end the application (a default action).
int send_timer_signal(int tid, int sig, int32_t timer_id, uint64_t value);
// The application is exiting: no interval or POSIX timer fires from now on (timers.cc).
void stop_timers();
// platform::raise_sigpipe: SIGPIPE for the calling thread (Linux's send_sig(SIGPIPE, current)).
void raise_sigpipe();

// An exception from user mode that demand paging could not resolve. Returns when a handler of
// the application will take it (delivered on the way out); otherwise reports the fault and ends
// the application as Linux's force_sig_fault does with a blocked or ignored signal.
void user_fault(const InterruptFrame& frame, uint64_t cr2);

// The calling thread's mask (rt_sigprocmask), without SIGKILL and SIGSTOP.
uint64_t current_mask();
void set_current_mask(uint64_t mask);
// platform::sigmask_swap, platform::signal_restarts_syscall (kernel/platform.h).
bool sigmask_swap(const uint64_t* mask, uint64_t* old);
bool restarts_syscall();

}  // namespace pollux::signal
