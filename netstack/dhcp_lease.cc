// What DHCP gave an interface, and the name servers that came with it, for the kernel's boot
// log and its generated /etc/resolv.conf. lwIP keeps the servers in its DNS table
// (LWIP_DNS, whose resolver we never call): DHCP's option 6 fills it on every lease.
#include <cstdio>

#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "netstack/netif.h"
#include "netstack/stack.h"

namespace pollux::net {

DhcpLease dhcp_lease(int ifindex) {
    StackGuard guard;
    DhcpLease lease;
    netif* nif = netif_get_by_index(static_cast<u8_t>(ifindex));
    if (nif == nullptr || !dhcp_supplied_address(nif)) return lease;
    lease.bound = true;
    lease.addr = ip4_addr_get_u32(netif_ip4_addr(nif));
    lease.netmask = ip4_addr_get_u32(netif_ip4_netmask(nif));
    lease.gw = ip4_addr_get_u32(netif_ip4_gw(nif));
    return lease;
}

int learned_dns_servers(char (*out)[kAddrTextMax], int max) {
    StackGuard guard;
    int n = 0;
    for (u8_t i = 0; i < DNS_MAX_SERVERS && n < max; ++i) {
        const ip_addr_t* server = dns_getserver(i);
        if (server == nullptr || ip_addr_isany(server)) continue;
        if (ipaddr_ntoa_r(server, out[n], kAddrTextMax) != nullptr) ++n;
    }
    return n;
}

}  // namespace pollux::net
