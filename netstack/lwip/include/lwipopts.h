// lwIP's configuration for Pollux: the raw API under our own socket layer, tuned for servers.
//
// NO_SYS=1: lwIP never creates threads or takes locks. Every call into it holds the stack
// lock (netstack/stack.h), which LWIP_ASSERT_CORE_LOCKED checks in debug builds.
#pragma once

#define NO_SYS 1
#define LWIP_TIMERS 1
#define LWIP_NETCONN 0
#define LWIP_SOCKET 0
#define SYS_LIGHTWEIGHT_PROT 0
#define LWIP_CALLBACK_API 1

// Memory: the heap and every pool come from the C allocator (the unikernel's kernel heap), so
// the number of connections is bounded by memory, not by compile-time pool sizes. With these two,
// MEMP_NUM_* only size statistics; 100 000 connections cost only their PCBs.
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define MEM_ALIGNMENT 8
#define MEM_USE_POOLS 0
// Pool pbufs for what lwIP allocates itself (ARP replies, ICMP, TCP RSTs); received frames
// arrive as the driver's own buffers (pbuf_custom), never copied into pool pbufs.
#define PBUF_POOL_BUFSIZE 1536
#define LWIP_SUPPORT_CUSTOM_PBUF 1

#define LWIP_IPV4 1
#define LWIP_IPV6 1
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 1
// No ARP probe of the offered address before taking it (RFC 5227 is optional): lwIP's waits
// half a second to a second, and Linux's ip=dhcp and dhclient do not probe either.
#define DHCP_DOES_ARP_CHECK 0
#define LWIP_IGMP 0
// lwIP's DNS table only, as the place DHCP's name servers (option 6, requested in every
// DISCOVER and REQUEST) land; applications resolve names with their own libc through the
// generated /etc/resolv.conf, so lwIP's resolver is never called and opens no socket
// (LWIP_DNS_SECURE's random source port makes it create its pcb per query).
#define LWIP_DNS 1
#define DNS_MAX_SERVERS 3  // MAXNS of glibc's and musl's resolv.h
#define LWIP_IPV6_MLD 1
#define LWIP_IPV6_AUTOCONFIG 1
#define LWIP_IPV6_DHCP6 0
#define LWIP_IPV6_NUM_ADDRESSES 3
#define LWIP_ND6_QUEUEING 1
// 64-bit pointers do not fit in the fragment header lwIP would otherwise reuse.
#define IPV6_FRAG_COPYHEADER 1

// Neighbour tables are fixed arrays: a server talks to its router and a few hosts on the link.
#define ARP_TABLE_SIZE 64
#define ARP_QUEUEING 1
#define LWIP_ND6_NUM_NEIGHBORS 64
#define LWIP_ND6_NUM_DESTINATIONS 64
#define IP_REASS_MAX_PBUFS 128

// Loopback (127.0.0.1, ::1 and a host's own addresses) as Linux has it.
#define LWIP_NETIF_LOOPBACK 1
#define LWIP_HAVE_LOOPIF 1
#define LWIP_LOOPBACK_MAX_PBUFS 0

// TCP, sized for servers. A window and send buffer of 512 KiB cover the bandwidth-delay product
// of 10 Gbit/s at 400 us (a LAN, a VM host) and 1 Gbit/s at 4 ms; window scaling (shift 4)
// announces them. Memory is only used while data is in flight, so an idle connection costs its
// PCB alone.
#define TCP_MSS 1460
// lwIP's TCP timer: delayed ACKs wait for at most one (Linux: 40 to 200 ms), retransmission
// timeouts (TCP_LINUX_RTO below) are checked at every one, and lwIP's slow timer (persist and
// keepalive probes, FIN-WAIT-2 and TIME-WAIT) ticks every other one. The default 250 ms makes
// every loss on a fast link cost half a second or more.
#define TCP_TMR_INTERVAL 100
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 4
#define TCP_WND (512 * 1024)
// ... at most: SO_RCVBUF lowers a connection's window (patch 0014), as it does on Linux.
#define LWIP_TCP_RCV_WND_LIMIT 1
#define TCP_SND_BUF (512 * 1024)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
// Used only by lwIP's own socket layer (not built); our writability follows Linux (tcp_socket.cc).
#define TCP_SNDLOWAT (32 * 1024)
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 4)
#define TCP_OVERSIZE TCP_MSS
// Out-of-order segments are kept (lossy links would otherwise resend whole windows) and SACKed.
#define TCP_QUEUE_OOSEQ 1
// ... until the connection has been silent for this many of its retransmission timeouts (Linux
// keeps them). lwIP's 6 counted its own 3 s timeout; with TCP_LINUX_RTO's 200 ms it would drop
// them 1.2 s into a silence that one segment lost three times makes, and after the timeout
// lwIP's go-back-N then resends the whole window from a one-MSS cwnd.
#define TCP_OOSEQ_TIMEOUT 60
// Loss recovery closer to Linux's (patch 0005): NewReno partial ACKs (RFC 6582) repair several
// losses in one window a round trip each, early retransmit (RFC 5827) small windows. (Its
// tick-based timeout floor is superseded by TCP_LINUX_RTO.)
#define TCP_LOSS_RECOVERY 1
// A FIN or new data never joins a retransmission held back at the tail of the send queue
// (patch 0015): the FIN went into the middle of the stream and the receiver dropped the rest.
#define TCP_QUEUE_TAIL_CHECK 1
// Retransmission timeouts as Linux computes them (patch 0010): round trips measured in
// milliseconds of sys_now(), the SYN's included, under Karn's rule; RTO = srtt + max(4 * rttvar,
// 200 ms), 1 s until a first measurement, doubled by each timeout up to 120 s (TCP_RTO_MAX),
// checked every TCP_TMR_INTERVAL. lwIP's own counts 200 ms ticks, often has no measurement at
// all (a segment sent at tick 0 is never timed, nor is a SYN), so it sits at its initial 3 s,
// backs off from there 128-fold without a cap (a 3 s base became 48 s after four losses and
// could reach hours), and let a backed-off timeout fall to 0 ticks on fast links.
#define TCP_LINUX_RTO 1
#define LWIP_TCP_SACK_OUT 1
#define LWIP_TCP_MAX_SACK_NUM 4
#define LWIP_TCP_KEEPALIVE 1
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 0xff  // listen() sets the real one (u16 after our patch)
// Linux keeps TIME_WAIT for 60 s (TCP_TIMEWAIT_LEN); lwIP's is 2 * TCP_MSL.
#define TCP_MSL 30000UL
// A connection the application closed while its peer keeps its end open lives 60 s in
// FIN-WAIT-2, Linux's tcp_fin_timeout (lwIP's 20 s), counted from entering FIN-WAIT-2 as Linux
// does (lwIP from the last segment received before the close). Patch 0013 lets us set both.
#define TCP_FIN_WAIT_TIMEOUT 60000
#define TCP_FIN_WAIT_2_START(pcb) ((pcb)->tmr = tcp_ticks)
#define SO_REUSE 1
// Linux's net.ipv4.ip_default_ttl: what accepted connections, RSTs and ICMP carry (sockets
// set their own IP_TTL, 64 unless asked) and what /proc/net/snmp reports as DefaultTTL.
#define IP_DEFAULT_TTL 64
#define LWIP_SO_RCVBUF 0
// Demultiplexing, bind checks and ephemeral ports through a hash of the pcbs (our patch 0003,
// netstack/lwip/tcp_index.cc) instead of walks over every pcb: 100 000 connections cost what
// 10 do.
#define LWIP_TCP_PCB_INDEX 1
// lwIP's TCP timers visit only the connections that have something pending (patch 0011, the
// timer list in netstack/lwip/tcp_index.cc), not every one every 100 ms: idle connections
// cost no CPU, as under Linux's per-socket timers.
#define LWIP_TCP_TIMER_LIST 1
// A SYN beyond a TIME-WAIT connection's sequence space opens a new connection, as on Linux
// (patch 0004): a server's TIME-WAITs never refuse a client that reuses its port.
#define TCP_TIMEWAIT_SYN_REUSE 1
// SO_REUSEPORT groups of listeners share their port's connections by a hash of the 4-tuple
// (patch 0006), as on Linux: one listener per thread.
#define LWIP_SO_REUSEPORT 1

// Checksums are generated and checked in software unless the netif's device offloads them
// (netif_set_checksum_ctrl per netif).
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_GEN_ICMP6 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1
#define CHECKSUM_CHECK_ICMP6 1

#define LWIP_NETIF_STATUS_CALLBACK 0
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_NETIF_TX_SINGLE_PBUF 0
#define LWIP_SINGLE_NETIF 0

// Counters back /proc/net/snmp and the drop accounting of malformed input.
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define MIB2_STATS 1
#define LINK_STATS 1
#define ETHARP_STATS 1
#define IP_STATS 1
#define IPFRAG_STATS 1
#define ICMP_STATS 1
#define UDP_STATS 1
#define TCP_STATS 1
#define MEM_STATS 0
#define MEMP_STATS 0
#define SYS_STATS 0

// Hooks into our port (netstack/lwip/port.h).
#define LWIP_HOOK_FILENAME "pollux_lwip_hooks.h"
#define LWIP_HOOK_IP4_ROUTE_SRC(src, dest) pollux_lwip_route4(src, dest)
#define LWIP_HOOK_IP6_ROUTE(src, dest) pollux_lwip_route6(src, dest)
#define LWIP_RAND() pollux_lwip_rand()
// ICMP errors for our UDP sockets (netstack/icmp_errors.cc); never eats the packet.
#define LWIP_HOOK_IP4_INPUT(p, inp) pollux_lwip_ip4_input(p, inp)
#define LWIP_HOOK_IP6_INPUT(p, inp) pollux_lwip_ip6_input(p, inp)
// RFC 6528 initial sequence numbers: a keyed hash of the connection plus a 4 us clock.
#define LWIP_HOOK_TCP_ISN(local_ip, local_port, remote_ip, remote_port) \
    pollux_lwip_isn(local_ip, local_port, remote_ip, remote_port)
#define LWIP_ASSERT_CORE_LOCKED() pollux_lwip_assert_locked()
