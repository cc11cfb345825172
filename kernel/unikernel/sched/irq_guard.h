// IrqGuard: the scheduler's lock. One CPU, so masking interrupts is enough to make a section
// atomic against the timer's preemption and every handler. SMP will need a spinlock beside it
// (the same guard type, so callers do not change).
#pragma once

#include <cstdint>

namespace pollux::sched {

class IrqGuard {
public:
    IrqGuard() {
        asm volatile("pushfq; popq %0; cli" : "=r"(flags_)::"memory");
    }
    ~IrqGuard() {
        if (flags_ & kInterruptFlag) asm volatile("sti" ::: "memory");
    }
    IrqGuard(const IrqGuard&) = delete;
    IrqGuard& operator=(const IrqGuard&) = delete;

private:
    static constexpr uint64_t kInterruptFlag = 1u << 9;  // RFLAGS.IF
    uint64_t flags_;
};

}  // namespace pollux::sched
