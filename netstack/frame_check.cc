// Frame checks ahead of lwIP. lwIP 2.1.3 reads a few bytes past the end of some short or
// malformed frames (found by tests/fuzz: ARP bodies under 28 bytes, IPv4/IPv6 headers longer
// than the frame, a UDP header that is not there, IPv6 option lengths and TCP option lengths
// that run off the end). On a NIC those reads land in the rest of a receive buffer, so they
// leak stale bytes rather than crash, but they are wrong: such frames stop here and are
// counted as drops. The checks are on headers only; everything lwIP validates well (checksums,
// addresses, state) stays with lwIP.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "lwip/netif.h"

namespace pollux::net {

namespace {

uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

// TCP options: every option but EOL/NOP has a length byte, at least 2, within the options.
bool tcp_ok(const uint8_t* tcp, size_t len) {
    if (len < 20) return false;
    size_t hlen = static_cast<size_t>(tcp[12] >> 4) * 4;
    if (hlen < 20 || hlen > len) return false;
    for (size_t i = 20; i < hlen;) {
        uint8_t kind = tcp[i];
        if (kind == 0) break;
        if (kind == 1) {
            ++i;
            continue;
        }
        if (i + 1 >= hlen) return false;
        uint8_t olen = tcp[i + 1];
        if (olen < 2 || i + olen > hlen) return false;
        i += olen;
    }
    return true;
}

bool l4_ok(uint8_t proto, const uint8_t* l4, size_t len) {
    if (proto == 6) return tcp_ok(l4, len);
    if (proto == 17) return len >= 8;
    return true;
}

bool ipv4_ok(const uint8_t* ip, size_t len) {
    if (len < 20 || (ip[0] >> 4) != 4) return false;
    size_t ihl = static_cast<size_t>(ip[0] & 0xf) * 4;
    size_t total = be16(ip + 2);
    if (ihl < 20 || total < ihl || total > len) return false;
    bool first_fragment = (be16(ip + 6) & 0x1fff) == 0;
    bool more_fragments = (ip[6] & 0x20) != 0;
    // A whole datagram carries its whole transport header; a fragment is checked after
    // reassembly by lwIP, and a first fragment at least carries the fixed part.
    if (first_fragment && !more_fragments) return l4_ok(ip[9], ip + ihl, total - ihl);
    if (ip[9] != 17 || total - ihl >= 8) return true;
    // A short UDP fragment: lwIP peeks at its "port" when the packet is not for us (the DHCP
    // client check in ip4_input), so only fragments addressed to us may be that short.
    if (first_fragment) return false;
    ip4_addr_t dst;
    std::memcpy(&dst.addr, ip + 16, 4);
    struct netif* n;
    NETIF_FOREACH(n) {
        if (ip4_addr_cmp(&dst, netif_ip4_addr(n))) return true;
    }
    return false;
}

// Hop-by-hop and destination options: TLVs, Pad1 the only one without a length byte.
bool ipv6_options_ok(const uint8_t* h, size_t hlen) {
    for (size_t i = 2; i < hlen;) {
        if (h[i] == 0) {
            ++i;
            continue;
        }
        if (i + 1 >= hlen) return false;
        size_t next = i + 2 + h[i + 1];
        if (next > hlen) return false;
        i = next;
    }
    return true;
}

bool ipv6_ok(const uint8_t* ip, size_t len) {
    if (len < 40 || (ip[0] >> 4) != 6) return false;
    size_t plen = be16(ip + 4);
    if (40 + plen > len) return false;
    uint8_t next = ip[6];
    size_t off = 40;
    size_t end = 40 + plen;
    for (int hops = 0; hops < 8; ++hops) {
        if (next == 0 || next == 60 || next == 43) {  // hop-by-hop, destination options, routing
            if (off + 8 > end) return false;
            size_t hlen = 8 * (1 + static_cast<size_t>(ip[off + 1]));
            if (off + hlen > end) return false;
            if (next != 43 && !ipv6_options_ok(ip + off, hlen)) return false;
            next = ip[off];
            off += hlen;
        } else if (next == 44) {  // fragment: the rest is checked after reassembly
            return off + 8 <= end;
        } else {
            return l4_ok(next, ip + off, end - off);
        }
    }
    return true;
}

}  // namespace

bool frame_ok(const uint8_t* frame, size_t len) {
    if (len < 14) return false;
    uint16_t type = be16(frame + 12);
    if (type == 0x0806) return len >= 14 + 28;
    if (type == 0x0800) return ipv4_ok(frame + 14, len - 14);
    if (type == 0x86dd) return ipv6_ok(frame + 14, len - 14);
    return true;  // lwIP drops ethertypes it does not know without reading them
}

}  // namespace pollux::net
