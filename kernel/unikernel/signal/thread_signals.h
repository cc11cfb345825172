// One application thread's signal state, embedded in sched::Thread so that it lives and dies
// with the thread. signal/signal.cc owns every field; all of them change with interrupts off.
// Bit n-1 of a set stands for signal n, as in the kernel's 64-bit sigset_t.
#pragma once

#include <cstdint>

namespace pollux::sched {
struct Thread;
}

namespace pollux::signal {

constexpr int kSignals = 64;

// A fault of the thread's own (#PF, #UD, ...) waiting for its handler: Linux's force_sig_fault,
// with what the handler's siginfo and sigcontext report about it.
struct PendingFault {
    int sig = 0;  // 0: none
    int code = 0;
    uint64_t addr = 0, trapno = 0, error = 0;
};

struct ThreadSignals {
    uint64_t mask = 0;     // blocked
    uint64_t pending = 0;  // sent to this thread (tgkill, tkill, SIGPIPE)
    // The si_code each pending signal was sent with (SI_TKILL, SI_USER): a standard signal
    // pending twice is one signal, so one slot each is Linux's rule for 1-31; real-time signals
    // are not queued here (they coalesce too).
    int32_t code[kSignals] = {};
    // For a pending SI_TIMER signal: the POSIX timer that sent it and its sigev_value.
    int32_t timer_id[kSignals] = {};
    uint64_t timer_value[kSignals] = {};
    PendingFault fault;
    // Linux's saved_sigmask with TIF_RESTORE_SIGMASK: the mask ppoll, pselect, epoll_pwait or
    // rt_sigsuspend replaced for the call, put back on the way out, after a handler's frame has
    // recorded it (the handler runs with the call's mask).
    uint64_t saved_mask = 0;
    bool restore_mask = false;
    // rt_sigtimedwait's set while it sleeps: these wake it even though they are blocked
    // (Linux's real_blocked trick).
    uint64_t waiting = 0;
    // sigaltstack(2): Linux's sas_ss_sp, sas_ss_size and sas_ss_flags (as the app gave them,
    // SS_DISABLE or 0, with SS_AUTODISARM).
    uint64_t altstack_sp = 0, altstack_size = 0;
    uint32_t altstack_flags = 2;  // SS_DISABLE
    sched::Thread* next = nullptr;  // the application's threads (signal.cc)
};

}  // namespace pollux::signal
