// /proc/net/snmp and /proc/net/dev from lwIP's MIB-II counters and the devices' counters, laid
// out as Linux 6.x prints them (net/ipv4/proc.c, net/core/net-procfs.c): the same header rows,
// the same column order, so parsers written against Linux read ours. Counters lwIP does not
// keep are 0, as Linux prints a counter nothing has touched.
#include "netstack/procfs.h"

#include <cstdarg>
#include <cstdio>
#include <cstring>

#include "lwip/netif.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "netstack/netif.h"
#include "netstack/stack.h"

namespace pollux::net {
namespace {

class Out {
public:
    Out(char* buf, size_t cap) : buf_(buf), cap_(cap) {
        if (cap_ > 0) buf_[0] = '\0';
    }
    __attribute__((format(printf, 2, 3))) void put(const char* fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = len_ < cap_ ? cap_ - len_ : 0;
        // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is right above
        int n = std::vsnprintf(room > 0 ? buf_ + len_ : nullptr, room, fmt, ap);
        va_end(ap);
        if (n > 0) len_ += static_cast<size_t>(n);
    }
    long length() const { return static_cast<long>(len_); }

private:
    char* buf_;
    size_t cap_;
    size_t len_ = 0;
};

// Linux's CurrEstab: connections in ESTABLISHED or CLOSE_WAIT.
unsigned long current_established() {
    unsigned long n = 0;
    for (tcp_pcb* p = tcp_active_pcbs; p != nullptr; p = p->next) n += p->state == ESTABLISHED || p->state == CLOSE_WAIT;
    return n;
}

void render_snmp(Out& o) {
    StackGuard guard;
    const stats_mib2& m = lwip_stats.mib2;
    o.put("Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos "
          "InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails "
          "FragOKs FragFails FragCreates OutTransmits\n");
    // Forwarding 2: not a router (lwIP is built without IP_FORWARD). OutTransmits: lwIP counts
    // what IP sent, not per fragment; OutRequests is the nearest.
    o.put("Ip: 2 %d %u %u %u %u %u %u %u %u %u %u 0 %u %u %u %u %u %u %u\n", IP_DEFAULT_TTL, m.ipinreceives,
          m.ipinhdrerrors, m.ipinaddrerrors, m.ipforwdatagrams, m.ipinunknownprotos, m.ipindiscards, m.ipindelivers,
          m.ipoutrequests, m.ipoutdiscards, m.ipoutnoroutes, m.ipreasmreqds, m.ipreasmoks, m.ipreasmfails,
          m.ipfragoks, m.ipfragfails, m.ipfragcreates, m.ipoutrequests);
    o.put("Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects "
          "InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors "
          "OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs OutSrcQuenchs "
          "OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks OutAddrMaskReps\n");
    o.put("Icmp: %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u %u 0 0 %u %u 0 0 0 %u %u 0 0 0 0\n", m.icmpinmsgs,
          m.icmpinerrors, static_cast<unsigned>(lwip_stats.icmp.chkerr), m.icmpindestunreachs, m.icmpintimeexcds,
          m.icmpinparmprobs, m.icmpinsrcquenchs, m.icmpinredirects, m.icmpinechos, m.icmpinechoreps,
          m.icmpintimestamps, m.icmpintimestampreps, m.icmpinaddrmasks, m.icmpinaddrmaskreps, m.icmpoutmsgs,
          m.icmpouterrors, m.icmpoutdestunreachs, m.icmpouttimeexcds, m.icmpoutechos, m.icmpoutechoreps);
    o.put("Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab "
          "InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n");
    // RtoMin 200 ms as Linux's TCP_RTO_MIN and lwIP's floor here; RtoMax lwIP's 60 s backoff cap.
    o.put("Tcp: 1 200 60000 -1 %u %u %u %u %lu %u %u %u %u %u %u\n", m.tcpactiveopens, m.tcppassiveopens,
          m.tcpattemptfails, m.tcpestabresets, current_established(), m.tcpinsegs, m.tcpoutsegs, m.tcpretranssegs,
          m.tcpinerrs, m.tcpoutrsts, static_cast<unsigned>(lwip_stats.tcp.chkerr));
    const char* udp_head = "InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors "
                           "IgnoredMulti MemErrors\n";
    o.put("Udp: %s", udp_head);
    o.put("Udp: %u %u %u %u 0 0 %u 0 0\n", m.udpindatagrams, m.udpnoports, m.udpinerrors, m.udpoutdatagrams,
          static_cast<unsigned>(lwip_stats.udp.chkerr));
    o.put("UdpLite: %s", udp_head);
    o.put("UdpLite: 0 0 0 0 0 0 0 0 0\n");
}

void dev_line(Out& o, const char* name, uint64_t rx_bytes, uint64_t rx_packets, uint64_t rx_drop, uint64_t tx_bytes,
              uint64_t tx_packets, uint64_t tx_drop) {
    o.put("%6s: %7llu %7llu %4llu %4llu %4llu %5llu %10llu %9llu %8llu %7llu %4llu %4llu %4llu %5llu %7llu %10llu\n", name,
          static_cast<unsigned long long>(rx_bytes), static_cast<unsigned long long>(rx_packets), 0ull,
          static_cast<unsigned long long>(rx_drop), 0ull, 0ull, 0ull, 0ull, static_cast<unsigned long long>(tx_bytes),
          static_cast<unsigned long long>(tx_packets), 0ull, static_cast<unsigned long long>(tx_drop), 0ull, 0ull, 0ull,
          0ull);
}

void render_dev(Out& o) {
    o.put("Inter-|   Receive                                                |  Transmit\n");
    o.put(" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
          "carrier compressed\n");
    {
        StackGuard guard;
        // Loopback: what it sends it receives, as Linux's lo reports.
        for (struct netif* n = netif_list; n != nullptr; n = n->next) {
            if (n->name[0] != 'l' || n->name[1] != 'o') continue;
            const stats_mib2_netif_ctrs& c = n->mib2_counters;
            dev_line(o, "lo", c.ifoutoctets, c.ifoutucastpkts, 0, c.ifoutoctets, c.ifoutucastpkts, c.ifoutdiscards);
        }
    }
    for_each_iface(
        [](void* ctx, const IfaceReport& r) {
            dev_line(*static_cast<Out*>(ctx), r.name, r.dev.rx_bytes, r.dev.rx_packets,
                     r.dev.rx_dropped + r.glue.rx_dropped, r.dev.tx_bytes, r.dev.tx_packets,
                     r.dev.tx_dropped + r.glue.tx_dropped);
        },
        &o);
}

// /proc/net/LEAF or /proc/self/net/LEAF. Every open() of a hosted program asks, so plain
// comparisons: a path outside /proc/ is rejected by its first bytes.
bool is(const char* path, const char* leaf) {
    const char* rest = nullptr;
    if (std::strncmp(path, "/proc/net/", 10) == 0) rest = path + 10;
    else if (std::strncmp(path, "/proc/self/net/", 15) == 0) rest = path + 15;
    return rest != nullptr && std::strcmp(rest, leaf) == 0;
}

}  // namespace

long proc_net_render(const char* path, char* buf, size_t cap) {
    Out o(buf, cap);
    if (is(path, "snmp")) {
        stack_init();
        render_snmp(o);
    } else if (is(path, "dev")) {
        stack_init();
        render_dev(o);
    } else {
        return -1;
    }
    return o.length();
}

}  // namespace pollux::net
