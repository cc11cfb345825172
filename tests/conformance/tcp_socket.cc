// socket(), bind() and listen() for AF_INET / SOCK_STREAM (and the socket()
// type checks shared with SOCK_DGRAM): creation flags, the errno of each bad
// argument, port 0 binding, address reuse (SO_REUSEADDR lets a socket bind
// next to sockets that are not listening, never next to a listener) and
// listen()'s implicit bind. Follows net/socket.c: __sys_socket() (flag and
// type checks), __sock_create(); net/ipv4/af_inet.c: inet_create() (the
// inetsw lookup yields ESOCKTNOSUPPORT / EPROTONOSUPPORT), inet_bind_sk(),
// __inet_bind(), inet_listen(); net/ipv4/inet_connection_sock.c:
// inet_csk_get_port(), inet_bind_conflict(); and socket(2), bind(2), ip(7).
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <vector>

using namespace conf;

namespace {

int reuse_socket(int family = AF_INET)
{
    int fd = CHECK_OK(socket(family, SOCK_STREAM, 0));
    CHECK_EQ(set_int_opt(fd, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    return fd;
}

}  // namespace

SCENARIO(tcp_socket_flags_visible_via_fcntl)
{
    ufd a(CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)));
    CHECK_EQ(fcntl(a, F_GETFL), O_RDWR | O_NONBLOCK);
    CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
    ufd b(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_EQ(fcntl(b, F_GETFL), O_RDWR);
    CHECK_EQ(fcntl(b, F_GETFD), 0);
    ufd c(CHECK_OK(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)));
    CHECK_EQ(fcntl(c, F_GETFL), O_RDWR | O_NONBLOCK);
    CHECK_EQ(fcntl(c, F_GETFD), 0);
    ufd d(CHECK_OK(socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0)));
    CHECK_EQ(fcntl(d, F_GETFL), O_RDWR);
    CHECK_EQ(fcntl(d, F_GETFD), FD_CLOEXEC);
}

SCENARIO(tcp_socket_explicit_protocols_accepted)
{
    ufd a(CHECK_OK(socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)));
    ufd b(CHECK_OK(socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)));
    ufd c(CHECK_OK(socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP)));
    ufd d(CHECK_OK(socket(AF_INET6, SOCK_DGRAM, IPPROTO_UDP)));
    CHECK_EQ(get_int_opt(a, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
    CHECK_EQ(get_int_opt(b, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
}

SCENARIO(inet_socket_bad_domain_eafnosupport)
{
    CHECK_ERR(socket(12345, SOCK_STREAM, 0), EAFNOSUPPORT);
    CHECK_ERR(socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
    // AF_MAX and above are out of range before any family lookup.
    CHECK_ERR(socket(AF_MAX, SOCK_DGRAM, 0), EAFNOSUPPORT);
}

SCENARIO(inet_socket_bad_type_einval)
{
    // Unknown flag bits above the type nibble.
    CHECK_ERR(socket(AF_INET, SOCK_STREAM | 0x100, 0), EINVAL);
    CHECK_ERR(socket(AF_INET, SOCK_STREAM | O_APPEND, 0), EINVAL);
    // A type number at or above SOCK_MAX (11) is rejected by __sock_create().
    CHECK_ERR(socket(AF_INET, 11, 0), EINVAL);
    CHECK_ERR(socket(AF_INET, 15, 0), EINVAL);
    CHECK_ERR(socket(AF_INET, -1, 0), EINVAL);
}

SCENARIO(inet_socket_unsupported_type_esocktnosupport)
{
    // Valid type numbers that AF_INET has no protocol for.
    CHECK_ERR(socket(AF_INET, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
    CHECK_ERR(socket(AF_INET, 7, 0), ESOCKTNOSUPPORT);
    CHECK_ERR(socket(AF_INET6, SOCK_SEQPACKET, 0), ESOCKTNOSUPPORT);
}

SCENARIO(inet_socket_wrong_protocol_eprotonosupport)
{
    CHECK_ERR(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
    CHECK_ERR(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
    CHECK_ERR(socket(AF_INET, SOCK_STREAM, 200), EPROTONOSUPPORT);
    CHECK_ERR(socket(AF_INET6, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
}

SCENARIO(tcp_getsockname_unbound_is_any_port_zero)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_EQ(sock_name(s), std::string("0.0.0.0:0"));
    ufd s6(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    CHECK_EQ(sock_name(s6), std::string("[::]:0"));
    // A short buffer gets the truncated address and the full length back.
    sockaddr_in sin{};
    socklen_t len = 4;
    CHECK_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&sin), &len), 0);
    CHECK_EQ(len, sizeof(sockaddr_in));
}

SCENARIO(tcp_bind_port_zero_getsockname_nonzero_port)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    sockaddr_in sin = inet_sockaddr(0);
    CHECK_EQ(bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    sockaddr_in got{};
    socklen_t len = sizeof got;
    CHECK_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&got), &len), 0);
    CHECK_EQ(len, sizeof(sockaddr_in));
    CHECK_EQ(got.sin_family, AF_INET);
    CHECK_NE(ntohs(got.sin_port), 0);
    CHECK_EQ(got.sin_addr.s_addr, sin.sin_addr.s_addr);
    // Still unconnected.
    CHECK_ERR(getpeername(s, reinterpret_cast<sockaddr*>(&got), &len), ENOTCONN);
}

SCENARIO(tcp_bind_twice_einval)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    sockaddr_in sin = inet_sockaddr(0);
    CHECK_EQ(bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    uint16_t port = local_port(s);
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EINVAL);
    sockaddr_in same = inet_sockaddr(port);
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&same), sizeof same), EINVAL);
    CHECK_EQ(local_port(s), port);
}

SCENARIO(tcp_bind_short_addrlen_einval)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    sockaddr_in sin = inet_sockaddr(0);
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin - 1), EINVAL);
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin), 2), EINVAL);
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin), 0), EINVAL);
    // Nothing was bound: a good bind still works.
    CHECK_EQ(bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
}

SCENARIO(tcp_bind_wrong_family_eafnosupport)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    sockaddr_in sin = inet_sockaddr(0);
    sin.sin_family = AF_INET6;
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EAFNOSUPPORT);
    sin.sin_family = AF_UNIX;
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EAFNOSUPPORT);
    // AF_UNSPEC is accepted as AF_INET only with INADDR_ANY.
    sin.sin_family = AF_UNSPEC;
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EAFNOSUPPORT);
    sockaddr_in any{};
    any.sin_family = AF_UNSPEC;
    any.sin_addr.s_addr = htonl(INADDR_ANY);
    CHECK_EQ(bind(s, reinterpret_cast<sockaddr*>(&any), sizeof any), 0);
    CHECK_NE(local_port(s), 0);
}

SCENARIO(tcp_bind_nonlocal_address_eaddrnotavail)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    CHECK_EQ(inet_pton(AF_INET, "198.51.100.77", &sin.sin_addr), 1);  // TEST-NET-2
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EADDRNOTAVAIL);
}

SCENARIO(tcp_bind_same_port_without_reuseaddr_eaddrinuse)
{
    uint16_t port = 0;
    ufd l(tcp_listener(AF_INET, 4, &port));
    REQUIRE(l.valid());
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    sockaddr_in sin = inet_sockaddr(port);
    CHECK_ERR(bind(s, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EADDRINUSE);
    // Bound but not listening still holds the port.
    ufd b(tcp_closed_port(AF_INET, &port));
    REQUIRE(b.valid());
    ufd t(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    sin = inet_sockaddr(port);
    CHECK_ERR(bind(t, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EADDRINUSE);
    // The failed bind left t unbound.
    CHECK_EQ(local_port(t), 0);
}

SCENARIO(tcp_bind_reuseaddr_both_bound_then_second_listen_eaddrinuse)
{
    ufd a(reuse_socket());
    sockaddr_in sin = inet_sockaddr(0);
    CHECK_EQ(bind(a, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    uint16_t port = local_port(a);
    ufd b(reuse_socket());
    sin = inet_sockaddr(port);
    // Neither listens, both allow reuse: the second bind succeeds...
    CHECK_EQ(bind(b, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    CHECK_EQ(local_port(b), port);
    // ...but only one of them can listen.
    CHECK_EQ(listen(a, 4), 0);
    CHECK_ERR(listen(b, 4), EADDRINUSE);
}

SCENARIO(tcp_bind_reuseaddr_next_to_listener_eaddrinuse)
{
    ufd l(reuse_socket());
    sockaddr_in sin = inet_sockaddr(0);
    CHECK_EQ(bind(l, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    CHECK_EQ(listen(l, 4), 0);
    ufd b(reuse_socket());
    sin = inet_sockaddr(local_port(l));
    CHECK_ERR(bind(b, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EADDRINUSE);
    // Only one side asking for reuse is not enough either.
    ufd a(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    sin = inet_sockaddr(0);
    CHECK_EQ(bind(a, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    ufd c(reuse_socket());
    sin = inet_sockaddr(local_port(a));
    CHECK_ERR(bind(c, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EADDRINUSE);
}

SCENARIO(tcp_reuseaddr_rebind_port_of_closed_server)
{
    // A server that closes its side first leaves the connection behind on
    // its port (FIN_WAIT / TIME_WAIT). Restarting on that port needs
    // SO_REUSEADDR; the accepted socket inherited it from the listener.
    ufd l(reuse_socket());
    sockaddr_in sin = inet_sockaddr(0);
    CHECK_EQ(bind(l, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    CHECK_EQ(listen(l, 4), 0);
    uint16_t port = local_port(l);
    ufd c(tcp_connect_to(AF_INET, port));
    REQUIRE(c.valid());
    ufd s(tcp_accept(l));
    REQUIRE(s.valid());
    CHECK_EQ(l.close(), 0);
    CHECK_EQ(s.close(), 0);
    char buf[4];
    CHECK_EQ(recv_exact(c, buf, sizeof buf), 0);  // the server's FIN
    CHECK_EQ(c.close(), 0);

    sin = inet_sockaddr(port);
    ufd plain(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_ERR(bind(plain, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EADDRINUSE);
    ufd again(reuse_socket());
    CHECK_EQ(bind(again, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    CHECK_EQ(listen(again, 4), 0);
    // And the restarted server works.
    ufd c2(tcp_connect_to(AF_INET, port));
    REQUIRE(c2.valid());
    ufd s2(tcp_accept(again));
    CHECK(s2.valid());
}

SCENARIO(tcp_listen_unbound_picks_ephemeral_port)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_EQ(listen(s, 4), 0);
    sock_addr a;
    a.len = sizeof a.ss;
    CHECK_EQ(getsockname(s, a.sa(), &a.len), 0);
    CHECK_EQ(a.family(), AF_INET);
    CHECK_NE(a.port(), 0);
    // Listening again is allowed (it only updates the backlog).
    CHECK_EQ(listen(s, 8), 0);
    CHECK_EQ(get_int_opt(s, SOL_SOCKET, SO_ACCEPTCONN), 1);
}

SCENARIO(tcp_listen_on_connected_socket_einval)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_ERR(listen(p.a, 4), EINVAL);
    CHECK_ERR(listen(p.b, 4), EINVAL);
}

SCENARIO(inet_listen_and_accept_on_udp_eopnotsupp)
{
    ufd u(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    CHECK_ERR(listen(u, 4), EOPNOTSUPP);
    CHECK_ERR(accept(u, nullptr, nullptr), EOPNOTSUPP);
}

// SO_REUSEPORT: listeners that all set it share one address and port, and the connections to it
// are spread over them (by a hash of each connection's addresses, so with 32 connections each
// of two listeners gets some: all on one would happen once in 2^31); a socket without the
// option still cannot bind there. Follows net/core/sock_reuseport.c and inet_csk_bind_conflict().
SCENARIO(tcp_reuseport_listeners_share_connections)
{
    auto reuseport_listener = [](uint16_t port) {
        int fd = CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
        CHECK_EQ(set_int_opt(fd, SOL_SOCKET, SO_REUSEPORT, 1), 0);
        sockaddr_in sin = inet_sockaddr(port);
        CHECK_EQ(bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
        CHECK_EQ(listen(fd, 64), 0);
        return fd;
    };
    ufd a(reuseport_listener(0));
    sockaddr_in got{};
    socklen_t len = sizeof got;
    CHECK_EQ(getsockname(a, reinterpret_cast<sockaddr*>(&got), &len), 0);
    uint16_t port = ntohs(got.sin_port);
    ufd b(reuseport_listener(port));

    ufd outsider(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    sockaddr_in sin = inet_sockaddr(port);
    CHECK_ERR(bind(outsider, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EADDRINUSE);

    constexpr int kConns = 32;
    std::vector<ufd> clients;
    for (int i = 0; i < kConns; ++i) clients.emplace_back(tcp_connect_to(AF_INET, port));
    std::vector<ufd> accepted;
    int from_a = 0, from_b = 0;
    for (int rounds = 0; from_a + from_b < kConns && rounds < 400; ++rounds) {
        for (int which = 0; which < 2; ++which) {
            int fd;
            while ((fd = accept4(which == 0 ? a.get() : b.get(), nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
                accepted.emplace_back(fd);
                (which == 0 ? from_a : from_b) += 1;
            }
        }
        if (from_a + from_b < kConns) usleep(5000);
    }
    CHECK_EQ(from_a + from_b, kConns);
    CHECK_GE(from_a, 1);
    CHECK_GE(from_b, 1);
}

// Which error comes first when both the descriptor and an address are bad: the socket calls
// look the descriptor up (EBADF, then ENOTSOCK: sockfd_lookup_light()) before they copy an
// address in or out (EFAULT), except connect(), which copies the address before it asks
// whether the file is a socket (__sys_connect()). NULL stands for the bad pointer.
SCENARIO(socket_calls_check_the_fd_before_the_address)
{
    auto p = make_pipe();
    REQUIRE(p.a.valid());
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_ERR(bind(-1, nullptr, sizeof(sockaddr_in)), EBADF);
    CHECK_ERR(bind(p.a, nullptr, sizeof(sockaddr_in)), ENOTSOCK);
    CHECK_ERR(bind(s, nullptr, sizeof(sockaddr_in)), EFAULT);
    CHECK_ERR(connect(-1, nullptr, sizeof(sockaddr_in)), EBADF);
    CHECK_ERR(connect(p.a, nullptr, sizeof(sockaddr_in)), EFAULT);
    CHECK_ERR(getsockopt(-1, SOL_SOCKET, SO_ERROR, nullptr, nullptr), EBADF);
    CHECK_ERR(getsockopt(p.a, SOL_SOCKET, SO_ERROR, nullptr, nullptr), ENOTSOCK);
    CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_ERROR, nullptr, nullptr), EFAULT);
    CHECK_ERR(setsockopt(-1, SOL_SOCKET, SO_REUSEADDR, nullptr, sizeof(int)), EBADF);
    CHECK_ERR(setsockopt(p.a, SOL_SOCKET, SO_REUSEADDR, nullptr, sizeof(int)), ENOTSOCK);
    CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, nullptr, sizeof(int)), EFAULT);
    CHECK_ERR(sendmsg(-1, nullptr, 0), EBADF);
    CHECK_ERR(sendmsg(p.a, nullptr, 0), ENOTSOCK);
    CHECK_ERR(sendmsg(s, nullptr, 0), EFAULT);
    CHECK_ERR(recvmsg(-1, nullptr, 0), EBADF);
    CHECK_ERR(recvmsg(p.a, nullptr, 0), ENOTSOCK);
    CHECK_ERR(recvmsg(s, nullptr, 0), EFAULT);
    sockaddr_in sin{};
    CHECK_ERR(getsockname(-1, reinterpret_cast<sockaddr*>(&sin), nullptr), EBADF);
    CHECK_ERR(getsockname(p.a, reinterpret_cast<sockaddr*>(&sin), nullptr), ENOTSOCK);
    CHECK_ERR(getpeername(-1, reinterpret_cast<sockaddr*>(&sin), nullptr), EBADF);
    CHECK_ERR(getpeername(p.a, reinterpret_cast<sockaddr*>(&sin), nullptr), ENOTSOCK);
}
