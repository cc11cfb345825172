#include "arch/x86_64/lapic.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/tsc.h"
#include "mm/page_table.h"

namespace pollux::lapic {
namespace {

// Register offsets, SDM Vol. 3A table 11-1.
constexpr uint32_t kRegId = 0x20, kRegEoi = 0xb0, kRegSpurious = 0xf0, kRegLvtTimer = 0x320, kRegTimerInitial = 0x380,
                   kRegTimerCurrent = 0x390, kRegTimerDivide = 0x3e0;
constexpr uint32_t kSpuriousEnable = 1u << 8;  // APIC software enable (SDM 11.9)
constexpr uint32_t kLvtMasked = 1u << 16;
constexpr uint32_t kDivideBy16 = 0x3;           // SDM figure 11-10
constexpr uint32_t kCpuidApic = 1u << 9;        // CPUID.1:EDX.APIC
constexpr uint64_t kApicBaseEnable = 1u << 11;  // IA32_APIC_BASE.EN
constexpr uint64_t kApicBaseMask = 0xffffff000;
// 8259A PIC data ports: writing 0xff masks every line, so no legacy IRQ lands on a vector
// that is also a CPU exception.
constexpr uint16_t kPic1Data = 0x21, kPic2Data = 0xa1;

volatile uint32_t* regs = nullptr;
uint64_t timer_frequency = 0;  // LAPIC timer ticks per second after the divider
volatile uint64_t timer_count = 0;
bool timer_unmasked = false;  // the LVT says one-shot, unmasked, once the first deadline is set
uint64_t timer_program_count = 0;
uint64_t calibration_start = 0;  // TSC when start() let the timer count

uint32_t read(uint32_t reg) { return regs[reg / 4]; }
void write(uint32_t reg, uint32_t v) { regs[reg / 4] = v; }

void on_timer(InterruptFrame&) {
    timer_count = timer_count + 1;
    eoi();
}

}  // namespace

bool start() {
    if (!(cpu::cpuid(1).edx & kCpuidApic)) return false;
    cpu::outb(kPic1Data, 0xff);
    cpu::outb(kPic2Data, 0xff);
    uint64_t base_msr = cpu::rdmsr(cpu::kMsrApicBase);
    cpu::wrmsr(cpu::kMsrApicBase, base_msr | kApicBaseEnable);
    regs = static_cast<volatile uint32_t*>(mm::map_mmio(base_msr & kApicBaseMask, 4096));
    write(kRegSpurious, kSpuriousEnable | idt::kVectorSpurious);
    idt::set_handler(idt::kVectorLapicTimer, on_timer);
    write(kRegTimerDivide, kDivideBy16);
    write(kRegLvtTimer, kLvtMasked | idt::kVectorLapicTimer);
    write(kRegTimerInitial, 0xffffffff);
    calibration_start = cpu::rdtsc();
    return true;
}

bool init() {
    if (!regs) return false;
    // At least 1 ms: at QEMU's 62.5 MHz that is 62 500 ticks, so a few microseconds of jitter
    // in reading the two counters stays under 0.1 %. The 32-bit count lasts over a minute.
    uint64_t window = tsc::hz() / 1000, elapsed_tsc = 0;
    uint32_t remaining = 0;
    while (remaining == 0) {
        while (cpu::rdtsc() - calibration_start < window) cpu::pause();
        remaining = read(kRegTimerCurrent);
        elapsed_tsc = cpu::rdtsc() - calibration_start;
        if (remaining == 0) {  // counted out: the boot was held up for a minute (a debugger)
            write(kRegTimerInitial, 0xffffffff);
            calibration_start = cpu::rdtsc();
        }
    }
    write(kRegTimerInitial, 0);
    timer_frequency = (0xffffffffull - remaining) * tsc::hz() / elapsed_tsc;
    return timer_frequency != 0;
}

uint64_t timer_hz() { return timer_frequency; }

void timer_oneshot(uint64_t ns) {
    // Past the 32-bit count (about a minute) the caller re-arms when it fires anyway; clamping
    // ns first keeps the product below 2^64 for far deadlines (a sleep "forever").
    if (ns > 1'000'000'000'000) ns = 1'000'000'000'000;
    uint64_t ticks = ns / 1000 * timer_frequency / 1'000'000;
    if (ticks == 0) ticks = 1;
    if (ticks > 0xffffffff) ticks = 0xffffffff;
    if (!timer_unmasked) {
        write(kRegLvtTimer, idt::kVectorLapicTimer);  // one-shot, unmasked
        timer_unmasked = true;
    }
    write(kRegTimerInitial, uint32_t(ticks));
    ++timer_program_count;
}

uint64_t timer_programs() { return timer_program_count; }

uint64_t timer_interrupts() { return timer_count; }

uint32_t id() { return read(kRegId) >> 24; }

void eoi() { write(kRegEoi, 0); }

}  // namespace pollux::lapic
