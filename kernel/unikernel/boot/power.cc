#include "boot/power.h"

#include "acpi/acpi.h"
#include "arch/x86_64/cpu.h"

namespace pollux {

// QEMU hw/misc/debugexit.c: -device isa-debug-exit,iobase=0xf4,iosize=0x04.
constexpr uint16_t kDebugExitPort = 0xf4;

void machine_exit(int status) {
    cpu::outl(kDebugExitPort, uint32_t(status));
    // Still here: no debug-exit device (a real machine, or QEMU without it). ACPI S5 loses the
    // status but stops the machine; halting is what is left.
    acpi::power_off();
    halt_forever();
}

void halt_forever() {
    for (;;) {
        cpu::cli();
        cpu::hlt();
    }
}

}  // namespace pollux
