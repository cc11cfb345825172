#include "arch/x86_64/tsc.h"

#include "arch/x86_64/cpu.h"
#include "mm/direct_map.h"
#include "vdso/vvar.h"

namespace pollux::tsc {
namespace {

uint64_t frequency = 0;
const char* frequency_source = "none";
// shift 32 keeps the computation of mult in 64 bits (10^9 << 32 < 2^63) and its rounding
// under 2.5 ns per second at the 10 GHz ceiling: far below what any calibration gets right,
// and the same for the kernel and the vDSO, which is what matters.
constexpr uint32_t kShift = 32;
uint64_t multiplier = 0;

constexpr uint64_t kMinPlausibleHz = 100'000'000, kMaxPlausibleHz = 10'000'000'000;  // keeps ns_to_ticks free of overflow
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

// kvmclock (Linux Documentation/virt/kvm/x86/msr.rst, MSR_KVM_SYSTEM_TIME_NEW): the host
// fills a pvclock_vcpu_time_info whose tsc_to_system_mul/tsc_shift turn TSC ticks into ns,
// so hz = 10^9 * 2^32 / mul, scaled by 2^-shift. Only under KVM; TCG has no kvmclock, so this
// path is not exercised by the boot tests.
struct PvclockTimeInfo {
    uint32_t version, pad0;
    uint64_t tsc_timestamp, system_time;
    uint32_t tsc_to_system_mul;
    int8_t tsc_shift;
    uint8_t flags, pad[2];
};
static_assert(sizeof(PvclockTimeInfo) == 32);
alignas(64) PvclockTimeInfo kvmclock_page;
constexpr uint32_t kMsrKvmSystemTimeNew = 0x4b564d01;
constexpr uint32_t kKvmFeatureClocksource2 = 1u << 3;

uint64_t from_kvmclock() {
    if (!(cpu::cpuid(1).ecx & kCpuidHypervisorBit)) return 0;
    auto sig = cpu::cpuid(0x40000000);
    // "KVMKVMKVM\0\0\0" in EBX, ECX, EDX.
    if (sig.ebx != 0x4b4d564b || sig.ecx != 0x564b4d56 || sig.edx != 0x4d || sig.eax < 0x40000001) return 0;
    if (!(cpu::cpuid(0x40000001).eax & kKvmFeatureClocksource2)) return 0;
    // The image is mapped at kKernelVma + its physical address.
    cpu::wrmsr(kMsrKvmSystemTimeNew, (uint64_t(&kvmclock_page) - mm::kKernelVma) | 1);
    volatile PvclockTimeInfo& info = kvmclock_page;
    uint32_t mul;
    int8_t shift;
    uint32_t version;
    do {  // an odd version means the host is mid-update
        version = info.version;
        asm volatile("" ::: "memory");
        mul = info.tsc_to_system_mul;
        shift = info.tsc_shift;
        asm volatile("" ::: "memory");
    } while ((version & 1) || version != info.version);
    cpu::wrmsr(kMsrKvmSystemTimeNew, 0);  // only the frequency was wanted
    if (!mul) return 0;
    uint64_t hz = (1'000'000'000ull << 32) / mul;
    return shift >= 0 ? hz >> shift : hz << -shift;
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

// A PIT count with the TSC read just before and after it. Under TCG the vCPU thread can be
// preempted between the two (this machine shares its cores): such samples are thrown away.
struct PitSample {
    uint16_t count;
    uint64_t tsc_before, tsc_after;
    uint64_t tsc() const { return tsc_before + (tsc_after - tsc_before) / 2; }
    bool tight() const { return tsc_after - tsc_before < 100'000; }  // ~25-100 us
};

PitSample pit_sample() {
    PitSample s;
    s.tsc_before = cpu::rdtsc();
    s.count = pit_read();
    s.tsc_after = cpu::rdtsc();
    return s;
}

// One measurement: the TSC across ~2 ms of PIT countdown (mode 0 from 0xffff, so it cannot
// wrap within the window). Interrupts are off and IRQ0 masked; the counter is only read.
// Returns 0 when there is no PIT or the samples were not tight.
uint64_t pit_measure_once() {
    constexpr uint16_t kWindow = 2386;  // 2 ms at kPitHz
    cpu::outb(kPitCommand, kPitChannel0Mode0);
    cpu::outb(kPitChannel0, 0xff);
    cpu::outb(kPitChannel0, 0xff);
    uint64_t limit = cpu::rdtsc() + kMaxPlausibleHz / 10;  // give up after 100 ms at 10 GHz
    PitSample first = pit_sample();
    PitSample start;
    do {
        start = pit_sample();
        if (start.tsc_after > limit) return 0;  // never moves: no PIT on this machine
    } while (start.count == first.count);
    PitSample end;
    do {
        end = pit_sample();
        if (end.tsc_after > limit || end.count > start.count) return 0;
    } while (start.count - end.count < kWindow);
    if (!start.tight() || !end.tight()) return 0;
    return (end.tsc() - start.tsc()) * kPitHz / (start.count - end.count);
}

// The median of three good measurements (at most eight tries): one preempted window cannot
// skew the result.
uint64_t from_pit() {
    uint64_t good[3];
    int n = 0;
    for (int tries = 0; tries < 8 && n < 3; ++tries)
        if (uint64_t hz = pit_measure_once()) good[n++] = hz;
    if (n < 3) return n ? good[0] : 0;
    if (good[0] > good[1]) { uint64_t t = good[0]; good[0] = good[1]; good[1] = t; }
    if (good[1] > good[2]) { uint64_t t = good[1]; good[1] = good[2]; good[2] = t; }
    if (good[0] > good[1]) { uint64_t t = good[0]; good[0] = good[1]; good[1] = t; }
    return good[1];
}

bool plausible(uint64_t hz) { return hz >= kMinPlausibleHz && hz <= kMaxPlausibleHz; }

}  // namespace

bool init(uint64_t override_hz) {
    if (plausible(override_hz)) {
        frequency = override_hz;
        multiplier = (1'000'000'000ull << kShift) / override_hz;
        frequency_source = "tsc_early_khz= on the command line";
        return true;
    }
    struct {
        uint64_t (*measure)();
        const char* name;
    } const sources[] = {
        {from_hypervisor_leaf, "CPUID 0x40000010 (hypervisor)"},
        {from_kvmclock, "kvmclock"},
        {from_cpuid_15, "CPUID 0x15"},
        {from_pit, "calibrated against the PIT"},
    };
    for (const auto& s : sources) {
        uint64_t hz = s.measure();
        if (plausible(hz)) {
            frequency = hz;
            multiplier = (1'000'000'000ull << kShift) / hz;
            frequency_source = s.name;
            return true;
        }
    }
    return false;
}

uint64_t hz() { return frequency; }
const char* source() { return frequency_source; }

uint64_t mult() { return multiplier; }
uint32_t shift() { return kShift; }

uint64_t ticks_to_ns(uint64_t ticks) { return pollux_cycles_to_ns(ticks, multiplier, kShift); }

uint64_t ns_to_ticks(uint64_t ns) {
    return ns / 1'000'000'000 * frequency + ns % 1'000'000'000 * frequency / 1'000'000'000;
}

}  // namespace pollux::tsc
