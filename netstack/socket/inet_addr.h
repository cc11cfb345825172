// Socket addresses <-> lwIP addresses, with the checks Linux's inet and inet6 code makes.
#pragma once

#include <cstdint>

#include "eventpoll/socket.h"
#include "kstd/result.h"
#include "lwip/ip_addr.h"

namespace pollux::net {

struct Endpoint {
    ip_addr_t ip;
    uint16_t port = 0;  // host byte order
};

// A bind/connect/sendto address for a socket of `family`. Checks the length and family as
// inet_bind()/inet6_bind()/tcp_v4_connect() do: short → EINVAL, wrong family → EAFNOSUPPORT
// (AF_UNSPEC with INADDR_ANY is accepted by an AF_INET bind). A v4-mapped IPv6 address becomes
// IPv4; with v6only that is refused (`mapped_error`: EINVAL for bind, ENETUNREACH for connect).
kstd::Result<Endpoint> endpoint_from(const SockAddr& addr, int family, bool v6only, int mapped_error,
                                     bool accept_unspec_any);

// The sockaddr a socket of `family` reports for ip:port (IPv4 peers of an AF_INET6 socket as
// v4-mapped ::ffff:a.b.c.d).
void sockaddr_from(const ip_addr_t& ip, uint16_t port, int family, SockAddr& out);

// True if ip is one of this host's addresses (or loopback, or any): bind's EADDRNOTAVAIL check.
bool is_local_address(const ip_addr_t& ip);

// True if a listening TCP socket holds port on an address overlapping ip: Linux refuses such a
// bind even when both sides set SO_REUSEADDR (inet_csk_bind_conflict), lwIP would allow it.
// A listener of a SO_REUSEPORT group does not count when the binding socket has it too, nor
// one of the other family (IPv4 against an IPV6_V6ONLY IPv6 address).
bool port_has_listener(const ip_addr_t& ip, uint16_t port, bool reuseport);

// lwIP's err_t as Linux's errno for socket calls.
int errno_from_lwip(int8_t err);

}  // namespace pollux::net
