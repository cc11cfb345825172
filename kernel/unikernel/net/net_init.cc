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
    return true;
}

}  // namespace pollux::net
