// A keyed hash of a TCP/UDP 4-tuple, shared by the ISN generator and the connection index.
// Keyed from the platform's entropy so that a remote peer cannot choose tuples that collide
// (hash flooding) or predict sequence numbers.
#pragma once

#include <cstdint>

#include "lwip/ip_addr.h"

namespace pollux::net {

uint64_t mix64(uint64_t z);

// Only the address's own bytes count (4 for IPv4, 16 for IPv6), never the unused rest of
// ip_addr_t's union: equal tuples must hash equal.
uint64_t tuple_hash(uint64_t key, const ip_addr_t* local_ip, u16_t local_port, const ip_addr_t* remote_ip,
                    u16_t remote_port);

}  // namespace pollux::net
