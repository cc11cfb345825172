// getsockopt / setsockopt on TCP and UDP sockets: boolean options read back
// as exactly 0 or 1, buffer sizes are positive (their exact values are the
// stack's business: Linux doubles them, Pollux need not), SO_ERROR / SO_TYPE
// / SO_DOMAIN / SO_PROTOCOL / SO_ACCEPTCONN, SO_LINGER round trips, short
// and oversized optlen, unknown options and non-sockets. Follows
// net/core/sock.c: sk_setsockopt() (int options want optlen >= sizeof(int)),
// sk_getsockopt() (the value is truncated to a shorter optlen, a negative
// optlen is EINVAL, unknown names ENOPROTOOPT); net/ipv4/tcp.c:
// do_tcp_setsockopt(), do_tcp_getsockopt(); net/ipv4/ip_sockglue.c:
// ip_getsockopt() (a level it does not know is EOPNOTSUPP); socket(7), tcp(7).
#include "harness.h"

#include <netinet/in.h>
#include <linux/sockios.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <vector>

using namespace conf;

namespace {

// Sets v, reads it back.
int round_trip(int fd, int level, int name, int v)
{
    if (set_int_opt(fd, level, name, v) == -1)
        return -1000 - errno;
    return get_int_opt(fd, level, name);
}

}  // namespace

SCENARIO(sockopt_so_reuseaddr_round_trip)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_EQ(get_int_opt(s, SOL_SOCKET, SO_REUSEADDR), 0);
    CHECK_EQ(round_trip(s, SOL_SOCKET, SO_REUSEADDR, 1), 1);
    CHECK_EQ(round_trip(s, SOL_SOCKET, SO_REUSEADDR, 0), 0);
    CHECK_EQ(round_trip(s, SOL_SOCKET, SO_REUSEADDR, 7), 1);
    CHECK_EQ(round_trip(s, SOL_SOCKET, SO_REUSEADDR, -1), 1);
    ufd u(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    CHECK_EQ(round_trip(u, SOL_SOCKET, SO_REUSEADDR, 1), 1);
}

SCENARIO(sockopt_so_keepalive_round_trip)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_EQ(get_int_opt(s, SOL_SOCKET, SO_KEEPALIVE), 0);
    CHECK_EQ(round_trip(s, SOL_SOCKET, SO_KEEPALIVE, 1), 1);
    CHECK_EQ(round_trip(s, SOL_SOCKET, SO_KEEPALIVE, 0), 0);
    CHECK_EQ(round_trip(s, SOL_SOCKET, SO_KEEPALIVE, 42), 1);
    // On an established connection, too.
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(round_trip(p.a, SOL_SOCKET, SO_KEEPALIVE, 1), 1);
    CHECK_EQ(round_trip(p.a, SOL_SOCKET, SO_KEEPALIVE, 0), 0);
}

SCENARIO(sockopt_tcp_nodelay_round_trip)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_EQ(get_int_opt(s, IPPROTO_TCP, TCP_NODELAY), 0);
    CHECK_EQ(round_trip(s, IPPROTO_TCP, TCP_NODELAY, 1), 1);
    CHECK_EQ(round_trip(s, IPPROTO_TCP, TCP_NODELAY, 0), 0);
    CHECK_EQ(round_trip(s, IPPROTO_TCP, TCP_NODELAY, 3), 1);
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(get_int_opt(p.b, IPPROTO_TCP, TCP_NODELAY), 0);
    CHECK_EQ(round_trip(p.b, IPPROTO_TCP, TCP_NODELAY, 1), 1);
    // And data still flows.
    CHECK_EQ(send(p.b, "nd", 2, 0), 2);
    char buf[2];
    CHECK_EQ(recv_exact(p.a, buf, 2), 2);
}

SCENARIO(sockopt_tcp_nodelay_inherited_by_accepted_socket)
{
    uint16_t port = 0;
    ufd l(tcp_listener(AF_INET, 4, &port));
    REQUIRE(l.valid());
    CHECK_EQ(set_int_opt(l, IPPROTO_TCP, TCP_NODELAY, 1), 0);
    CHECK_EQ(set_int_opt(l, SOL_SOCKET, SO_KEEPALIVE, 1), 0);
    ufd c(tcp_connect_to(AF_INET, port));
    REQUIRE(c.valid());
    ufd s(tcp_accept(l));
    REQUIRE(s.valid());
    CHECK_EQ(get_int_opt(s, IPPROTO_TCP, TCP_NODELAY), 1);
    CHECK_EQ(get_int_opt(s, SOL_SOCKET, SO_KEEPALIVE), 1);
    CHECK_EQ(get_int_opt(c, IPPROTO_TCP, TCP_NODELAY), 0);
}

SCENARIO(sockopt_buffer_sizes_positive)
{
    for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
        ufd s(CHECK_OK(socket(AF_INET, type, 0)));
        CHECK_GT(get_int_opt(s, SOL_SOCKET, SO_RCVBUF), 0);
        CHECK_GT(get_int_opt(s, SOL_SOCKET, SO_SNDBUF), 0);
        CHECK_EQ(set_int_opt(s, SOL_SOCKET, SO_RCVBUF, 65536), 0);
        CHECK_EQ(set_int_opt(s, SOL_SOCKET, SO_SNDBUF, 65536), 0);
        CHECK_GT(get_int_opt(s, SOL_SOCKET, SO_RCVBUF), 0);
        CHECK_GT(get_int_opt(s, SOL_SOCKET, SO_SNDBUF), 0);
        // Tiny requests are clamped to a minimum, not refused.
        CHECK_EQ(set_int_opt(s, SOL_SOCKET, SO_RCVBUF, 1), 0);
        CHECK_GT(get_int_opt(s, SOL_SOCKET, SO_RCVBUF), 0);
    }
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_GT(get_int_opt(p.b, SOL_SOCKET, SO_RCVBUF), 0);
    CHECK_GT(get_int_opt(p.b, SOL_SOCKET, SO_SNDBUF), 0);
}

SCENARIO(sockopt_so_error_zero_on_healthy_socket)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_EQ(get_int_opt(s, SOL_SOCKET, SO_ERROR), 0);
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(get_int_opt(p.a, SOL_SOCKET, SO_ERROR), 0);
    CHECK_EQ(get_int_opt(p.b, SOL_SOCKET, SO_ERROR), 0);
    ufd u(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    CHECK_EQ(get_int_opt(u, SOL_SOCKET, SO_ERROR), 0);
    // SO_ERROR is read-only.
    CHECK_ERR(set_int_opt(s, SOL_SOCKET, SO_ERROR, 0), ENOPROTOOPT);
}

SCENARIO(sockopt_so_type_domain_protocol)
{
    ufd t(CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)));
    CHECK_EQ(get_int_opt(t, SOL_SOCKET, SO_TYPE), SOCK_STREAM);  // no flag bits
    CHECK_EQ(get_int_opt(t, SOL_SOCKET, SO_DOMAIN), AF_INET);
    CHECK_EQ(get_int_opt(t, SOL_SOCKET, SO_PROTOCOL), IPPROTO_TCP);
    ufd u(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    CHECK_EQ(get_int_opt(u, SOL_SOCKET, SO_TYPE), SOCK_DGRAM);
    CHECK_EQ(get_int_opt(u, SOL_SOCKET, SO_PROTOCOL), IPPROTO_UDP);
    ufd t6(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    CHECK_EQ(get_int_opt(t6, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    CHECK_EQ(get_int_opt(t6, SOL_SOCKET, SO_DOMAIN), AF_INET6);
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(get_int_opt(p.b, SOL_SOCKET, SO_TYPE), SOCK_STREAM);
    CHECK_ERR(set_int_opt(t, SOL_SOCKET, SO_TYPE, SOCK_DGRAM), ENOPROTOOPT);
}

SCENARIO(sockopt_so_acceptconn)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_EQ(get_int_opt(s, SOL_SOCKET, SO_ACCEPTCONN), 0);
    uint16_t port = 0;
    ufd l(tcp_listener(AF_INET, 4, &port));
    REQUIRE(l.valid());
    CHECK_EQ(get_int_opt(l, SOL_SOCKET, SO_ACCEPTCONN), 1);
    ufd c(tcp_connect_to(AF_INET, port));
    REQUIRE(c.valid());
    ufd a(tcp_accept(l));
    REQUIRE(a.valid());
    CHECK_EQ(get_int_opt(a, SOL_SOCKET, SO_ACCEPTCONN), 0);
    CHECK_EQ(get_int_opt(c, SOL_SOCKET, SO_ACCEPTCONN), 0);
}

SCENARIO(sockopt_short_optlen_truncates)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_EQ(set_int_opt(s, SOL_SOCKET, SO_REUSEADDR, 1), 0);
    unsigned char b[4] = {0xaa, 0xaa, 0xaa, 0xaa};
    socklen_t len = 1;
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, b, &len), 0);
    CHECK_EQ(len, 1u);
    CHECK_EQ(b[0], 1);  // the low byte (little endian)
    CHECK_EQ(b[1], 0xaa);
    len = 0;
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, b, &len), 0);
    CHECK_EQ(len, 0u);
    // A larger buffer gets just the int.
    int big[2] = {-1, -1};
    len = sizeof big;
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, big, &len), 0);
    CHECK_EQ(len, sizeof(int));
    CHECK_EQ(big[0], 1);
    CHECK_EQ(big[1], -1);
    // A negative optlen is EINVAL.
    len = static_cast<socklen_t>(-1);
    CHECK_ERR(getsockopt(s, SOL_SOCKET, SO_REUSEADDR, big, &len), EINVAL);
    // TCP options truncate the same way.
    CHECK_EQ(set_int_opt(s, IPPROTO_TCP, TCP_NODELAY, 1), 0);
    b[0] = b[1] = 0xaa;
    len = 1;
    CHECK_EQ(getsockopt(s, IPPROTO_TCP, TCP_NODELAY, b, &len), 0);
    CHECK_EQ(len, 1u);
    CHECK_EQ(b[0], 1);
    CHECK_EQ(b[1], 0xaa);
}

SCENARIO(sockopt_set_short_optlen_einval)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    int one = 1;
    CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 2), EINVAL);
    CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_KEEPALIVE, &one, 0), EINVAL);
    CHECK_ERR(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, 3), EINVAL);
    linger lg{1, 1};
    CHECK_ERR(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg - 1), EINVAL);
    // Nothing changed.
    CHECK_EQ(get_int_opt(s, SOL_SOCKET, SO_REUSEADDR), 0);
    CHECK_EQ(get_int_opt(s, IPPROTO_TCP, TCP_NODELAY), 0);
    // A longer optlen is fine: only the int is read.
    int two[2] = {1, 99};
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, two, sizeof two), 0);
    CHECK_EQ(get_int_opt(s, SOL_SOCKET, SO_REUSEADDR), 1);
}

SCENARIO(sockopt_unknown_option_enoprotoopt)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    int v = 1;
    socklen_t len = sizeof v;
    CHECK_ERR(getsockopt(s, SOL_SOCKET, 12345, &v, &len), ENOPROTOOPT);
    CHECK_ERR(setsockopt(s, SOL_SOCKET, 12345, &v, sizeof v), ENOPROTOOPT);
    CHECK_ERR(getsockopt(s, IPPROTO_TCP, 12345, &v, &len), ENOPROTOOPT);
    CHECK_ERR(setsockopt(s, IPPROTO_TCP, 12345, &v, sizeof v), ENOPROTOOPT);
    CHECK_ERR(getsockopt(s, IPPROTO_IP, 12345, &v, &len), ENOPROTOOPT);
    ufd u(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    CHECK_ERR(getsockopt(u, SOL_SOCKET, 12345, &v, &len), ENOPROTOOPT);
    // TCP's level on a UDP socket falls through to IP, which knows no such level.
    CHECK_ERR(getsockopt(u, IPPROTO_TCP, TCP_NODELAY, &v, &len), EOPNOTSUPP);
}

SCENARIO(sockopt_so_linger_round_trip)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    linger lg{-1, -1};
    socklen_t len = sizeof lg;
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &len), 0);
    CHECK_EQ(len, sizeof(linger));
    CHECK_EQ(lg.l_onoff, 0);
    CHECK_EQ(lg.l_linger, 0);
    linger set{1, 5};
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_LINGER, &set, sizeof set), 0);
    lg = {-1, -1};
    len = sizeof lg;
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &len), 0);
    CHECK_EQ(lg.l_onoff, 1);
    CHECK_EQ(lg.l_linger, 5);
    // Turning lingering off ignores l_linger and keeps the old time.
    set = {0, 3};
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_LINGER, &set, sizeof set), 0);
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &len), 0);
    CHECK_EQ(lg.l_onoff, 0);
    CHECK_EQ(lg.l_linger, 5);
    // l_onoff is a boolean.
    set = {7, 0};
    CHECK_EQ(setsockopt(s, SOL_SOCKET, SO_LINGER, &set, sizeof set), 0);
    CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_LINGER, &lg, &len), 0);
    CHECK_EQ(lg.l_onoff, 1);
    CHECK_EQ(lg.l_linger, 0);
}

SCENARIO(sockopt_on_non_socket_enotsock_and_bad_fd_ebadf)
{
    auto p = make_pipe();
    int v = 1;
    socklen_t len = sizeof v;
    CHECK_ERR(getsockopt(p.a, SOL_SOCKET, SO_TYPE, &v, &len), ENOTSOCK);
    CHECK_ERR(setsockopt(p.a, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v), ENOTSOCK);
    CHECK_ERR(getsockopt(-1, SOL_SOCKET, SO_TYPE, &v, &len), EBADF);
    CHECK_ERR(setsockopt(-1, SOL_SOCKET, SO_REUSEADDR, &v, sizeof v), EBADF);
}

// A send buffer the user sized bounds what waits in the send queue: a writer that outruns a
// reader that never reads gets EAGAIN with about SO_SNDBUF's value queued (SIOCOUTQ), not the
// stack's own maximum (net/core/sock.c SOCK_SNDBUF_LOCK, sk_stream_memory_free()).
SCENARIO(tcp_so_sndbuf_bounds_the_send_queue)
{
    int c = -1, s = -1;
    REQUIRE(tcp_connected_pair(AF_INET, &c, &s, SOCK_NONBLOCK));
    ufd client(c), server(s);
    CHECK_EQ(set_int_opt(client, SOL_SOCKET, SO_SNDBUF, 16384), 0);
    int limit = get_int_opt(client, SOL_SOCKET, SO_SNDBUF);
    CHECK_EQ(limit, 32768);
    std::vector<char> chunk(4096, 'x');
    size_t total = 0;
    long r = 0;
    // Until the reader's window is full (Linux grows it up to tcp_rmem[2]): EAGAIN that a pause
    // for ACKs does not cure. 64 MiB and 2 000 pauses bound the loop.
    for (int pauses = 0; total < (64u << 20) && pauses < 2000; ++pauses) {
        while ((r = write(client, chunk.data(), chunk.size())) > 0) total += static_cast<size_t>(r);
        CHECK_ERR(r, EAGAIN);
        usleep(2000);
        if ((r = write(client, chunk.data(), chunk.size())) <= 0) break;
        total += static_cast<size_t>(r);
    }
    CHECK_ERR(r, EAGAIN);
    int outq = -1;
    CHECK_EQ(ioctl(client, SIOCOUTQ, &outq), 0);
    CHECK_GT(outq, 0);
    // Linux checks the limit before it queues a segment of up to 64 KiB (a GSO skb), so the
    // queue may end one such segment beyond it; without the limit it would hold megabytes.
    CHECK_LE(outq, limit + 65536);
}

// IP_RECVERR and IPV6_RECVERR (ip(7), ipv6(7)): flags that read back as 0 or 1, on UDP and
// TCP, IPv4 and IPv6 sockets (an AF_INET socket has no IPPROTO_IPV6 level: ENOPROTOOPT).
// glibc's resolver sets IP_RECVERR on its UDP socket before every query. With nothing on the
// error queue, recv(MSG_ERRQUEUE) is EAGAIN at once, even blocking (ip_recv_error()), and it
// never takes the data queued for an ordinary read.
SCENARIO(sockopt_ip_recverr)
{
    ufd u(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    CHECK_EQ(get_int_opt(u, IPPROTO_IP, IP_RECVERR), 0);
    CHECK_EQ(round_trip(u, IPPROTO_IP, IP_RECVERR, 1), 1);
    CHECK_EQ(round_trip(u, IPPROTO_IP, IP_RECVERR, 9), 1);
    CHECK_EQ(round_trip(u, IPPROTO_IP, IP_RECVERR, 0), 0);
    CHECK_ERR(set_int_opt(u, IPPROTO_IPV6, IPV6_RECVERR, 1), ENOPROTOOPT);
    ufd t(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_EQ(round_trip(t, IPPROTO_IP, IP_RECVERR, 1), 1);
    ufd u6(CHECK_OK(socket(AF_INET6, SOCK_DGRAM, 0)));
    CHECK_EQ(round_trip(u6, IPPROTO_IPV6, IPV6_RECVERR, 1), 1);
    CHECK_EQ(round_trip(u6, IPPROTO_IP, IP_RECVERR, 1), 1);
    ufd t6(CHECK_OK(socket(AF_INET6, SOCK_STREAM, 0)));
    CHECK_EQ(round_trip(t6, IPPROTO_IPV6, IPV6_RECVERR, 1), 1);

    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(write(p.b, "x", 1), 1);
    REQUIRE((await_events(p.a, EPOLLIN, EPOLLIN) & EPOLLIN) != 0);
    char c = 0;
    CHECK_ERR(recv(p.a, &c, 1, MSG_ERRQUEUE), EAGAIN);
    CHECK_EQ(recv(p.a, &c, 1, 0), 1);
    CHECK_EQ(c, 'x');
}
