// AF_INET6 over the harness IPv6 address: the TCP connect / accept / echo
// path, addresses (sockaddr_in6, cross-checked between the two ends),
// non-blocking connect and refusal, bind's IPv6 argument checks, UDP, and
// dual stack: IPV6_V6ONLY defaults to 0 (net.ipv6.bindv6only), cannot change
// after bind, and a V6ONLY=0 listener on in6addr_any accepts an IPv4 client,
// reporting it as a v4-mapped ::ffff:a.b.c.d; a V6ONLY=1 listener does not.
// Follows net/ipv6/af_inet6.c: inet6_bind() / __inet6_bind() (addr_len <
// SIN6_LEN_RFC2133 is EINVAL, another family EAFNOSUPPORT), inet6_getname();
// net/ipv6/ipv6_sockglue.c: do_ipv6_setsockopt(IPV6_V6ONLY) (EINVAL once
// bound); net/ipv6/tcp_ipv6.c: tcp_v6_connect(), tcp_v6_syn_recv_sock()
// (mapped peers); ipv6(7).
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

using namespace conf;

namespace {

constexpr uint32_t kAll = EPOLLIN | EPOLLOUT | EPOLLRDHUP;

bool is_v4_mapped(const sock_addr& a)
{
    if (a.family() != AF_INET6 || a.len != sizeof(sockaddr_in6))
        return false;
    sockaddr_in6 sin6;
    std::memcpy(&sin6, &a.ss, sizeof sin6);
    return IN6_IS_ADDR_V4MAPPED(&sin6.sin6_addr);
}

}  // namespace

SCENARIO(tcp6_connect_accept_echo)
{
    uint16_t port = 0;
    ufd l(tcp_listener(AF_INET6, 4, &port));
    REQUIRE(l.valid());
    CHECK_EQ(sock_name(l), addr_str(harness_sockaddr(AF_INET6, port)));
    ufd c(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    sockaddr_in6 sin6 = inet6_sockaddr(port);
    CHECK_EQ(connect(c, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6), 0);
    ufd s(tcp_accept(l));
    REQUIRE(s.valid());
    CHECK_EQ(send(c, "over v6", 7, 0), 7);
    char buf[16] = {};
    CHECK_EQ(recv_exact(s, buf, 7), 7);
    CHECK_EQ(std::string(buf, 7), "over v6");
    CHECK_EQ(send(s, buf, 7, 0), 7);
    CHECK_EQ(recv_exact(c, buf, 7), 7);
    CHECK_EQ(std::string(buf, 7), "over v6");
    CHECK_EQ(shutdown(c, SHUT_WR), 0);
    CHECK_EQ(recv_exact(s, buf, sizeof buf), 0);
}

SCENARIO(tcp6_accepted_names_match_client)
{
    int c = -1, s = -1;
    REQUIRE(tcp_connected_pair(AF_INET6, &c, &s));
    ufd cu(c), su(s);
    CHECK_EQ(peer_name(s), sock_name(c));
    CHECK_EQ(sock_name(s), peer_name(c));
    sock_addr a;
    a.len = sizeof a.ss;
    CHECK_EQ(getpeername(s, a.sa(), &a.len), 0);
    CHECK_EQ(a.len, sizeof(sockaddr_in6));
    CHECK_EQ(a.family(), AF_INET6);
    CHECK(!is_v4_mapped(a));
    CHECK_EQ(a.port(), local_port(c));
}

SCENARIO(tcp6_accept_reports_peer_address)
{
    uint16_t port = 0;
    ufd l(tcp_listener(AF_INET6, 4, &port));
    REQUIRE(l.valid());
    ufd c(tcp_connect_to(AF_INET6, port));
    REQUIRE(c.valid());
    CHECK_EQ(await_events(l, EPOLLIN, EPOLLIN), EPOLLIN);
    sock_addr peer;
    peer.len = sizeof peer.ss;
    ufd s(CHECK_OK(accept4(l, peer.sa(), &peer.len, SOCK_CLOEXEC)));
    CHECK_EQ(peer.len, sizeof(sockaddr_in6));
    CHECK_EQ(addr_str(peer), sock_name(c));
    CHECK_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
}

SCENARIO(tcp6_nonblocking_connect_einprogress_then_epollout)
{
    uint16_t port = 0;
    ufd l(tcp_listener(AF_INET6, 4, &port));
    REQUIRE(l.valid());
    ufd c(CHECK_OK(socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0)));
    sockaddr_in6 sin6 = inet6_sockaddr(port);
    CHECK_ERR(connect(c, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6), EINPROGRESS);
    CHECK_EVENTS(await_events(c, kAll, EPOLLOUT), EPOLLOUT);
    CHECK_EQ(get_int_opt(c, SOL_SOCKET, SO_ERROR), 0);
    ufd s(tcp_accept(l));
    REQUIRE(s.valid());
    CHECK_EVENTS(epoll_mask(s, kAll), EPOLLOUT);
}

SCENARIO(tcp6_connect_refused)
{
    uint16_t port = 0;
    ufd hold(tcp_closed_port(AF_INET6, &port));
    REQUIRE(hold.valid());
    ufd c(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    sockaddr_in6 sin6 = inet6_sockaddr(port);
    CHECK_ERR(connect(c, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6), ECONNREFUSED);
    ufd n(CHECK_OK(socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0)));
    CHECK_ERR(connect(n, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6), EINPROGRESS);
    CHECK_EVENTS(await_events(n, EPOLLOUT, EPOLLERR), EPOLLOUT | EPOLLERR | EPOLLHUP);
    CHECK_EQ(get_int_opt(n, SOL_SOCKET, SO_ERROR), ECONNREFUSED);
}

SCENARIO(tcp6_peer_shutdown_and_reset_masks)
{
    auto p = make_tcp_pair(AF_INET6, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EVENTS(epoll_mask(p.a, kAll), EPOLLOUT);
    CHECK_EQ(shutdown(p.b, SHUT_WR), 0);
    CHECK_EVENTS(await_events(p.a, kAll, EPOLLRDHUP), EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    linger lg{1, 0};
    CHECK_EQ(setsockopt(p.b, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    CHECK_EQ(p.b.close(), 0);
    CHECK_EVENTS(await_events(p.a, kAll, EPOLLERR),
                 EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLERR | EPOLLHUP);
    char c;
    // The reset arrived in CLOSE_WAIT and is recorded as EPIPE, but a read
    // that has seen the FIN reports EOF first and leaves the error pending.
    CHECK_EQ(recv(p.a, &c, 1, 0), 0);
    CHECK_EQ(get_int_opt(p.a, SOL_SOCKET, SO_ERROR), EPIPE);
    CHECK_EQ(get_int_opt(p.a, SOL_SOCKET, SO_ERROR), 0);
}

SCENARIO(tcp6_bind_bad_address_errors)
{
    ufd s(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    sockaddr_in6 sin6 = inet6_sockaddr(0);
    // RFC 2133's 24-byte sockaddr_in6 (no scope id) is the minimum.
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin6), 23), EINVAL);
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin6), sizeof(sockaddr_in)), EINVAL);
    sin6.sin6_family = AF_INET;
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6), EAFNOSUPPORT);
    sockaddr_in6 bad{};
    bad.sin6_family = AF_INET6;
    CHECK_EQ(inet_pton(AF_INET6, "2001:db8::77", &bad.sin6_addr), 1);
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&bad), sizeof bad), EADDRNOTAVAIL);
    sin6 = inet6_sockaddr(0);
    CHECK_EQ(bind(s, reinterpret_cast<sockaddr*>(&sin6), 24), 0);
    CHECK_NE(local_port(s), 0);
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6), EINVAL);
}

SCENARIO(ipv6_v6only_default_zero)
{
    ufd t(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    CHECK_EQ(get_int_opt(t, IPPROTO_IPV6, IPV6_V6ONLY), 0);
    ufd u(CHECK_OK(socket(AF_INET6, SOCK_DGRAM, 0)));
    CHECK_EQ(get_int_opt(u, IPPROTO_IPV6, IPV6_V6ONLY), 0);
}

SCENARIO(ipv6_v6only_round_trip_then_einval_after_bind)
{
    ufd t(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    CHECK_EQ(set_int_opt(t, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
    CHECK_EQ(get_int_opt(t, IPPROTO_IPV6, IPV6_V6ONLY), 1);
    CHECK_EQ(set_int_opt(t, IPPROTO_IPV6, IPV6_V6ONLY, 0), 0);
    CHECK_EQ(get_int_opt(t, IPPROTO_IPV6, IPV6_V6ONLY), 0);
    CHECK_EQ(set_int_opt(t, IPPROTO_IPV6, IPV6_V6ONLY, 5), 0);
    CHECK_EQ(get_int_opt(t, IPPROTO_IPV6, IPV6_V6ONLY), 1);
    sockaddr_in6 sin6 = inet6_sockaddr(0);
    CHECK_EQ(bind(t, reinterpret_cast<sockaddr*>(&sin6), sizeof sin6), 0);
    CHECK_ERR(set_int_opt(t, IPPROTO_IPV6, IPV6_V6ONLY, 0), EINVAL);
    CHECK_EQ(get_int_opt(t, IPPROTO_IPV6, IPV6_V6ONLY), 1);
}

SCENARIO(tcp6_dualstack_listener_accepts_v4_as_mapped)
{
    ufd l(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    CHECK_EQ(set_int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY, 0), 0);
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_addr = in6addr_any;
    CHECK_EQ(bind(l, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    CHECK_EQ(listen(l, 4), 0);
    uint16_t port = local_port(l);
    ufd c(tcp_connect_to(AF_INET, port));
    REQUIRE(c.valid());
    CHECK_EQ(await_events(l, EPOLLIN, EPOLLIN), EPOLLIN);
    sock_addr peer;
    peer.len = sizeof peer.ss;
    ufd s(CHECK_OK(accept(l, peer.sa(), &peer.len)));
    CHECK_EQ(peer.family(), AF_INET6);
    CHECK(is_v4_mapped(peer));
    sock_addr name;
    name.len = sizeof name.ss;
    CHECK_EQ(getpeername(s, name.sa(), &name.len), 0);
    CHECK(is_v4_mapped(name));
    name.len = sizeof name.ss;
    CHECK_EQ(getsockname(s, name.sa(), &name.len), 0);
    CHECK(is_v4_mapped(name));
    // Data flows both ways across the families.
    CHECK_EQ(send(c, "v4>", 3, 0), 3);
    char buf[4] = {};
    CHECK_EQ(recv_exact(s, buf, 3), 3);
    CHECK_EQ(std::string(buf, 3), "v4>");
    CHECK_EQ(send(s, "<v6", 3, 0), 3);
    CHECK_EQ(recv_exact(c, buf, 3), 3);
    CHECK_EQ(std::string(buf, 3), "<v6");
}

SCENARIO(tcp6_v6only_listener_refuses_v4)
{
    ufd l(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    CHECK_EQ(set_int_opt(l, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_addr = in6addr_any;
    CHECK_EQ(bind(l, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    CHECK_EQ(listen(l, 4), 0);
    uint16_t port = local_port(l);
    ufd c(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    sockaddr_in sin = inet_sockaddr(port);
    CHECK_ERR(connect(c, reinterpret_cast<sockaddr*>(&sin), sizeof sin), ECONNREFUSED);
    // IPv6 clients are still welcome.
    ufd c6(tcp_connect_to(AF_INET6, port));
    REQUIRE(c6.valid());
    ufd s(tcp_accept(l));
    CHECK(s.valid());
}

SCENARIO(udp6_sendto_recvfrom_reports_source)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET6, &pb, SOCK_NONBLOCK));
    REQUIRE(b.valid());
    ufd a(CHECK_OK(socket(AF_INET6, SOCK_DGRAM, 0)));
    sockaddr_in6 to = inet6_sockaddr(pb);
    CHECK_EQ(sendto(a, "six", 3, 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 3);
    CHECK_EVENTS(await_events(b, EPOLLIN | EPOLLOUT, EPOLLIN), EPOLLIN | EPOLLOUT);
    char buf[8] = {};
    sock_addr from;
    from.len = sizeof from.ss;
    CHECK_EQ(recvfrom(b, buf, sizeof buf, 0, from.sa(), &from.len), 3);
    CHECK_EQ(std::string(buf, 3), "six");
    CHECK_EQ(from.len, sizeof(sockaddr_in6));
    CHECK_EQ(from.family(), AF_INET6);
    CHECK_EQ(from.port(), local_port(a));
    CHECK_ERR(recv(b, buf, sizeof buf, 0), EAGAIN);
    CHECK_EQ(sendto(b, "xis", 3, 0, from.sa(), from.len), 3);
    CHECK_EQ(await_events(a, EPOLLIN, EPOLLIN), EPOLLIN);
    from.len = sizeof from.ss;
    CHECK_EQ(recvfrom(a, buf, sizeof buf, 0, from.sa(), &from.len), 3);
    CHECK_EQ(addr_str(from), sock_name(b));
}

SCENARIO(udp6_connected_boundaries_and_truncation)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET6, &pb));
    REQUIRE(b.valid());
    ufd a(udp_client(AF_INET6, pb));
    REQUIRE(a.valid());
    CHECK_EQ(peer_name(a), addr_str(harness_sockaddr(AF_INET6, pb)));
    CHECK_EQ(send(a, "long datagram", 13, 0), 13);
    CHECK_EQ(send(a, "short", 5, 0), 5);
    char buf[16] = {};
    sock_addr from;
    from.len = sizeof from.ss;
    CHECK_EQ(await_events(b, EPOLLIN, EPOLLIN), EPOLLIN);
    CHECK_EQ(recvfrom(b, buf, 4, 0, from.sa(), &from.len), 4);
    CHECK_EQ(std::string(buf, 4), "long");
    CHECK_EQ(addr_str(from), sock_name(a));
    CHECK_EQ(await_events(b, EPOLLIN, EPOLLIN), EPOLLIN);
    CHECK_EQ(recv(b, buf, sizeof buf, 0), 5);
    CHECK_EQ(std::string(buf, 5), "short");
}

// An IPv4 listener on 0.0.0.0:P and an IPV6_V6ONLY one on [::]:P do not overlap, so both bind
// (Redis's default "* -::*" does exactly this, with SO_REUSEADDR on each); a dual-stack one on
// [::]:P would take IPv4's port too, and is EADDRINUSE (net/ipv4/inet_connection_sock.c:
// inet_bind_conflict, a listener's port is never shared through SO_REUSEADDR).
SCENARIO(tcp_v4_any_and_v6only_any_listeners_share_a_port)
{
    ufd l4(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_EQ(set_int_opt(l4, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    sockaddr_in any4{};
    any4.sin_family = AF_INET;
    any4.sin_addr.s_addr = htonl(INADDR_ANY);
    CHECK_EQ(bind(l4, reinterpret_cast<sockaddr*>(&any4), sizeof any4), 0);
    CHECK_EQ(listen(l4, 4), 0);
    uint16_t port = local_port(l4);
    sockaddr_in6 any6{};
    any6.sin6_family = AF_INET6;
    any6.sin6_addr = in6addr_any;
    any6.sin6_port = htons(port);
    ufd dual(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    CHECK_EQ(set_int_opt(dual, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    CHECK_EQ(set_int_opt(dual, IPPROTO_IPV6, IPV6_V6ONLY, 0), 0);
    CHECK_ERR(bind(dual, reinterpret_cast<sockaddr*>(&any6), sizeof any6), EADDRINUSE);
    ufd l6(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    CHECK_EQ(set_int_opt(l6, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    CHECK_EQ(set_int_opt(l6, IPPROTO_IPV6, IPV6_V6ONLY, 1), 0);
    CHECK_EQ(bind(l6, reinterpret_cast<sockaddr*>(&any6), sizeof any6), 0);
    CHECK_EQ(listen(l6, 4), 0);
    // Each family's client reaches its own listener.
    ufd c4(tcp_connect_to(AF_INET, port));
    REQUIRE(c4.valid());
    ufd s4(tcp_accept(l4));
    CHECK(s4.valid());
    ufd c6(tcp_connect_to(AF_INET6, port));
    REQUIRE(c6.valid());
    ufd s6(tcp_accept(l6));
    CHECK(s6.valid());
}
