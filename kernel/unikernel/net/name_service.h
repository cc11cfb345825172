// Name resolution's configuration for the application: `dns=ADDR[,ADDR...]` on the kernel
// command line (up to three servers, glibc's and musl's MAXNS) becomes /etc/resolv.conf, and
// /etc/hosts names localhost, so getaddrinfo() in a static glibc or musl binary works as on a
// minimal Linux system. Files of the same names in the boot archive win over these.
#pragma once

#include <cstddef>

namespace pollux {
class Cmdline;
}

namespace pollux::net {

// Reads dns=. False, with a message, when it is malformed or names more than three servers.
bool dns_configure(const Cmdline& cmdline);
bool dns_configured();
// The text of "/etc/resolv.conf" or "/etc/hosts" (fs::Renderer's shape); -1 for another key.
long etc_render(const char* key, char* buf, size_t cap);

}  // namespace pollux::net
