// The end of the line: a report on COM1 (registers, faulting address, a symbolized backtrace),
// then machine_exit(kPanicExitStatus) so a test or a supervisor sees the failure.
#pragma once

#include "arch/x86_64/interrupt_frame.h"

namespace pollux {

[[noreturn]] void panic(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// A CPU exception nobody handles; called from interrupt_dispatch.
[[noreturn]] void exception_panic(const InterruptFrame& frame);

}  // namespace pollux
