// The scheduler: round robin over one run queue, 10 ms slices enforced by the LAPIC timer in
// one-shot mode, which is always armed for the earliest of (the current slice's end when
// another thread is waiting to run, the first sleeper's deadline). The boot thread becomes
// thread 1; an idle thread halts when nothing is runnable.
//
// Per-CPU state (current thread, run queue, idle thread) lives in one PerCpu object so that SMP
// can make it an array indexed by the APIC ID.
#pragma once

#include <cstdint>

#include "sched/thread.h"

namespace pollux::sched {

constexpr uint64_t kTimeSliceNs = 10'000'000;

// The boot thread becomes a schedulable thread; the LAPIC timer drives preemption from here on.
void init();
bool running();
Thread* current();

// A kernel thread running fn(arg); when fn returns, the thread exits. Null if out of memory.
Thread* spawn(void (*fn)(void*), void* arg, const char* name);
// A thread whose stack is prepared for the first switch to call entry(arg); not yet runnable.
// top_reserve bytes at the top of its stack are left for the caller (an application thread's
// first user-mode frame, at stack_top - top_reserve).
Thread* create(void (*entry)(void*), void* arg, const char* name, uint64_t top_reserve = 0);
void make_runnable(Thread* t);
// Changes what a created, never-run thread will call (for an argument that lives on its own stack).
void set_entry(Thread* t, void (*entry)(void*), void* arg);

void yield();
// Blocks the calling thread until wake() or the deadline (0: none). Interrupts must be off
// (an IrqGuard held): the caller checks its condition and blocks atomically. True if woken.
bool block(uint64_t deadline_ns);
// Makes a blocked thread runnable (no-op otherwise); interrupts off.
void wake(Thread* t);
void sleep_until(uint64_t deadline_ns);

// Linux's TASK_INTERRUPTIBLE: as block(), but a signal for the thread ends the wait too, and
// one already pending (Thread::sigpending) keeps it from starting. 0 when woken, -ETIMEDOUT,
// -EINTR. Interrupts off.
int block_interruptible(uint64_t deadline_ns);
// A signal became pending for t: ends its interruptible wait, if it is in one. Interrupts off.
void interrupt(Thread* t);
// Sleeps until the deadline unless a signal comes first: 0, or -EINTR.
int sleep_until_interruptible(uint64_t deadline_ns);
[[noreturn]] void exit_current();

// CPU time: what t has run so far, counting the slice in progress if it is running now; and
// what all application threads (Thread::user, the living and the exited) have run together.
// What CLOCK_*_CPUTIME_ID and the CPU-time interval timers measure. Any context.
uint64_t thread_cpu_ns(const Thread* t);
uint64_t application_cpu_ns();
// The user-mode and kernel-mode parts of those, read at one instant (getrusage's ru_utime and
// ru_stime; ITIMER_VIRTUAL counts the user part). Any context.
struct CpuTimes {
    uint64_t user_ns, sys_ns;
};
CpuTimes thread_times(const Thread* t);
CpuTimes application_times();
// The application's context switches, living and exited threads (ru_nvcsw, ru_nivcsw).
void application_switches(uint64_t& voluntary, uint64_t& involuntary);
// The current application thread left CPL3 (a syscall, an interrupt or fault from user mode),
// or is about to return to it. Interrupts off.
void kernel_entered_from_user();
void returning_to_user();

// The stack a kernel entry from CPL3 lands on (TSS.RSP0 and the syscall entry).
uint64_t kernel_entry_stack();
// The frame pointer walk may read addr: it lies on some thread's stack.
bool on_thread_stack(uint64_t addr);
bool in_thread_guard(uint64_t addr);

}  // namespace pollux::sched
