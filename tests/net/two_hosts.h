// Two hosts in one process, joined by wires: host A and host B each have an address on every
// link, and traffic between them crosses the wire (netstack routes it so), never loopback.
// Link 0 is clean; link 1 loses, reorders and duplicates 5 % of frames each way (seeded).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

namespace nettest {

constexpr int kLinks = 2;

// Brings the stack and both wires up (once per process).
void setup_hosts();

// 10.0.<link>.1 (host A, servers) and 10.0.<link>.2 (host B, clients); fd00:<link>::1 / ::2.
sockaddr_in addr4(int link, int host, uint16_t port);
sockaddr_in6 addr6(int link, int host, uint16_t port);

// Socket helpers over pollux::sys_*; each aborts the test (ADD_FAILURE + return -1) on error.
int tcp_listener(const sockaddr* addr, socklen_t len, int backlog, uint16_t* port);
int tcp_connect(const sockaddr* addr, socklen_t len);  // blocking
uint16_t port_of(int fd);

}  // namespace nettest
