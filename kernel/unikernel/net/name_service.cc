#include "net/name_service.h"

#include <cstring>

#include "console/printk.h"
#include "netstack/netif.h"

namespace pollux::net {
namespace {

constexpr int kMaxServers = 3;  // MAXNS in glibc's and musl's resolv.h
constexpr size_t kAddrText = 48;
char servers[kMaxServers][kAddrText];
int n_servers = 0;

}  // namespace

bool dns_add_server(const char* addr) {
    if (n_servers == kMaxServers || !canonical_address(addr, servers[n_servers], kAddrText).ok()) return false;
    ++n_servers;
    return true;
}

int dns_server_count() { return n_servers; }

long etc_render(const char* key, char* buf, size_t cap) {
    if (strcmp(key, "/etc/hosts") == 0)
        return ksnprintf(buf, cap, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    if (strcmp(key, "/etc/resolv.conf") != 0) return -1;
    long total = 0;
    for (int i = 0; i < n_servers; ++i) {
        size_t at = size_t(total) < cap ? size_t(total) : cap;
        total += ksnprintf(buf + at, cap - at, "nameserver %s\n", servers[i]);
    }
    if (cap) buf[size_t(total) < cap ? size_t(total) : cap - 1] = '\0';
    return total;
}

}  // namespace pollux::net
