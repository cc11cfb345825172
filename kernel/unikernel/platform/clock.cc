#include "platform/clock.h"

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"

namespace pollux::clock {
namespace {

uint64_t epoch_ns = 0;

constexpr uint32_t kCpuidRdrand = 1u << 30;  // CPUID.1:ECX.RDRAND
constexpr uint32_t kCpuidRdseed = 1u << 18;  // CPUID.(EAX=7,ECX=0):EBX.RDSEED

enum class Source { unknown, rdseed, rdrand, jitter };
Source source = Source::unknown;

Source detect() {
    if (cpu::cpuid(0).eax >= 7 && (cpu::cpuid(7).ebx & kCpuidRdseed)) return Source::rdseed;
    if (cpu::cpuid(1).ecx & kCpuidRdrand) return Source::rdrand;
    return Source::jitter;
}

// A finalizer with full avalanche (splitmix64's), so neighbouring TSC values give unrelated words.
uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
    x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
    return x ^ (x >> 31);
}

uint64_t jitter_word() {
    static uint64_t state = 0;
    for (int i = 0; i < 8; ++i) {
        uint64_t t0 = cpu::rdtsc();
        for (volatile int spin = 0; spin < 16; spin = spin + 1) {
        }
        state = mix(state ^ t0 ^ (cpu::rdtsc() - t0) << 32);
    }
    return state;
}

// Both instructions may fail transiently (CF = 0); the SDM's advice is to retry.
bool hardware_word(uint64_t& out) {
    for (int tries = 0; tries < 100; ++tries) {
        unsigned char ok;
        if (source == Source::rdseed)
            asm volatile("rdseed %0; setc %1" : "=r"(out), "=qm"(ok));
        else
            asm volatile("rdrand %0; setc %1" : "=r"(out), "=qm"(ok));
        if (ok) return true;
    }
    return false;
}

}  // namespace

void set_epoch_seconds(uint64_t seconds) { epoch_ns = seconds * 1'000'000'000; }
uint64_t monotonic_ns() { return tsc::ticks_to_ns(cpu::rdtsc()); }
uint64_t realtime_ns() { return epoch_ns + monotonic_ns(); }

void entropy(void* buf, size_t len) {
    if (source == Source::unknown) source = detect();
    auto* out = static_cast<unsigned char*>(buf);
    while (len) {
        uint64_t word;
        if (source == Source::jitter || !hardware_word(word)) word = jitter_word();
        size_t n = len < sizeof word ? len : sizeof word;
        memcpy(out, &word, n);
        out += n;
        len -= n;
    }
}

const char* entropy_source() {
    if (source == Source::unknown) source = detect();
    switch (source) {
    case Source::rdseed: return "RDSEED";
    case Source::rdrand: return "RDRAND";
    default: return "TSC jitter";
    }
}

}  // namespace pollux::clock
