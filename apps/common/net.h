// Socket helpers: every address, IPv6 and IPv4 (no name resolution: getaddrinfo needs NSS,
// which a static binary cannot load).
#pragma once

#include <stdint.h>

namespace apps {

// Non-blocking listening TCP socket on [::]:port (or 0.0.0.0:port), or -1 with errno.
int listen_tcp(uint16_t port, int backlog = 1024);
// Non-blocking UDP socket bound to [::]:port (or 0.0.0.0:port), or -1 with errno.
int bind_udp(uint16_t port);

}  // namespace apps
