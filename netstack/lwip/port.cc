// lwIP's platform hooks: the clock, random numbers, diagnostics and the lock assertion.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "kernel/platform.h"
#include "lwip/arch.h"
#include "lwip/sys.h"
#include "netstack/stack.h"

namespace {

uint64_t start_ns = pollux::platform::monotonic_ns();

// splitmix64: ISNs, ephemeral ports and IPv6 interface ids need to be hard to guess across
// boots, not cryptographic; seeded from the clock and an address in the image.
uint64_t rand_state = pollux::platform::monotonic_ns() ^ reinterpret_cast<uintptr_t>(&start_ns);

}  // namespace

extern "C" {

u32_t sys_now(void) { return static_cast<u32_t>((pollux::platform::monotonic_ns() - start_ns) / 1000000u); }

unsigned int pollux_lwip_rand(void) {
    uint64_t z = (rand_state += 0x9e3779b97f4a7c15ull);  // only called under the stack lock
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return static_cast<unsigned int>(z ^ (z >> 31));
}

void pollux_lwip_diag(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::fputs("lwip: ", stderr);
    std::vfprintf(stderr, fmt, ap);
    va_end(ap);
}

void pollux_lwip_assert_failed(const char* msg, const char* file, int line) {
    std::fprintf(stderr, "lwip: assertion \"%s\" failed at %s:%d\n", msg, file, line);
    std::abort();
}

void pollux_lwip_assert_locked(void) {
#ifndef NDEBUG
    // The lock is a plain mutex without an owner: check at least that someone holds it.
    if (pollux::net::stack_lock.try_lock()) {
        pollux::net::stack_lock.unlock();
        pollux_lwip_assert_failed("stack_lock held", __FILE__, __LINE__);
    }
#endif
}

}  // extern "C"
