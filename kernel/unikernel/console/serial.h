// COM1, the kernel console: polled output only (no interrupts), so it works from the first
// instruction of kernel_entry to the last line of a panic.
#pragma once

#include <cstddef>

namespace pollux::console {

void serial_init();
// Writes len bytes, turning "\n" into "\r\n" for terminals.
void serial_write(const char* s, size_t len);
// The "transmitter holding register empty" interrupt (IRQ 4): on an idle UART it fires as
// soon as it is enabled, which makes it the boot's probe of the interrupt path.
void serial_set_tx_interrupt(bool enabled);

}  // namespace pollux::console
