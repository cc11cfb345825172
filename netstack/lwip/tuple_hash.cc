#include "tuple_hash.h"

namespace pollux::net {

// splitmix64's finalizer: every input bit moves every output bit.
uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

namespace {

uint64_t absorb(uint64_t h, const ip_addr_t* a) {
    if (IP_IS_V6(a)) {
        const u32_t* w = ip_2_ip6(a)->addr;
        h = mix64(h ^ (uint64_t{w[0]} << 32 | w[1]));
        return mix64(h ^ (uint64_t{w[2]} << 32 | w[3]));
    }
    return mix64(h ^ ip_2_ip4(a)->addr);
}

}  // namespace

uint64_t tuple_hash(uint64_t key, const ip_addr_t* local_ip, u16_t local_port, const ip_addr_t* remote_ip,
                    u16_t remote_port) {
    uint64_t h = key ^ (uint64_t{local_port} << 16 | remote_port);
    h = absorb(h, local_ip);
    return absorb(h, remote_ip);
}

}  // namespace pollux::net
