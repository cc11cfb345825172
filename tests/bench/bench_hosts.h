// Two Pollux hosts in this process on one clean in-memory wire, for tcp-bench: host A
// (10.0.0.1) serves, host B (10.0.0.2) connects, and their traffic crosses the wire, never lwIP's
// loopback. The same set-up as tests/net/two_hosts.cc, without its faulty second link or gtest.
#pragma once

#include <netinet/in.h>

#include <cstddef>
#include <cstdint>

namespace tcpbench {

// Brings lwIP and the wire up once per process. Aborts if the stack refuses the devices.
void setup_pollux_hosts();

// 10.0.0.<host>:port; host 1 is A (servers), host 2 is B (clients).
sockaddr_in pollux_addr(int host, uint16_t port);

// How many connections lwIP's TCP timers visit (the timer list, netstack/lwip/tcp_index.cc).
size_t pollux_timer_armed();

}  // namespace tcpbench
