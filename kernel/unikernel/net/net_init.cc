#include "net/net_init.h"

#include <cstring>

#include "boot/cmdline.h"
#include "console/printk.h"
#include "netstack/inet.h"
#include "netstack/netif.h"
#include "netstack/stack.h"
#include "net/name_service.h"
#include "net/net_stats.h"
#include "net/virtio_net_mmio.h"
#include "net/virtio_net_pci.h"
#include "platform/clock.h"
#include "sched/scheduler.h"

namespace pollux::net {
namespace {

constexpr uint8_t kVector = 0x42;  // the device's receive interrupt (MSI-X entry 0 or MMIO GSI)

// Calls parse on each comma-separated item of value; false at the first it rejects.
template <typename Parse>
bool each_item(const char* value, Parse parse) {
    char item[64];
    while (*value) {
        const char* comma = strchr(value, ',');
        size_t len = comma ? size_t(comma - value) : strlen(value);
        if (len == 0 || len >= sizeof item) return false;
        memcpy(item, value, len);
        item[len] = '\0';
        if (!parse(item)) return false;
        value += len + (comma ? 1 : 0);
        if (comma && !*value) return false;  // a trailing comma
    }
    return true;
}

bool parse_config(const Cmdline& cmdline, IfaceConfig& cfg) {
    char value[160];
    cfg.dhcp = true;
    if (cmdline.get("ip", value, sizeof value) && strcmp(value, "dhcp") != 0) {
        if (!value[0] || !each_item(value, [&](const char* item) { return parse_ip_prefix(item, cfg).ok(); })) {
            printk(KERN_ERR "net: ip=%s: not ADDR/PREFIX[,ADDR/PREFIX]\n", value);
            return false;
        }
        cfg.dhcp = !cfg.has_v4;
    }
    if (cmdline.get("gw", value, sizeof value)) {
        if (!value[0] || !each_item(value, [&](const char* item) { return parse_gateway(item, cfg).ok(); })) {
            printk(KERN_ERR "net: gw=%s: not ADDR[,ADDR]\n", value);
            return false;
        }
    }
    if (cmdline.has("dns")) {
        value[0] = '\0';
        if (!cmdline.get("dns", value, sizeof value) || !value[0] || !each_item(value, dns_add_server)) {
            printk(KERN_ERR "net: dns=%s: not ADDR[,ADDR] (at most 3 name servers)\n", value[0] ? value : "...");
            return false;
        }
        printk(KERN_INFO "net: %d name server%s in /etc/resolv.conf\n", dns_server_count(),
               dns_server_count() == 1 ? "" : "s");
    }
    return true;
}

// Appends "a.b.c.d" (addr in network byte order) to the line at *len.
void append_v4(char* line, size_t cap, size_t& len, const char* before, uint32_t addr_be) {
    uint32_t a = __builtin_bswap32(addr_be);
    len += size_t(ksnprintf(line + len, len < cap ? cap - len : 0, "%s%u.%u.%u.%u", before, a >> 24, a >> 16 & 255,
                            a >> 8 & 255, a & 255));
    if (len > cap) len = cap;
}

// Linux's ip=dhcp starts init only once the lease is there (net/ipv4/ipconfig.c), so that the
// program finds its address, route and name servers; so does this, for up to kDhcpWaitMs, after
// which the application starts anyway and DHCP keeps asking.
constexpr uint64_t kDhcpWaitMs = 3000;

void wait_for_lease(int ifindex) {
    uint64_t start = platform::monotonic_ns(), deadline = start + kDhcpWaitMs * 1'000'000;
    DhcpLease lease;
    while (!(lease = dhcp_lease(ifindex)).bound && platform::monotonic_ns() < deadline)
        sched::sleep_until(platform::monotonic_ns() + 2'000'000);
    if (!lease.bound) {
        printk(KERN_WARNING "net: eth0 has no DHCP lease after %lu ms, the application starts without IPv4\n",
               kDhcpWaitMs);
        return;
    }
    char servers[3][kAddrTextMax];
    int n = learned_dns_servers(servers, 3);
    char line[256];
    size_t len = 0;
    append_v4(line, sizeof line, len, "", lease.addr);
    len += size_t(ksnprintf(line + len, sizeof line - len, "/%d", __builtin_popcount(lease.netmask)));
    if (lease.gw && len < sizeof line) append_v4(line, sizeof line, len, " gateway ", lease.gw);
    for (int i = 0; i < n && len < sizeof line; ++i)
        len += size_t(ksnprintf(line + len, sizeof line - len, "%s%s", i ? "," : " name servers ", servers[i]));
    printk(KERN_INFO "net: eth0 %s from DHCP after %lu ms\n", line, (platform::monotonic_ns() - start) / 1'000'000);
}

}  // namespace

bool net_init(const Cmdline& cmdline) {
    IfaceConfig cfg;
    if (!parse_config(cmdline, cfg)) return false;
    inet_register();  // AF_INET/AF_INET6 sockets work (over loopback) even without a device
    // The stack (and with it the NAPI runner) first: an interrupt that comes before there is a
    // runner would mark the context scheduled with nobody to poll it, and receive stays off.
    stack_init();
    virtio::VirtioNet* dev = virtio_net_pci_probe(kVector);
    if (dev == nullptr) dev = virtio_net_mmio_probe(kVector);
    if (dev == nullptr) {
        printk(KERN_INFO "net: no network device; the application runs without one\n");
        return netstats_init(cmdline, nullptr);
    }
    if (!netstats_init(cmdline, dev)) return false;
    kstd::Result<int> index = stack_add_device(*dev, cfg);
    if (!index.ok()) {
        printk(KERN_ERR "net: cannot add %s to the stack (error %d)\n", dev->name(), index.error_code());
        return true;
    }
    if (cfg.has_v4) {
        uint32_t a = __builtin_bswap32(cfg.v4_addr), m = __builtin_bswap32(cfg.v4_netmask);
        printk(KERN_INFO "net: eth0 %u.%u.%u.%u/%d%s, %d IPv6 address%s\n", a >> 24, a >> 16 & 255, a >> 8 & 255,
               a & 255, __builtin_popcount(m), cfg.v4_gw ? " with a gateway" : "", cfg.n_v6,
               cfg.n_v6 == 1 ? "" : "es");
    } else {
        printk(KERN_INFO "net: eth0 asks DHCP for IPv4, %d static IPv6 address%s\n", cfg.n_v6, cfg.n_v6 == 1 ? "" : "es");
    }
    if (cfg.dhcp) {
        dns_follow_dhcp(index.value());
        wait_for_lease(index.value());
    }
    return true;
}

}  // namespace pollux::net
