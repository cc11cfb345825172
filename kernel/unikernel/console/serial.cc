#include "console/serial.h"

#include "arch/x86_64/cpu.h"
#include "sched/irq_guard.h"

namespace pollux::console {
namespace {

// 16550 UART registers (PC16550D datasheet, table 2), offsets from the COM1 base.
constexpr uint16_t kCom1 = 0x3f8;
constexpr uint16_t kData = 0, kInterruptEnable = 1, kFifoControl = 2, kLineControl = 3,
                   kModemControl = 4, kLineStatus = 5;
constexpr uint8_t kLineStatusThrEmpty = 0x20;
constexpr uint8_t kInterruptEnableTxEmpty = 0x02;
constexpr uint8_t kLineControlDlab = 0x80, kLineControl8N1 = 0x03;

void put(char c) {
    // Bounded wait: with no UART the status port reads 0xff and we fall through at once; a
    // stuck UART must not hang a panic report forever.
    for (int i = 0; i < 100000 && !(cpu::inb(kCom1 + kLineStatus) & kLineStatusThrEmpty); ++i)
        cpu::pause();
    cpu::outb(kCom1 + kData, uint8_t(c));
}

}  // namespace

void serial_init() {
    cpu::outb(kCom1 + kInterruptEnable, 0);
    cpu::outb(kCom1 + kLineControl, kLineControlDlab);
    cpu::outb(kCom1 + kData, 1);  // divisor 1: 115200 baud
    cpu::outb(kCom1 + kInterruptEnable, 0);
    cpu::outb(kCom1 + kLineControl, kLineControl8N1);
    cpu::outb(kCom1 + kFifoControl, 0x07);   // enable and clear both FIFOs
    cpu::outb(kCom1 + kModemControl, 0x0b);  // DTR + RTS + OUT2 (on PCs OUT2 gates the IRQ line)
}

// A line at a time (at most kChunk bytes) with interrupts masked, so that what a handler prints
// (virtio-net's INTx pin, a signal's report) lands between lines, not inside one; in chunks, so
// that a program writing megabytes to its console does not mask interrupts for seconds.
void serial_write(const char* s, size_t len) {
    constexpr size_t kChunk = 256;
    for (size_t i = 0; i < len;) {
        sched::IrqGuard guard;
        for (size_t end = i + kChunk; i < len && i < end;) {
            char c = s[i++];
            if (c == '\n') put('\r');
            put(c);
            if (c == '\n') break;
        }
    }
}

void serial_set_tx_interrupt(bool enabled) {
    cpu::outb(kCom1 + kInterruptEnable, enabled ? kInterruptEnableTxEmpty : 0);
}

}  // namespace pollux::console
