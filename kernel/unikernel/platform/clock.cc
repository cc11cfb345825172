#include "platform/clock.h"

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "mm/direct_map.h"
#include "sched/irq_guard.h"
#include "vdso/vvar.h"

namespace pollux::clock {
namespace {

// A page of its own in the kernel's .bss: user/vdso.cc maps its frame into the application,
// so nothing else of the kernel's may share it.
union alignas(POLLUX_VVAR_SIZE) VvarPage {
    pollux_vvar data;
    uint8_t bytes[POLLUX_VVAR_SIZE];
};
VvarPage vvar_page;
static_assert(sizeof(VvarPage) == POLLUX_VVAR_SIZE);
volatile pollux_vvar& vvar = vvar_page.data;

// The seqlock's write side, interrupts off (one CPU: no reader runs in between; a reader
// interrupted mid-read sees the sequence move and retries). x86 keeps stores in order, so
// compiler barriers are all the ordering needed.
template <typename F>
void update(F change) {
    sched::IrqGuard guard;
    vvar.seq = vvar.seq + 1;
    asm volatile("" ::: "memory");
    change();
    asm volatile("" ::: "memory");
    vvar.seq = vvar.seq + 1;
}

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

// The TSC counts from reset and the clock from 0 there, so the bases are 0 (and stay so: the
// 128-bit product never overflows).
void init() {
    update([] {
        vvar.tsc_base = 0;
        vvar.mono_base_ns = 0;
        vvar.mult = tsc::mult();
        vvar.shift = tsc::shift();
        vvar.mode = tsc::mult() ? POLLUX_VCLOCK_TSC : POLLUX_VCLOCK_NONE;
    });
}

void set_epoch_seconds(uint64_t seconds) {
    update([seconds] { vvar.realtime_offset_ns = seconds * 1'000'000'000; });
}

uint64_t vvar_page_physical() { return reinterpret_cast<uint64_t>(&vvar_page) - mm::kKernelVma; }

// Before init() both read 0 (pollux_vvar_read leaves them), as tsc::ticks_to_ns would.
uint64_t monotonic_ns() {
    uint64_t mono = 0, offset = 0;
    pollux_vvar_read(&vvar, &mono, &offset);
    return mono;
}

uint64_t realtime_ns() {
    uint64_t mono = 0, offset = 0;
    pollux_vvar_read(&vvar, &mono, &offset);
    return mono + offset;
}

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
