/* Declarations of the hooks lwipopts.h names; defined in netstack/lwip/port.cc. C linkage:
 * lwIP is C. */
#ifndef POLLUX_LWIP_HOOKS_H
#define POLLUX_LWIP_HOOKS_H

#include "lwip/arch.h"

#ifdef __cplusplus
extern "C" {
#endif

struct netif;
struct ip4_addr;
struct ip6_addr;

/* Routes a packet to a host on a wire: the netif at the other end of the link owning dest, so
 * that two hosts in one process talk over the wire rather than loopback. NULL: lwIP decides. */
struct netif* pollux_lwip_route4(const struct ip4_addr* src, const struct ip4_addr* dest);
struct netif* pollux_lwip_route6(const struct ip6_addr* src, const struct ip6_addr* dest);
struct ip_addr;
struct pbuf;
int pollux_lwip_ip4_input(struct pbuf* p, struct netif* inp);
int pollux_lwip_ip6_input(struct pbuf* p, struct netif* inp);
u32_t pollux_lwip_isn(const struct ip_addr* local_ip, u16_t local_port, const struct ip_addr* remote_ip,
                      u16_t remote_port);

#ifdef __cplusplus
}
#endif

#endif
