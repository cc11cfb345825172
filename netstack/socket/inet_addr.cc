#include "inet_addr.h"

#include <cerrno>
#include <cstring>

#include "lwip/err.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "netstack/stack.h"

namespace pollux::net {

namespace {

// struct sockaddr_in / sockaddr_in6 as the kernel lays them out.
struct SockaddrIn {
    uint16_t family;
    uint16_t port;  // network order
    uint32_t addr;  // network order
    uint8_t zero[8];
};
struct SockaddrIn6 {
    uint16_t family;
    uint16_t port;
    uint32_t flowinfo;
    uint8_t addr[16];
    uint32_t scope_id;
};
constexpr unsigned kSin6LenRfc2133 = 24;

uint16_t ntoh16(uint16_t v) { return static_cast<uint16_t>((v >> 8) | (v << 8)); }

bool is_v4_mapped(const uint8_t* a) {
    static const uint8_t prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::memcmp(a, prefix, 12) == 0;
}

}  // namespace

kstd::Result<Endpoint> endpoint_from(const SockAddr& addr, int family, bool v6only, int mapped_error,
                                     bool accept_unspec_any) {
    Endpoint ep;
    uint16_t sa_family = 0;
    if (addr.len >= sizeof(sa_family)) std::memcpy(&sa_family, addr.data, sizeof(sa_family));
    if (family == abi::kAF_INET) {
        if (addr.len < sizeof(SockaddrIn)) return kstd::err(EINVAL);
        SockaddrIn in;
        std::memcpy(&in, addr.data, sizeof(in));
        if (in.family != abi::kAF_INET && !(accept_unspec_any && in.family == abi::kAF_UNSPEC && in.addr == 0))
            return kstd::err(EAFNOSUPPORT);
        ip_addr_set_ip4_u32_val(ep.ip, in.addr);
        ep.port = ntoh16(in.port);
        return ep;
    }
    if (addr.len < kSin6LenRfc2133) return kstd::err(EINVAL);
    if (sa_family != abi::kAF_INET6) return kstd::err(EAFNOSUPPORT);
    SockaddrIn6 in6{};
    std::memcpy(&in6, addr.data, addr.len < sizeof(in6) ? addr.len : sizeof(in6));
    ep.port = ntoh16(in6.port);
    if (is_v4_mapped(in6.addr)) {
        if (v6only) return kstd::err(mapped_error);
        uint32_t v4;
        std::memcpy(&v4, in6.addr + 12, 4);
        ip_addr_set_ip4_u32_val(ep.ip, v4);
        return ep;
    }
    ip6_addr_t a;
    std::memcpy(a.addr, in6.addr, 16);
    ip6_addr_clear_zone(&a);
    ip_addr_copy_from_ip6(ep.ip, a);
    return ep;
}

void sockaddr_from(const ip_addr_t& ip, uint16_t port, int family, SockAddr& out) {
    uint16_t nport = ntoh16(port);
    if (family == abi::kAF_INET) {
        SockaddrIn in{};
        in.family = abi::kAF_INET;
        in.port = nport;
        in.addr = IP_IS_V4_VAL(ip) ? ip_2_ip4(&ip)->addr : 0;
        std::memcpy(out.data, &in, sizeof(in));
        out.len = sizeof(in);
        return;
    }
    SockaddrIn6 in6{};
    in6.family = abi::kAF_INET6;
    in6.port = nport;
    if (ip_addr_isany_val(ip)) {
        // unbound or bound to any: in6addr_any, whatever lwIP's type for it
    } else if (IP_IS_V4_VAL(ip)) {
        uint32_t v4 = ip_2_ip4(&ip)->addr;
        in6.addr[10] = 0xff;
        in6.addr[11] = 0xff;
        std::memcpy(in6.addr + 12, &v4, 4);
    } else if (IP_IS_V6_VAL(ip)) {
        std::memcpy(in6.addr, ip_2_ip6(&ip)->addr, 16);
    }
    std::memcpy(out.data, &in6, sizeof(in6));
    out.len = sizeof(in6);
}

bool port_has_listener(const ip_addr_t& ip, uint16_t port, bool reuseport) {
    for (tcp_pcb_listen* l = tcp_listen_pcbs.listen_pcbs; l != nullptr; l = l->next) {
        if (l->local_port != port) continue;
        if (reuseport && ip_get_option(l, SOF_REUSEPORT)) continue;  // the same SO_REUSEPORT group
        // IPv4 and IPV6_V6ONLY IPv6 never overlap, wildcards included (Linux's
        // inet_bind_conflict compares a v6only socket's address with IPv6 ones alone); a
        // dual-stack wildcard (IPADDR_TYPE_ANY) overlaps both.
        if (IP_GET_TYPE(&l->local_ip) != IPADDR_TYPE_ANY && IP_GET_TYPE(&ip) != IPADDR_TYPE_ANY &&
            IP_GET_TYPE(&l->local_ip) != IP_GET_TYPE(&ip))
            continue;
        if (ip_addr_isany(&l->local_ip) || ip_addr_isany(&ip) || ip_addr_cmp(&l->local_ip, &ip)) return true;
    }
    return false;
}

bool is_local_address(const ip_addr_t& ip) {
    if (ip_addr_isany(&ip)) return true;
    if (IP_IS_V4_VAL(ip)) {
        if (ip4_addr_isloopback(ip_2_ip4(&ip))) return true;
        struct netif* n;
        NETIF_FOREACH(n) {
            if (ip4_addr_cmp(ip_2_ip4(&ip), netif_ip4_addr(n))) return true;
        }
        return false;
    }
    if (ip6_addr_isloopback(ip_2_ip6(&ip))) return true;
    struct netif* n;
    NETIF_FOREACH(n) {
        if (netif_get_ip6_addr_match(n, ip_2_ip6(&ip)) >= 0) return true;
    }
    return false;
}

int errno_from_lwip(int8_t err) {
    switch (err) {
    case ERR_OK: return 0;
    case ERR_MEM: return ENOMEM;
    case ERR_BUF: return ENOBUFS;
    case ERR_TIMEOUT: return ETIMEDOUT;
    case ERR_RTE: return ENETUNREACH;
    case ERR_INPROGRESS: return EINPROGRESS;
    case ERR_VAL: return EINVAL;
    case ERR_WOULDBLOCK: return EAGAIN;
    case ERR_USE: return EADDRINUSE;
    case ERR_ALREADY: return EALREADY;
    case ERR_ISCONN: return EISCONN;
    case ERR_CONN: return ENOTCONN;
    case ERR_IF: return ENETDOWN;
    case ERR_ABRT: return ECONNABORTED;
    case ERR_RST: return ECONNRESET;
    case ERR_CLSD: return ENOTCONN;
    case ERR_ARG: return EINVAL;
    default: return EIO;
    }
}

}  // namespace pollux::net
