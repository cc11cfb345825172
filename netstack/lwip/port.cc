// lwIP's platform hooks: the clock, random numbers, diagnostics and the lock assertion.
#include <cstdarg>
#include <cstdio>
#include <cstdlib>

#include "kernel/platform.h"
#include "lwip/arch.h"
#include "lwip/ip_addr.h"
#include "lwip/sys.h"
#include "netstack/stack.h"
#include "pollux_lwip_hooks.h"
#include "tuple_hash.h"

namespace {

uint64_t start_ns = pollux::platform::monotonic_ns();

// Seeded once from the platform's entropy, under the stack lock (every caller holds it).
uint64_t rand_state = 0;
uint64_t isn_key = 0;
bool seeded = false;

void seed() {
    if (seeded) return;
    uint64_t s[2];
    pollux::platform::entropy(s, sizeof(s));
    rand_state = s[0];
    isn_key = s[1];
    seeded = true;
}

}  // namespace

extern "C" {

u32_t sys_now(void) { return static_cast<u32_t>((pollux::platform::monotonic_ns() - start_ns) / 1000000u); }

// splitmix64 over an entropy seed: ephemeral ports, IPv6 interface ids, DHCP transaction ids.
unsigned int pollux_lwip_rand(void) {
    seed();
    return static_cast<unsigned int>(pollux::net::mix64(rand_state += 0x9e3779b97f4a7c15ull));
}

// RFC 6528: ISN = M + F(4-tuple, secret), M a 4 us clock. F is a keyed mix of the tuple, not
// a cryptographic MAC: enough that an off-path host cannot predict the next ISN.
u32_t pollux_lwip_isn(const ip_addr_t* local_ip, u16_t local_port, const ip_addr_t* remote_ip, u16_t remote_port) {
    seed();
    uint64_t h = pollux::net::tuple_hash(isn_key, local_ip, local_port, remote_ip, remote_port);
    uint64_t clock = (pollux::platform::monotonic_ns() - start_ns) / 4000u;
    return static_cast<u32_t>(h + clock);
}

void pollux_lwip_diag(const char* fmt, ...) {
    std::fputs("lwip: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    std::vfprintf(stderr, fmt, ap);  // NOLINT(clang-analyzer-valist.Uninitialized): va_start is right above
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
