// The stack's /proc/net files in Linux's own format, so that programs that read them (a
// server's /stats page, netstat-like tools) need no Pollux header. The hosted runtime serves
// them from open(); the unikernel's file system will serve the same text.
#pragma once

#include <cstddef>

namespace pollux::net {

// Writes the file's current text into buf (NUL-terminated, truncated to cap) and returns its
// full length, as snprintf does. Returns -1 for a path that is not one of these files:
// /proc/net/snmp and /proc/net/dev (also under /proc/self/net/).
long proc_net_render(const char* path, char* buf, size_t cap);

}  // namespace pollux::net
