// A thread: a kernel stack (with an unmapped guard page under it) and the state the scheduler
// keeps for it. Kernel threads run only on that stack; an application thread also has a user
// context, entered from and saved on the same kernel stack (TSS.RSP0 and the syscall entry
// point at its top while it runs).
//
// LOCKING: every field below the name is the scheduler's, touched with interrupts off
// (sched/irq_guard.h). Each list has its own link: a thread that timed out of a futex wait is
// back on the run queue before it unlinks itself from the wait list.
#pragma once

#include <cstdint>

#include "signal/thread_signals.h"

namespace pollux::sched {

enum class ThreadState : uint8_t { runnable, blocked, dead };

struct Thread {
    uint64_t saved_rsp = 0;  // switch_context's save slot; must stay first (context_switch.S)
    uint64_t stack_bottom = 0, stack_top = 0;
    const char* name = "";
    int tid = 0;
    ThreadState state = ThreadState::runnable;
    bool user = false;

    Thread* next = nullptr;       // run queue
    Thread* wait_next = nullptr;  // futex wait list (sched/futex.cc)
    Thread* sleep_next = nullptr;
    bool sleeping = false;
    uint64_t deadline = 0;  // absolute monotonic ns while sleeping
    bool woken = false;
    // Time this thread has been on the CPU, in its kernel and user mode together: settled at
    // each context switch (scheduler.cc). sys_ns is the kernel-mode part of an application
    // thread's: from each entry from CPL3 (syscall, interrupt, fault) to the return, while
    // in_kernel, kernel_since being when the current stretch began or the thread came back on
    // the CPU. A new thread starts in its kernel half.
    uint64_t cpu_ns = 0;
    uint64_t sys_ns = 0;
    uint64_t kernel_since = 0;
    bool in_kernel = true;
    // Context switches (getrusage's ru_nvcsw, ru_nivcsw): it blocked, or it was preempted.
    uint64_t voluntary_switches = 0, involuntary_switches = 0;

    uintptr_t wait_key = 0;  // the futex word's address while on the wait list
    uint32_t wait_bitset = 0;

    // Application threads (user/).
    // prctl(PR_SET_NAME)'s name (Linux's task->comm, TASK_COMM_LEN with its NUL); empty until
    // set, and a thread clone() makes starts with its creator's, as on Linux.
    char comm[16] = {};
    uint64_t fs_base = 0;
    uint64_t clear_child_tid = 0;
    // Scheduling attributes the application sets (setpriority, sched_setscheduler), per thread
    // as Linux keeps them and inherited by clone(): kept and reported, while the scheduler gives
    // every thread the same round robin (syscall/sys_sched.cc).
    int8_t nice = 0;
    uint8_t policy = 0;  // SCHED_OTHER
    uint8_t rt_priority = 0;
    bool reset_on_fork = false;

    // Linux's TIF_SIGPENDING: a signal this thread does not block is pending (signal/ keeps it
    // up to date). An interruptible wait does not start, or ends, while it is set.
    bool sigpending = false;
    bool interruptible = false;  // blocked in block_interruptible()
    bool interrupted = false;    // ... and a signal ended that wait
    signal::ThreadSignals signals;
};

}  // namespace pollux::sched
