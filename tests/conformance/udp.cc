// UDP over the harness address: sendto/recvfrom report the sender, connected
// sockets send without an address and hear only their peer, datagram
// boundaries hold (one recv, one datagram; a short buffer truncates and the
// rest is dropped, recvmsg flags MSG_TRUNC), zero-length datagrams, FIONREAD
// (the size of the next datagram), EAGAIN when empty, EDESTADDRREQ without a
// destination, AF_UNSPEC connect dissolving the association, ICMP port
// unreachable as ECONNREFUSED on a connected socket, and the epoll masks
// (EPOLLOUT always, EPOLLIN while a datagram is queued). Follows
// net/ipv4/udp.c: udp_sendmsg() (EDESTADDRREQ), udp_recvmsg() (MSG_TRUNC),
// udp_ioctl(SIOCINQ) (first_packet_length()), __udp4_lib_err() (sk_err only
// for connected sockets), udp_poll(); net/ipv4/datagram.c:
// __ip4_datagram_connect(); net/core/datagram.c: datagram_poll(); udp(7).
//
// Roles as on the Pollux wire: a "server" binds to the harness address
// (udp_bound); a "client" is unbound and either sendto()s the server (and so
// gets only an ephemeral port, its address stays INADDR_ANY) or connect()s
// to it (udp_client: a concrete local address that the server sees as the
// source). Source addresses are only ever compared with what the other end
// reports, never with the harness address.
#include "harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/uio.h>

#include <cstring>

using namespace conf;

namespace {

// Waits until fd has a datagram queued.
bool await_datagram(int fd)
{
    return (await_events(fd, EPOLLIN, EPOLLIN) & EPOLLIN) != 0;
}

ssize_t send_to(int fd, const void* buf, size_t n, uint16_t port, int family = AF_INET)
{
    sock_addr a = harness_sockaddr(family, port);
    return sendto(fd, buf, n, 0, a.sa(), a.len);
}

}  // namespace

SCENARIO(udp_sendto_recvfrom_reports_source)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb));
    REQUIRE(b.valid());
    ufd a(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    CHECK_EQ(local_port(a), 0);
    CHECK_EQ(send_to(a, "ping", 4, pb), 4);
    // sendto on an unbound socket picked a port, and only a port.
    uint16_t pa = local_port(a);
    CHECK_NE(pa, 0);
    CHECK_EQ(sock_name(a), "0.0.0.0:" + std::to_string(pa));
    REQUIRE(await_datagram(b));
    char buf[16] = {};
    sock_addr from;
    from.len = sizeof from.ss;
    CHECK_EQ(recvfrom(b, buf, sizeof buf, 0, from.sa(), &from.len), 4);
    CHECK_EQ(std::string(buf, 4), "ping");
    CHECK_EQ(from.len, sizeof(sockaddr_in));
    CHECK_EQ(from.family(), AF_INET);
    CHECK_EQ(from.port(), pa);
    // Reply to whoever sent it; the reply comes from the server's address.
    CHECK_EQ(sendto(b, "pong", 4, 0, from.sa(), from.len), 4);
    REQUIRE(await_datagram(a));
    from.len = sizeof from.ss;
    CHECK_EQ(recvfrom(a, buf, sizeof buf, 0, from.sa(), &from.len), 4);
    CHECK_EQ(std::string(buf, 4), "pong");
    CHECK_EQ(addr_str(from), sock_name(b));
}

SCENARIO(udp_recvfrom_null_address_and_short_address_buffer)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb));
    ufd a(udp_client(AF_INET, pb));
    REQUIRE(a.valid() && b.valid());
    CHECK_EQ(send(a, "one", 3, 0), 3);
    CHECK_EQ(send(a, "two", 3, 0), 3);
    char buf[8];
    REQUIRE(await_datagram(b));
    CHECK_EQ(recvfrom(b, buf, sizeof buf, 0, nullptr, nullptr), 3);
    // A short address buffer is filled as far as it goes; the length says
    // how long the address really was.
    sockaddr_in sin{};
    socklen_t len = 4;
    REQUIRE(await_datagram(b));
    CHECK_EQ(recvfrom(b, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&sin), &len), 3);
    CHECK_EQ(len, sizeof(sockaddr_in));
    CHECK_EQ(sin.sin_family, AF_INET);
    CHECK_EQ(ntohs(sin.sin_port), local_port(a));
    CHECK_EQ(sin.sin_addr.s_addr, 0u);
}

SCENARIO(udp_connected_send_recv)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb));
    REQUIRE(b.valid());
    ufd a(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    sockaddr_in to_b = inet_sockaddr(pb);
    CHECK_EQ(connect(a, reinterpret_cast<sockaddr*>(&to_b), sizeof to_b), 0);
    CHECK_EQ(peer_name(a), addr_str(harness_sockaddr(AF_INET, pb)));
    // connect() bound a concrete local address and port.
    CHECK_NE(local_port(a), 0);
    CHECK_NE(sock_name(a), "0.0.0.0:" + std::to_string(local_port(a)));
    CHECK_EQ(send(a, "hello", 5, 0), 5);
    CHECK_EQ(write(a, "world", 5), 5);
    REQUIRE(await_datagram(b));
    char buf[16] = {};
    sock_addr from;
    from.len = sizeof from.ss;
    CHECK_EQ(recvfrom(b, buf, sizeof buf, 0, from.sa(), &from.len), 5);
    CHECK_EQ(std::string(buf, 5), "hello");
    CHECK_EQ(addr_str(from), sock_name(a));
    REQUIRE(await_datagram(b));
    CHECK_EQ(read(b, buf, sizeof buf), 5);
    CHECK_EQ(std::string(buf, 5), "world");
    // b connects back; both use plain send/recv.
    CHECK_EQ(connect(b, from.sa(), from.len), 0);
    CHECK_EQ(peer_name(b), sock_name(a));
    CHECK_EQ(peer_name(a), sock_name(b));
    CHECK_EQ(send(b, "back", 4, 0), 4);
    REQUIRE(await_datagram(a));
    CHECK_EQ(recv(a, buf, sizeof buf, 0), 4);
    CHECK_EQ(std::string(buf, 4), "back");
}

SCENARIO(udp_connected_ignores_other_senders)
{
    uint16_t pa = 0;
    ufd a(udp_bound(AF_INET, &pa));
    REQUIRE(a.valid());
    ufd b(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    ufd c(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    // a learns b's address from a first datagram and connects to it.
    CHECK_EQ(send_to(b, "hi", 2, pa), 2);
    REQUIRE(await_datagram(a));
    char buf[16] = {};
    sock_addr from;
    from.len = sizeof from.ss;
    CHECK_EQ(recvfrom(a, buf, sizeof buf, 0, from.sa(), &from.len), 2);
    CHECK_EQ(connect(a, from.sa(), from.len), 0);
    // c's datagram goes first but a, connected to b, drops it.
    CHECK_EQ(send_to(c, "intruder", 8, pa), 8);
    CHECK_EQ(send_to(b, "peer", 4, pa), 4);
    REQUIRE(await_datagram(a));
    CHECK_EQ(recv(a, buf, sizeof buf, 0), 4);
    CHECK_EQ(std::string(buf, 4), "peer");
    CHECK_ERR(recv(a, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
}

SCENARIO(udp_sendto_on_connected_socket_overrides_peer)
{
    uint16_t pb = 0, pc = 0;
    ufd b(udp_bound(AF_INET, &pb));
    ufd c(udp_bound(AF_INET, &pc));
    REQUIRE(b.valid() && c.valid());
    ufd a(udp_client(AF_INET, pb));
    REQUIRE(a.valid());
    CHECK_EQ(send_to(a, "to-c", 4, pc), 4);
    REQUIRE(await_datagram(c));
    char buf[8];
    CHECK_EQ(recv(c, buf, sizeof buf, 0), 4);
    CHECK_ERR(recv(b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    // The association is unchanged.
    CHECK_EQ(peer_name(a), addr_str(harness_sockaddr(AF_INET, pb)));
}

SCENARIO(udp_connect_af_unspec_dissolves_association)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb));
    REQUIRE(b.valid());
    ufd a(udp_client(AF_INET, pb));
    REQUIRE(a.valid());
    CHECK_NE(local_port(a), 0);
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    CHECK_EQ(connect(a, &unspec, sizeof unspec), 0);
    CHECK_EQ(peer_name(a), std::string("error ENOTCONN"));
    // Address and port that connect() chose implicitly are given up, too.
    CHECK_EQ(sock_name(a), std::string("0.0.0.0:0"));
    CHECK_ERR(send(a, "x", 1, 0), EDESTADDRREQ);
    // Only what bind() named explicitly survives: bound to the harness
    // address with port 0, the address stays and the chosen port goes.
    ufd c(udp_bound(AF_INET, nullptr));
    REQUIRE(c.valid());
    sockaddr_in to_b = inet_sockaddr(pb);
    CHECK_EQ(connect(c, reinterpret_cast<sockaddr*>(&to_b), sizeof to_b), 0);
    CHECK_EQ(connect(c, &unspec, sizeof unspec), 0);
    CHECK_EQ(sock_name(c), addr_str(harness_sockaddr(AF_INET, 0)));
}

SCENARIO(udp_send_without_destination_edestaddrreq)
{
    ufd u(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    CHECK_ERR(send(u, "x", 1, 0), EDESTADDRREQ);
    CHECK_ERR(write(u, "x", 1), EDESTADDRREQ);
    ufd b(udp_bound(AF_INET, nullptr));
    REQUIRE(b.valid());
    CHECK_ERR(send(b, "x", 1, 0), EDESTADDRREQ);
    CHECK_EQ(peer_name(b), std::string("error ENOTCONN"));
}

SCENARIO(udp_nonblocking_empty_recv_eagain)
{
    ufd u(udp_bound(AF_INET, nullptr, SOCK_NONBLOCK));
    REQUIRE(u.valid());
    char buf[8];
    CHECK_ERR(recv(u, buf, sizeof buf, 0), EAGAIN);
    CHECK_ERR(read(u, buf, sizeof buf), EAGAIN);
    sock_addr from;
    from.len = sizeof from.ss;
    CHECK_ERR(recvfrom(u, buf, sizeof buf, 0, from.sa(), &from.len), EAGAIN);
    ufd blocking(udp_bound(AF_INET, nullptr));
    REQUIRE(blocking.valid());
    CHECK_ERR(recv(blocking, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    ufd unbound(CHECK_OK(socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0)));
    CHECK_ERR(recv(unbound, buf, sizeof buf, 0), EAGAIN);
}

SCENARIO(udp_datagram_boundaries_preserved)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb));
    ufd a(udp_client(AF_INET, pb));
    REQUIRE(a.valid() && b.valid());
    CHECK_EQ(send(a, "first", 5, 0), 5);
    CHECK_EQ(send(a, "second!", 7, 0), 7);
    char buf[64] = {};
    REQUIRE(await_datagram(b));
    CHECK_EQ(recv(b, buf, sizeof buf, 0), 5);
    CHECK_EQ(std::string(buf, 5), "first");
    REQUIRE(await_datagram(b));
    CHECK_EQ(recv(b, buf, sizeof buf, 0), 7);
    CHECK_EQ(std::string(buf, 7), "second!");
    CHECK_ERR(recv(b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
}

SCENARIO(udp_long_datagram_truncated_to_buffer)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb));
    ufd a(udp_client(AF_INET, pb));
    REQUIRE(a.valid() && b.valid());
    CHECK_EQ(send(a, "0123456789", 10, 0), 10);
    CHECK_EQ(send(a, "next", 4, 0), 4);
    char buf[16] = {};
    REQUIRE(await_datagram(b));
    // The excess is discarded, not left for the next call.
    CHECK_EQ(recv(b, buf, 4, 0), 4);
    CHECK_EQ(std::string(buf, 4), "0123");
    REQUIRE(await_datagram(b));
    CHECK_EQ(recv(b, buf, sizeof buf, 0), 4);
    CHECK_EQ(std::string(buf, 4), "next");
}

SCENARIO(udp_recvmsg_reports_msg_trunc)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb));
    ufd a(udp_client(AF_INET, pb));
    REQUIRE(a.valid() && b.valid());
    CHECK_EQ(send(a, "0123456789", 10, 0), 10);
    CHECK_EQ(send(a, "fits", 4, 0), 4);
    char buf[6] = {};
    iovec v{buf, sizeof buf};
    sock_addr from;
    msghdr m{};
    m.msg_name = &from.ss;
    m.msg_namelen = sizeof from.ss;
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    REQUIRE(await_datagram(b));
    CHECK_EQ(recvmsg(b, &m, 0), 6);
    CHECK_EQ(m.msg_flags, MSG_TRUNC);
    CHECK_EQ(m.msg_namelen, sizeof(sockaddr_in));
    from.len = m.msg_namelen;
    CHECK_EQ(addr_str(from), sock_name(a));
    CHECK_EQ(std::string(buf, 6), "012345");
    m.msg_namelen = sizeof from.ss;
    REQUIRE(await_datagram(b));
    CHECK_EQ(recvmsg(b, &m, 0), 4);
    CHECK_EQ(m.msg_flags, 0);
}

SCENARIO(udp_sendmsg_gathers_one_datagram)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb));
    REQUIRE(b.valid());
    ufd a(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    sock_addr to = harness_sockaddr(AF_INET, pb);
    char p1[] = "gather-", p2[] = "into-", p3[] = "one";
    iovec v[3] = {{p1, 7}, {p2, 5}, {p3, 3}};
    msghdr m{};
    m.msg_name = &to.ss;
    m.msg_namelen = to.len;
    m.msg_iov = v;
    m.msg_iovlen = 3;
    CHECK_EQ(sendmsg(a, &m, 0), 15);
    REQUIRE(await_datagram(b));
    char buf[32] = {};
    CHECK_EQ(recv(b, buf, sizeof buf, 0), 15);
    CHECK_EQ(std::string(buf, 15), "gather-into-one");
}

SCENARIO(udp_zero_length_datagram)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb, SOCK_NONBLOCK));
    ufd a(udp_client(AF_INET, pb));
    REQUIRE(a.valid() && b.valid());
    char c = 'x';
    CHECK_EQ(send(a, &c, 0, 0), 0);
    // An empty datagram is still a datagram: readable, and read as 0 bytes.
    CHECK_EVENTS(await_events(b, EPOLLIN | EPOLLOUT, EPOLLIN), EPOLLIN | EPOLLOUT);
    char buf[4];
    sock_addr from;
    from.len = sizeof from.ss;
    CHECK_EQ(recvfrom(b, buf, sizeof buf, 0, from.sa(), &from.len), 0);
    CHECK_EQ(addr_str(from), sock_name(a));
    CHECK_ERR(recv(b, buf, sizeof buf, 0), EAGAIN);
    CHECK_EVENTS(epoll_mask(b, EPOLLIN | EPOLLOUT), EPOLLOUT);
}

SCENARIO(udp_fionread_reports_next_datagram_size)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb));
    ufd a(udp_client(AF_INET, pb));
    REQUIRE(a.valid() && b.valid());
    int q = -1;
    CHECK_EQ(ioctl(b, FIONREAD, &q), 0);
    CHECK_EQ(q, 0);
    CHECK_EQ(send(a, "abc", 3, 0), 3);
    CHECK_EQ(send(a, "defghij", 7, 0), 7);
    // Only the first datagram counts, not everything queued.
    REQUIRE(await_datagram(b));
    CHECK_EQ(ioctl(b, FIONREAD, &q), 0);
    CHECK_EQ(q, 3);
    char buf[16];
    CHECK_EQ(recv(b, buf, sizeof buf, 0), 3);
    REQUIRE(await_datagram(b));
    CHECK_EQ(ioctl(b, FIONREAD, &q), 0);
    CHECK_EQ(q, 7);
}

SCENARIO(udp_epoll_epollout_always_epollin_on_arrival)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb, SOCK_NONBLOCK));
    REQUIRE(b.valid());
    ufd a(udp_client(AF_INET, pb, SOCK_NONBLOCK));
    REQUIRE(a.valid());
    ufd fresh(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, fresh, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 0));
    CHECK(ep_add(ep, a, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 1));
    CHECK(ep_add(ep, b, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 2));
    epoll_event out[3];
    // Unbound, connected or bound, an idle UDP socket is writable and
    // nothing else.
    CHECK_EQ(epoll_wait(ep, out, 3, 0), 3);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
    CHECK_EVENTS(out[1].events, EPOLLOUT);
    CHECK_EVENTS(out[2].events, EPOLLOUT);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, fresh, nullptr), 0);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, a, nullptr), 0);
    CHECK_EQ(send(a, "d1", 2, 0), 2);
    CHECK_EVENTS(await_events(b, EPOLLIN | EPOLLOUT | EPOLLRDHUP, EPOLLIN), EPOLLIN | EPOLLOUT);
    CHECK_EQ(epoll_wait(ep, out, 3, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLOUT);
    CHECK_EQ(out[0].data.u64, 2u);
    char buf[4];
    CHECK_EQ(recv(b, buf, sizeof buf, 0), 2);
    CHECK_EQ(epoll_wait(ep, out, 3, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
}

SCENARIO(udp_epoll_et_epollin_per_datagram)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb, SOCK_NONBLOCK));
    ufd a(udp_client(AF_INET, pb));
    REQUIRE(a.valid() && b.valid());
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, b, EPOLLIN | EPOLLET, 1));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    CHECK_EQ(send(a, "1", 1, 0), 1);
    CHECK_EQ(epoll_wait(ep, out, 1, 2000), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(epoll_wait(ep, out, 1, 50), 0);
    CHECK_EQ(send(a, "2", 1, 0), 1);
    CHECK_EQ(epoll_wait(ep, out, 1, 2000), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
}

SCENARIO(udp_connected_send_to_closed_port_econnrefused)
{
    // A port with nobody on it: bind, note the port, close.
    uint16_t dead = 0;
    {
        ufd tmp(udp_bound(AF_INET, &dead));
        REQUIRE(tmp.valid());
    }
    ufd a(udp_client(AF_INET, dead, SOCK_NONBLOCK));
    REQUIRE(a.valid());
    CHECK_EQ(send(a, "anyone?", 7, 0), 7);
    // The ICMP port unreachable comes back as a pending error.
    CHECK_EVENTS(await_events(a, EPOLLIN | EPOLLOUT, EPOLLERR), EPOLLOUT | EPOLLERR);
    char buf[8];
    CHECK_ERR(recv(a, buf, sizeof buf, 0), ECONNREFUSED);
    CHECK_ERR(recv(a, buf, sizeof buf, 0), EAGAIN);
    CHECK_EVENTS(epoll_mask(a, EPOLLIN | EPOLLOUT), EPOLLOUT);
}

SCENARIO(udp_bind_same_port_eaddrinuse)
{
    // The port comes from a TCP bind, so it is one no TCP socket of this process holds (an
    // ephemeral UDP port could be one that an earlier scenario's TCP connection still holds in
    // TIME-WAIT): UDP may use the same number, a second UDP socket may not.
    ufd t(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    sockaddr_in sin = inet_sockaddr(0);
    REQUIRE(bind(t, reinterpret_cast<sockaddr*>(&sin), sizeof sin) == 0);
    socklen_t len = sizeof sin;
    REQUIRE(getsockname(t, reinterpret_cast<sockaddr*>(&sin), &len) == 0);
    ufd b(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    CHECK_EQ(bind(b, reinterpret_cast<sockaddr*>(&sin), sizeof sin), 0);
    ufd c(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    CHECK_ERR(bind(c, reinterpret_cast<sockaddr*>(&sin), sizeof sin), EADDRINUSE);
}

SCENARIO(udp_shutdown_unconnected_enotconn)
{
    ufd u(udp_bound(AF_INET, nullptr));
    REQUIRE(u.valid());
    CHECK_ERR(shutdown(u, SHUT_RDWR), ENOTCONN);
    CHECK_ERR(shutdown(u, 7), EINVAL);
}

// recv(MSG_ERRQUEUE) reads the error queue only (udp_recvmsg() -> ip_recv_error()): empty, it
// is EAGAIN at once even on a blocking socket, and the queued datagram stays for a plain read.
SCENARIO(udp_msg_errqueue_empty_eagain)
{
    uint16_t pb = 0;
    ufd b(udp_bound(AF_INET, &pb));
    REQUIRE(b.valid());
    ufd a(CHECK_OK(socket(AF_INET, SOCK_DGRAM, 0)));
    CHECK_EQ(set_int_opt(b, IPPROTO_IP, IP_RECVERR, 1), 0);
    CHECK_EQ(send_to(a, "ping", 4, pb), 4);
    REQUIRE(await_datagram(b));
    char buf[8] = {};
    CHECK_ERR(recv(b, buf, sizeof buf, MSG_ERRQUEUE), EAGAIN);
    CHECK_EQ(recv(b, buf, sizeof buf, MSG_DONTWAIT), 4);
    CHECK_EQ(std::string(buf, 4), "ping");
}
