// Parsing interface addresses ("10.0.0.2/24", "fd00::2/64") and gateways, for the hosted
// runtime's environment and the kernel command line.
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "lwip/ip4_addr.h"
#include "lwip/ip6_addr.h"
#include "netstack/netif.h"

namespace pollux::net {

namespace {

// A prefix length in [0, max], digits only.
bool parse_prefix(const char* s, int max, int* out) {
    if (*s == '\0' || std::strlen(s) > 3) return false;
    int v = 0;
    for (; *s != '\0'; ++s) {
        if (*s < '0' || *s > '9') return false;
        v = v * 10 + (*s - '0');
    }
    if (v > max) return false;
    *out = v;
    return true;
}

}  // namespace

kstd::Result<void> parse_ip_prefix(const char* spec, IfaceConfig& cfg) {
    if (spec == nullptr) return kstd::err(EINVAL);
    char buf[64];
    size_t len = std::strlen(spec);
    if (len == 0 || len >= sizeof(buf)) return kstd::err(EINVAL);
    std::memcpy(buf, spec, len + 1);
    char* slash = std::strchr(buf, '/');
    if (slash == nullptr) return kstd::err(EINVAL);
    *slash = '\0';
    if (std::strchr(buf, ':') != nullptr) {
        int prefix;
        ip6_addr_t a;
        if (!parse_prefix(slash + 1, 128, &prefix) || ip6addr_aton(buf, &a) == 0) return kstd::err(EINVAL);
        if (cfg.n_v6 == 2) return kstd::err(E2BIG);
        std::memcpy(cfg.v6[cfg.n_v6].addr, a.addr, 16);
        cfg.v6[cfg.n_v6].prefix = prefix;
        ++cfg.n_v6;
        return {};
    }
    int prefix;
    ip4_addr_t a;
    if (!parse_prefix(slash + 1, 32, &prefix) || ip4addr_aton(buf, &a) == 0) return kstd::err(EINVAL);
    if (cfg.has_v4) return kstd::err(E2BIG);
    uint32_t host_mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
    cfg.has_v4 = true;
    cfg.v4_addr = a.addr;
    cfg.v4_netmask = lwip_htonl(host_mask);
    cfg.dhcp = false;
    return {};
}

kstd::Result<void> parse_gateway(const char* spec, IfaceConfig& cfg) {
    if (spec == nullptr || *spec == '\0' || std::strlen(spec) >= 64) return kstd::err(EINVAL);
    if (std::strchr(spec, ':') != nullptr) {
        ip6_addr_t a;
        if (ip6addr_aton(spec, &a) == 0) return kstd::err(EINVAL);
        std::memcpy(cfg.v6_gw, a.addr, 16);
        cfg.v6_gw_set = true;
        return {};
    }
    ip4_addr_t a;
    if (ip4addr_aton(spec, &a) == 0) return kstd::err(EINVAL);
    cfg.v4_gw = a.addr;
    return {};
}

kstd::Result<void> canonical_address(const char* spec, char* out, size_t cap) {
    if (spec == nullptr || *spec == '\0' || std::strlen(spec) >= 64) return kstd::err(EINVAL);
    if (cap < 46) return kstd::err(ERANGE);
    if (std::strchr(spec, ':') != nullptr) {
        ip6_addr_t a;
        if (ip6addr_aton(spec, &a) == 0) return kstd::err(EINVAL);
        if (ip6addr_ntoa_r(&a, out, int(cap)) == nullptr) return kstd::err(ERANGE);
        for (char* c = out; *c != '\0'; ++c)  // lwIP writes hex digits in capitals; inet_ntop does not
            if (*c >= 'A' && *c <= 'F') *c = char(*c - 'A' + 'a');
        return {};
    }
    ip4_addr_t a;
    if (ip4addr_aton(spec, &a) == 0) return kstd::err(EINVAL);
    if (ip4addr_ntoa_r(&a, out, int(cap)) == nullptr) return kstd::err(ERANGE);
    return {};
}

}  // namespace pollux::net
