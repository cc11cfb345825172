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
int dhcp_ifindex = 0;

}  // namespace

bool dns_add_server(const char* addr) {
    if (n_servers == kMaxServers || !canonical_address(addr, servers[n_servers], kAddrText).ok()) return false;
    ++n_servers;
    return true;
}

int dns_server_count() { return n_servers; }

void dns_follow_dhcp(int ifindex) { dhcp_ifindex = ifindex; }

bool resolv_conf_wanted() { return n_servers > 0 || dhcp_ifindex > 0; }

long etc_render(const char* key, char* buf, size_t cap) {
    if (strcmp(key, "/etc/hosts") == 0)
        return ksnprintf(buf, cap, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    if (strcmp(key, "/etc/resolv.conf") != 0) return -1;
    // dns= wins, as a static configuration wins over DHCP's on Linux; DHCP's are read at
    // each open, so a renewed lease's servers show.
    char learned[kMaxServers][kAddrTextMax];
    int n = n_servers;
    const char(*list)[kAddrText] = servers;
    static_assert(kAddrText == kAddrTextMax);
    if (n == 0 && dhcp_ifindex > 0) {
        n = learned_dns_servers(learned, kMaxServers);
        list = learned;
    }
    long total = 0;
    for (int i = 0; i < n; ++i) {
        size_t at = size_t(total) < cap ? size_t(total) : cap;
        total += ksnprintf(buf + at, cap - at, "nameserver %s\n", list[i]);
    }
    if (cap) buf[size_t(total) < cap ? size_t(total) : cap - 1] = '\0';
    return total;
}

}  // namespace pollux::net
