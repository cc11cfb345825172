// Stopping the machine with a status the host can read.
//
// Exit-status mapping, which qemu/run and tests/boot rely on: machine_exit(s) writes s to
// QEMU's isa-debug-exit port (0xf4), and QEMU then exits with status (s << 1) | 1. qemu/run
// turns an odd status back into s, so `qemu/run` exits with the kernel's status. QEMU exiting
// with 0 means the guest stopped some other way (ACPI power-off, triple fault with -no-reboot).
// Without the device the kernel falls back to ACPI S5 (acpi/acpi.h) when the tables were
// read at boot, else halts.
#pragma once

namespace pollux {

// A panic's status: sysexits.h's EX_SOFTWARE, "internal software error"; QEMU shows 141.
constexpr int kPanicExitStatus = 70;

[[noreturn]] void machine_exit(int status);
[[noreturn]] void halt_forever();

}  // namespace pollux
