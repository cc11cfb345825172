#include "arch/x86_64/idt.h"

#include "arch/x86_64/gdt.h"
#include "console/printk.h"
#include "panic/panic.h"
#include "arch/x86_64/cpu.h"
#include "mm/page_table.h"
#include "sched/scheduler.h"
#include "signal/signal.h"
#include "user/address_space.h"
#include "user/user_mode.h"

extern "C" char isr_stubs[];

namespace pollux::idt {
namespace {

// SDM Vol. 3A 6.14.1, figure 6-8: a 64-bit interrupt gate.
struct __attribute__((packed)) Gate {
    uint16_t offset_low;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr;
    uint16_t offset_mid;
    uint32_t offset_high;
    uint32_t reserved;
};
static_assert(sizeof(Gate) == 16);

struct __attribute__((packed)) IdtPointer {
    uint16_t limit;
    uint64_t base;
};

constexpr uint8_t kInterruptGateDpl0 = 0x8e;  // P=1, DPL=0, type 0xE: interrupts stay off inside
// DPL=3: user mode may raise it with int3 (a breakpoint: SIGTRAP), as Linux allows; with DPL=0
// the CPU turns int3 at CPL3 into a #GP.
constexpr uint8_t kInterruptGateDpl3 = 0xee;
constexpr uint8_t kVectorNmi = 2, kVectorBreakpoint = 3, kVectorDoubleFault = 8, kVectorMachineCheck = 18;
constexpr int kExceptionCount = 32;

alignas(16) Gate idt[256];
Handler handlers[256];

}  // namespace

void init() {
    for (int v = 0; v < 256; ++v) {
        uint64_t stub = uint64_t(isr_stubs) + 16 * uint64_t(v);
        uint8_t ist = v == kVectorDoubleFault    ? gdt::kIstDoubleFault
                      : v == kVectorNmi          ? gdt::kIstNmi
                      : v == kVectorMachineCheck ? gdt::kIstMachineCheck
                                                 : 0;
        uint8_t type = v == kVectorBreakpoint ? kInterruptGateDpl3 : kInterruptGateDpl0;
        idt[v] = Gate{uint16_t(stub), gdt::kKernelCode, ist, type, uint16_t(stub >> 16),
                      uint32_t(stub >> 32), 0};
    }
    IdtPointer ptr{sizeof idt - 1, uint64_t(idt)};
    asm volatile("lidt %0" ::"m"(ptr));
}

void set_handler(uint8_t vector, Handler handler) { handlers[vector] = handler; }

}  // namespace pollux::idt

extern "C" void interrupt_dispatch(pollux::InterruptFrame* frame) {
    using namespace pollux;
    uint64_t v = frame->vector;
    // From user mode: an application thread's kernel-mode stretch (ru_stime) starts; the way
    // out (signal_exit_to_user) ends it.
    if ((frame->cs & 3) && sched::running()) sched::kernel_entered_from_user();
    if (v < idt::kExceptionCount) {
        constexpr uint64_t kPageFault = 14;
        // Demand paging of the application's memory, whether the app or a syscall touched it.
        if (v == kPageFault && user::handle_fault(cpu::read_cr2(), frame->error_code)) return;
        // The application's fault: a signal for it (its handler's, else the end of it), never
        // the kernel's. The handler runs on the way out (interrupt_entry.S).
        if (frame->cs & 3) {
            signal::user_fault(*frame, cpu::read_cr2());
            return;
        }
        bool user_address = v == kPageFault && cpu::read_cr2() < mm::kUserTop;
        if (user_address && sched::running() && sched::current()->user)
            user::fatal_exception(*frame, signal::kSigSegv);  // a syscall on a bad buffer
        exception_panic(*frame);  // does not return
    }
    if (idt::handlers[v]) {
        idt::handlers[v](*frame);
        return;
    }
    if (v == idt::kVectorSpurious) return;  // SDM Vol. 3A 11.9: no EOI for a spurious interrupt
    printk("interrupt: unexpected vector %lu, ignored\n", v);
}
