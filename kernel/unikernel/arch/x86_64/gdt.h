// The long-mode GDT and the one TSS. The selector order is the one SYSCALL/SYSRET will need
// (SDM Vol. 3A 5.8.8: user SS = STAR[63:48] + 8, user CS = STAR[63:48] + 16).
#pragma once

#include <cstdint>

namespace pollux::gdt {

constexpr uint16_t kKernelCode = 0x08, kKernelData = 0x10;
constexpr uint16_t kUserCode32 = 0x18, kUserData = 0x20 | 3, kUserCode = 0x28 | 3, kTss = 0x30;

// Interrupt Stack Table slots (1-based, as the IDT gate's IST field names them).
constexpr uint8_t kIstDoubleFault = 1, kIstNmi = 2, kIstMachineCheck = 3;

void init();
// TSS.RSP0: where an interrupt or exception from CPL3 switches the stack to.
void set_kernel_stack(uint64_t top);
// The IST stack ranges, so a backtrace can tell a real stack address from garbage.
bool on_known_stack(uint64_t addr);
// Which stack's guard page holds addr ("boot", "#DF", "NMI", "#MC"), or nullptr.
const char* stack_guard_owner(uint64_t addr);

}  // namespace pollux::gdt
