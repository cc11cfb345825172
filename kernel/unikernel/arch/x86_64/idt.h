// The IDT: every vector goes to its stub in interrupt_entry.S and on to interrupt_dispatch.
// Exceptions (0-31) are fatal for now and end in the panic report; devices register handlers
// for their vectors.
#pragma once

#include <cstdint>

#include "arch/x86_64/interrupt_frame.h"

namespace pollux::idt {

// Vector numbers we assign (32-255 are ours; SDM Vol. 3A 6.2).
constexpr uint8_t kVectorLapicTimer = 0x20;
constexpr uint8_t kVectorIsaIrqBase = 0x30;  // ISA IRQ n arrives on 0x30 + n
constexpr uint8_t kVectorSpurious = 0xff;

using Handler = void (*)(InterruptFrame&);

void init();
void set_handler(uint8_t vector, Handler handler);

}  // namespace pollux::idt
