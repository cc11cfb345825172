#include "arch/x86_64/tsc.h"

#include "arch/x86_64/cpu.h"

namespace pollux::tsc {
namespace {

uint64_t frequency = 0;
const char* frequency_source = "none";

constexpr uint64_t kMinPlausibleHz = 100'000'000, kMaxPlausibleHz = 10'000'000'000;  // keeps ticks_to_ns free of overflow
constexpr uint32_t kCpuidHypervisorBit = 1u << 31;  // CPUID.1:ECX[31]

// 8254 PIT (Intel 82C54 datasheet): 1.193182 MHz input clock, channel 0 data port 0x40,
// mode/command port 0x43.
constexpr uint32_t kPitHz = 1193182;
constexpr uint16_t kPitChannel0 = 0x40, kPitCommand = 0x43;
constexpr uint8_t kPitChannel0Mode0 = 0x30;  // channel 0, lobyte/hibyte, mode 0, binary
constexpr uint8_t kPitLatchChannel0 = 0x00;

uint64_t from_hypervisor_leaf() {
    if (!(cpu::cpuid(1).ecx & kCpuidHypervisorBit)) return 0;
    // Leaf 0x40000010 (the VMware/KVM "timing information" leaf): EAX = TSC kHz.
    if (cpu::cpuid(0x40000000).eax < 0x40000010) return 0;
    return uint64_t(cpu::cpuid(0x40000010).eax) * 1000;
}

uint64_t from_cpuid_15() {
    if (cpu::cpuid(0).eax < 0x15) return 0;
    // SDM Vol. 2A CPUID leaf 15H: TSC = crystal (ECX Hz) * EBX / EAX; ECX may be 0 (unknown).
    auto r = cpu::cpuid(0x15);
    if (!r.eax || !r.ebx || !r.ecx) return 0;
    return uint64_t(r.ecx) * r.ebx / r.eax;
}

uint16_t pit_read() {
    cpu::outb(kPitCommand, kPitLatchChannel0);
    uint8_t lo = cpu::inb(kPitChannel0);
    uint8_t hi = cpu::inb(kPitChannel0);
    return uint16_t(lo | hi << 8);
}

// Count the TSC across ~10 ms of PIT mode 0 countdown. Interrupts are off and IRQ0 masked;
// the counter is only read, never waited on through an interrupt.
uint64_t from_pit() {
    constexpr uint16_t kCount = 11932;  // 10 ms at kPitHz
    cpu::outb(kPitCommand, kPitChannel0Mode0);
    cpu::outb(kPitChannel0, kCount & 0xff);
    cpu::outb(kPitChannel0, kCount >> 8);
    uint16_t first = pit_read();
    if (first > kCount) return 0;  // reads back 0xffff: no PIT on this machine
    // Start at the first visible decrement so the interval begins on a PIT edge.
    uint16_t now = first;
    uint64_t limit = cpu::rdtsc() + kMaxPlausibleHz / 10;  // give up after 100 ms at 10 GHz
    while ((now = pit_read()) == first)
        if (cpu::rdtsc() > limit) return 0;
    uint64_t start = cpu::rdtsc();
    uint16_t from = now, last = now;
    constexpr uint16_t kTarget = 100;  // stop near the end: mode 0 wraps to 0xffff after 0
    while ((now = pit_read()) > kTarget && now <= last) {
        last = now;
        if (cpu::rdtsc() > limit) return 0;
    }
    uint64_t end = cpu::rdtsc();
    uint16_t elapsed = uint16_t(from - (now <= last ? now : 0));
    if (elapsed < kCount / 2) return 0;
    return (end - start) * kPitHz / elapsed;
}

bool plausible(uint64_t hz) { return hz >= kMinPlausibleHz && hz <= kMaxPlausibleHz; }

}  // namespace

bool init() {
    struct {
        uint64_t (*measure)();
        const char* name;
    } const sources[] = {
        {from_hypervisor_leaf, "CPUID 0x40000010 (hypervisor)"},
        {from_cpuid_15, "CPUID 0x15"},
        {from_pit, "calibrated against the PIT"},
    };
    for (const auto& s : sources) {
        uint64_t hz = s.measure();
        if (plausible(hz)) {
            frequency = hz;
            frequency_source = s.name;
            return true;
        }
    }
    return false;
}

uint64_t hz() { return frequency; }
const char* source() { return frequency_source; }

uint64_t ticks_to_ns(uint64_t ticks) {
    if (!frequency) return 0;
    return ticks / frequency * 1'000'000'000 + ticks % frequency * 1'000'000'000 / frequency;
}

uint64_t ns_to_ticks(uint64_t ns) {
    return ns / 1'000'000'000 * frequency + ns % 1'000'000'000 * frequency / 1'000'000'000;
}

}  // namespace pollux::tsc
