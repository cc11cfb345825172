// User mode: the application's threads run at CPL3 in the lower half of the one address
// space; the kernel's pages are supervisor-only (no User bit), so the app cannot touch them,
// and SMEP keeps the kernel from executing the app's pages. SMAP is off: syscalls read and
// write the app's buffers directly (one app, trusted with its own memory, not with ours).
#pragma once

#include <cstdint>

#include "arch/x86_64/interrupt_frame.h"
#include "sched/thread.h"

namespace pollux::user {

// EFER.SCE and the STAR/LSTAR/FMASK MSRs.
void init();

// An application thread whose first user-mode state is `frame` (copied), not yet runnable
// (sched::make_runnable starts it, after clone has written its tid where asked). Null if out
// of memory.
sched::Thread* create_thread(const InterruptFrame& frame, uint64_t fs_base, uint64_t clear_child_tid);

// An exception from user mode that no handler of the application takes (signal/ decides), or
// a kernel access to a bad user address: report it and end the application as signal sig
// would (128 + sig).
[[noreturn]] void fatal_exception(const InterruptFrame& frame, int sig);

// Ends the application: the other threads leave, the files close (TCP peers get their FINs,
// waited for up to 200 ms), and the machine powers off with status.
[[noreturn]] void exit_application(int status);
// True for an application thread that must leave on its way back to user mode because another
// one is ending the application.
bool leaving(const sched::Thread* t);
// An exit has begun (Linux's PF_EXITING): the files it closes do not linger.
bool exiting();
// One thread leaves (exit(2)): clears and wakes *clear_child_tid; the last one ends the app.
[[noreturn]] void exit_thread(int status);

}  // namespace pollux::user
