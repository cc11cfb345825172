// Socket-level options shared by TCP and UDP sockets (Linux's sk_setsockopt/sk_getsockopt).
#pragma once

#include <cerrno>
#include <cstdint>

#include "eventpoll/linux_abi.h"
#include "eventpoll/sockopt_value.h"
#include "kstd/result.h"

namespace pollux::net {

struct SockOpts {
    bool reuseaddr = false;
    bool reuseport = false;  // TCP listeners of one group share their port (lwIP patch 0006)
    bool keepalive = false;
    bool broadcast = false;
    bool nodelay = false;
    bool v6only = false;
    abi::Linger linger{0, 0};
    int rcvbuf = 0;  // as getsockopt reports it (Linux doubles what setsockopt asked)
    bool rcvbuf_locked = false;  // the user set SO_RCVBUF (SOCK_RCVBUF_LOCK): it sizes TCP's window
    int sndbuf = 0;
    bool sndbuf_locked = false;  // the user set SO_SNDBUF (Linux's SOCK_SNDBUF_LOCK): TCP honours it
    uint64_t rcvtimeo_ns = 0;  // 0: block forever
    uint64_t sndtimeo_ns = 0;
    unsigned busy_poll_usecs = 0;
    bool prefer_busy_poll = false;
    unsigned busy_poll_budget = 0;
    int keepidle = 7200, keepintvl = 75, keepcnt = 9;  // net.ipv4.tcp_keepalive_*
    int tos = 0;
    // IP_RECVERR / IPV6_RECVERR: recorded and read back; no error is ever queued for
    // MSG_ERRQUEUE (is_recverr()).
    bool recverr = false;
    int ttl = 64;
};

// What SOL_SOCKET reads about the socket itself.
struct SockInfo {
    int family, type, protocol;
    bool listening;
    unsigned napi_id;
};

// SOL_SOCKET setsockopt. ENOPROTOOPT for options we do not have.
kstd::Result<void> sol_socket_set(SockOpts& o, int name, const void* val, unsigned len);
// SOL_SOCKET getsockopt except SO_ERROR (the socket takes its own error).
kstd::Result<void> sol_socket_get(const SockOpts& o, const SockInfo& info, int name, void* val, unsigned* len);
// getsockopt of a name no level here knows: ENOPROTOOPT, except that an AF_INET socket asked
// for a level it does not have ends in ip_getsockopt(), which says EOPNOTSUPP.
inline int unknown_getsockopt(int family, int level) {
    if (family == abi::kAF_INET && level != abi::kIPPROTO_IP) return EOPNOTSUPP;
    return ENOPROTOOPT;
}

// IP_RECVERR (IPPROTO_IP, either family) or IPV6_RECVERR (IPPROTO_IPV6, AF_INET6 sockets).
// glibc's resolver sets IP_RECVERR on its UDP socket before each query and gives up on the
// server when that fails. Linux then queues ICMP errors for recvmsg(MSG_ERRQUEUE); this stack
// queues none, so MSG_ERRQUEUE always finds the queue empty (EAGAIN, as ip_recv_error()).
inline bool is_recverr(int family, int level, int name) {
    return (level == abi::kIPPROTO_IP && name == abi::kIP_RECVERR) ||
           (level == abi::kIPPROTO_IPV6 && family == abi::kAF_INET6 && name == abi::kIPV6_RECVERR);
}

// An int option that is a flag: any non-zero value sets it.
inline kstd::Result<void> set_flag(bool& flag, const void* val, unsigned len) {
    kstd::Result<int> v = get_int(val, len);
    if (!v.ok()) return v.error();
    flag = v.value() != 0;
    return {};
}

}  // namespace pollux::net
