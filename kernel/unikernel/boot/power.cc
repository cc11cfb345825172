#include "boot/power.h"

#include "arch/x86_64/cpu.h"

namespace pollux {

// QEMU hw/misc/debugexit.c: -device isa-debug-exit,iobase=0xf4,iosize=0x04.
constexpr uint16_t kDebugExitPort = 0xf4;

void machine_exit(int status) {
    cpu::outl(kDebugExitPort, uint32_t(status));
    // Still here: no debug-exit device. ACPI S5 is not implemented yet.
    halt_forever();
}

void halt_forever() {
    for (;;) {
        cpu::cli();
        cpu::hlt();
    }
}

}  // namespace pollux
