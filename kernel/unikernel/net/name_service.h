// Name resolution's configuration for the application: `dns=ADDR[,ADDR...]` on the kernel
// command line (up to three servers, glibc's and musl's MAXNS) becomes /etc/resolv.conf, else
// the name servers of the DHCP lease do, and /etc/hosts names localhost, so getaddrinfo() in a
// static glibc or musl binary works as on a minimal Linux system. Files of the same names in
// the boot archive win over these.
#pragma once

#include <cstddef>

namespace pollux::net {

// One name server from dns= (net_init.cc parses the list). False when the address is malformed
// or three are there already.
bool dns_add_server(const char* addr);
int dns_server_count();
// The interface DHCP configures (its servers fill /etc/resolv.conf when dns= named none), or 0.
void dns_follow_dhcp(int ifindex);
// Whether /etc/resolv.conf has something to say: dns= named servers, or DHCP may.
bool resolv_conf_wanted();
// The text of "/etc/resolv.conf" or "/etc/hosts" (fs::Renderer's shape); -1 for another key.
long etc_render(const char* key, char* buf, size_t cap);

}  // namespace pollux::net
