// Socket helpers: IPv4 on every address (no name resolution: getaddrinfo needs NSS, which a
// static binary cannot load).
#pragma once

#include <stdint.h>

namespace apps {

// Non-blocking listening TCP socket on 0.0.0.0:port, or -1 with errno.
int listen_tcp(uint16_t port, int backlog = 1024);
// Non-blocking UDP socket bound to 0.0.0.0:port, or -1 with errno.
int bind_udp(uint16_t port);

}  // namespace apps
