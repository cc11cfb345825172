// ICMP "port unreachable" for our own UDP datagrams: lwIP counts such messages and drops them,
// while Linux reports ECONNREFUSED on the connected socket that sent the datagram
// (__udp4_lib_err). lwIP's IP input hooks show each packet here (loopback ones too) before lwIP
// handles it; only well-formed messages with a valid checksum count, anything else is left to
// lwIP, which always gets the packet.
#include <cstdint>
#include <cstring>

#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "pollux_lwip_hooks.h"
#include "netstack/stack.h"
#include "socket/udp_socket.h"

namespace pollux::net {

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

uint32_t sum16(const uint8_t* p, size_t len, uint32_t sum) {
    for (; len > 1; p += 2, len -= 2) sum += be16(p);
    if (len != 0) sum += static_cast<uint32_t>(p[0]) << 8;
    return sum;
}

bool checksum_ok(uint32_t sum) {
    while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

// The quoted datagram: its IP header and the first 8 bytes of UDP.
void quoted_udp4(const uint8_t* q, size_t len) REQUIRES(stack_lock) {
    if (len < 20 || (q[0] >> 4) != 4) return;
    size_t ihl = static_cast<size_t>(q[0] & 0xf) * 4;
    if (ihl < 20 || len < ihl + 8 || q[9] != 17) return;
    ip_addr_t dst;
    uint32_t raw;
    std::memcpy(&raw, q + 16, 4);
    ip_addr_set_ip4_u32_val(dst, raw);
    udp_port_unreachable(dst, be16(q + ihl), be16(q + ihl + 2));
}

}  // namespace

void icmp4(const uint8_t* ip, size_t len, bool local) REQUIRES(stack_lock);
void icmp6(const uint8_t* ip, size_t len, bool local) REQUIRES(stack_lock);

void icmp4(const uint8_t* ip, size_t len, bool local) {
    if (len < 20) return;
    size_t ihl = static_cast<size_t>(ip[0] & 0xf) * 4;
    size_t total = be16(ip + 2);
    if (ihl < 20 || total < ihl + 8 || total > len || ip[9] != 1) return;
    const uint8_t* icmp = ip + ihl;
    size_t icmp_len = total - ihl;
    if (icmp[0] != 3 || icmp[1] != 3 || (!local && !checksum_ok(sum16(icmp, icmp_len, 0)))) return;
    quoted_udp4(icmp + 8, icmp_len - 8);
}

void icmp6(const uint8_t* ip, size_t len, bool local) {
    if (len < 40 || ip[6] != 58) return;
    size_t payload = be16(ip + 4);
    if (payload < 8 + 48 || 40 + payload > len) return;
    const uint8_t* icmp = ip + 40;
    if (icmp[0] != 1 || icmp[1] != 4) return;
    uint32_t sum = sum16(ip + 8, 32, 0) + static_cast<uint32_t>(payload) + 58;  // pseudo-header
    if (!local && !checksum_ok(sum16(icmp, payload, sum))) return;
    const uint8_t* q = icmp + 8;
    if ((q[0] >> 4) != 6 || q[6] != 17) return;
    ip6_addr_t a;
    std::memcpy(a.addr, q + 24, 16);
    ip6_addr_clear_zone(&a);
    ip_addr_t dst;
    ip_addr_copy_from_ip6(dst, a);
    udp_port_unreachable(dst, be16(q + 40), be16(q + 42));
}

}  // namespace pollux::net

namespace {

// lwIP's loopback interface skips checksums: its packets never left this host.
bool from_loopback(const struct netif* inp) { return inp != nullptr && inp->name[0] == 'l' && inp->name[1] == 'o'; }

}  // namespace

extern "C" int pollux_lwip_ip4_input(struct pbuf* p, struct netif* inp) {
    pollux::net::stack_lock_held();
    pollux::net::icmp4(static_cast<const uint8_t*>(p->payload), p->len, from_loopback(inp));
    return 0;  // not eaten: lwIP goes on with it
}

extern "C" int pollux_lwip_ip6_input(struct pbuf* p, struct netif* inp) {
    pollux::net::stack_lock_held();
    pollux::net::icmp6(static_cast<const uint8_t*>(p->payload), p->len, from_loopback(inp));
    return 0;
}
