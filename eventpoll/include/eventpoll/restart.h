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
        if (!platform::signal_restarts_syscall()) return -EINTR;
    }
}

}  // namespace pollux
