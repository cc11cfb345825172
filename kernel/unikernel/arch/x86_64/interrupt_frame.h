// The stack image interrupt_entry.S builds for every vector: general registers it pushed,
// vector and error code (0 when the CPU pushes none), then the CPU's own frame (SDM Vol. 3A
// 6.14.2, "64-Bit Mode Stack Frame").
#pragma once

#include <cstdint>

namespace pollux {

struct InterruptFrame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};
static_assert(sizeof(InterruptFrame) == 22 * 8);

}  // namespace pollux
