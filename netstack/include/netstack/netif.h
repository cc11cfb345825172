// Interfaces: a NetDevice joined to an lwIP netif, with its addresses.
#pragma once

#include <cstdint>

#include "drivers/net_device.h"
#include "kstd/result.h"

namespace pollux::net {

struct Ip6Config {
    uint8_t addr[16] = {};
    int prefix = 0;  // lwIP treats static addresses as /64 on-link; other prefixes are accepted as given
};

struct IfaceConfig {
    bool has_v4 = false;
    uint32_t v4_addr = 0;     // network byte order, as in struct in_addr
    uint32_t v4_netmask = 0;
    uint32_t v4_gw = 0;
    int n_v6 = 0;
    Ip6Config v6[2];
    bool v6_gw_set = false;
    uint8_t v6_gw[16] = {};
    bool dhcp = false;        // no static IPv4 address: ask DHCP
    bool make_default = true;
};

// Parses "ADDR/PREFIX" (IPv4 or IPv6) into cfg, and "ADDR" for a gateway. EINVAL on anything
// malformed; the caller reports which value it was.
kstd::Result<void> parse_ip_prefix(const char* spec, IfaceConfig& cfg);
kstd::Result<void> parse_gateway(const char* spec, IfaceConfig& cfg);
// An IPv4 or IPv6 address alone (a name server): its canonical text into out (at least 46
// bytes, INET6_ADDRSTRLEN). EINVAL when malformed, ERANGE when out is too small.
kstd::Result<void> canonical_address(const char* spec, char* out, size_t cap);

// Joins dev to the stack and brings the interface up. Returns its interface index (>= 2; 1 is
// loopback). The device must outlive the stack.
kstd::Result<int> stack_add_device(NetDevice& dev, const IfaceConfig& cfg);

// Declares two interfaces the two ends of one wire: traffic for an address of one is routed out
// through the other, so two hosts in one process reach each other over the wire, not loopback.
void stack_pair_wire(int ifindex_a, int ifindex_b);

// Two hosts on a wire, the fixed plan the hosted runtime's POLLUX_NIC=wire and the tests share:
// end0 is host 1 (10.0.<link>.1/24, fd00:<link>::1/64), end1 host 2 (.2 and ::2). Adds both ends,
// pairs them, and makes host 1 the default route if asked.
kstd::Result<void> stack_add_wire_hosts(NetDevice& end0, NetDevice& end1, int link, bool make_default);

// Counters of one interface's glue: frames handed to lwIP, frames it could not be given, and
// frames the device did not take. What lwIP drops itself (short or malformed headers, bad
// checksums, unknown protocols) is in its statistics (lwip_stats: lenerr, chkerr, drop).
struct IfaceCounters {
    uint64_t rx_frames = 0, rx_dropped = 0, tx_frames = 0, tx_dropped = 0;
    uint64_t rx_copied = 0;  // frames copied because the driver's pool ran low (RxBuf::copy_now)
};
IfaceCounters iface_counters(int ifindex);

// Every device interface in index order, as Linux names them ("eth0" is the first), with its
// device's counters and the glue's: what /proc/net/dev reports. Holds stack_lock while it runs.
struct IfaceReport {
    char name[16];
    DeviceCounters dev;
    IfaceCounters glue;
};
void for_each_iface(void (*fn)(void* ctx, const IfaceReport& r), void* ctx);

// What DHCP gave the interface ifindex (addresses in network byte order); bound is false until
// a lease is held.
struct DhcpLease {
    bool bound = false;
    uint32_t addr = 0, netmask = 0, gw = 0;
};
DhcpLease dhcp_lease(int ifindex);
// The name servers DHCP handed out (the latest lease's, at most max), as text; returns how many.
constexpr size_t kAddrTextMax = 48;
int learned_dns_servers(char (*out)[kAddrTextMax], int max);

}  // namespace pollux::net
