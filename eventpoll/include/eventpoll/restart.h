// restart_syscall(): the one place where an interrupted blocking call becomes a restart or
// EINTR, as Linux's signal delivery does with -ERESTARTSYS (arch/x86/kernel/signal.c).
#pragma once

#include <linux/errno.h>

#include "eventpoll/linux_abi.h"
#include "kernel/platform.h"

namespace pollux {

template <typename Call>
long restart_syscall(Call call) {
    for (;;) {
        long r = call();
        if (r != -abi::kERESTARTSYS) return r;
#ifdef POLLUX_UNIKERNEL
        // The handler has not run yet: the unikernel runs it on the way back to user mode,
        // where the syscall boundary sees which signal it is and restarts the call (SA_RESTART)
        // or fails it with EINTR, as Linux's does (kernel/unikernel/signal/).
        return r;
#else
        // Hosted, the host already ran the handler inside the interrupted wait.
        if (!platform::signal_restarts_syscall()) return -EINTR;
#endif
    }
}

}  // namespace pollux
