#include "net/name_service.h"

#include <cstring>

#include "boot/cmdline.h"
#include "console/printk.h"
#include "netstack/netif.h"

namespace pollux::net {
namespace {

constexpr int kMaxServers = 3;  // MAXNS in glibc's and musl's resolv.h
constexpr size_t kAddrText = 48;
char servers[kMaxServers][kAddrText];
int n_servers = 0;

bool parse_servers(const char* value) {
    char item[64];
    n_servers = 0;
    for (const char* p = value;;) {
        const char* comma = strchr(p, ',');
        size_t len = comma ? size_t(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof item || n_servers == kMaxServers) return false;
        memcpy(item, p, len);
        item[len] = '\0';
        if (!canonical_address(item, servers[n_servers], kAddrText).ok()) return false;
        ++n_servers;
        if (!comma) return true;
        p = comma + 1;
    }
}

}  // namespace

bool dns_configure(const Cmdline& cmdline) {
    char value[160];
    if (!cmdline.has("dns")) return true;
    if (!cmdline.get("dns", value, sizeof value) || !parse_servers(value)) {
        n_servers = 0;
        printk(KERN_ERR "net: dns=%s: not ADDR[,ADDR] (at most %d name servers)\n",
               cmdline.get("dns", value, sizeof value) ? value : "(too long)", kMaxServers);
        return false;
    }
    printk(KERN_INFO "net: %d name server%s in /etc/resolv.conf\n", n_servers, n_servers == 1 ? "" : "s");
    return true;
}

bool dns_configured() { return n_servers > 0; }

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
