// Named AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET sockets: a datagram server bound to a path or
// an abstract name and its clients (sendto with and without a name of their own, connect,
// connect(AF_UNSPEC)), unix_may_send()'s EPERM, EPROTOTYPE across types, the receiver's queue
// limit (net.unix.max_dgram_qlen, 10 by default: the 11th datagram from a stranger waits or
// fails with EAGAIN), a dead server (ECONNREFUSED on the next send), and a SEQPACKET server
// that listens and accepts like a stream but keeps record boundaries. Follows
// net/unix/af_unix.c: unix_dgram_connect(), unix_dgram_sendmsg(), unix_dgram_recvmsg(),
// unix_dgram_disconnected(), unix_find_other(), unix_seqpacket_sendmsg().
#include "unix_named.h"

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <string>

using namespace conf;
using namespace conf::unix_named;

namespace {

std::string name_of(const sockaddr_un& sun, socklen_t len)
{
    if (len <= kFamilyLen)
        return "";
    return std::string(sun.sun_path, len - kFamilyLen);
}

int dgram(int flags = 0) { return socket(AF_UNIX, SOCK_DGRAM | flags, 0); }

}  // namespace

SCENARIO(unix_dgram_server_and_clients)
{
    sock_dir dir;
    unix_addr srv_addr = path_addr(dir.next());
    ufd srv(CHECK_OK(dgram(SOCK_NONBLOCK)));
    CHECK_OK(bind(srv, srv_addr.sa(), srv_addr.len));
    CHECK_EVENTS(poll_mask(srv), POLLOUT);

    // An unbound client: its datagrams come without a sender name.
    ufd anon(CHECK_OK(dgram(SOCK_NONBLOCK)));
    CHECK_EQ(sendto(anon, "hello", 5, 0, srv_addr.sa(), srv_addr.len), 5);
    // A bound client: recvfrom names it, and the server can answer there.
    unix_addr cli_addr = abstract_addr("dgram-cli");
    ufd cli(CHECK_OK(dgram(SOCK_NONBLOCK)));
    CHECK_OK(bind(cli, cli_addr.sa(), cli_addr.len));
    CHECK_EQ(sendto(cli, "world!", 6, 0, srv_addr.sa(), srv_addr.len), 6);
    CHECK_EVENTS(poll_mask(srv), POLLIN | POLLOUT);

    char buf[32];
    sockaddr_un from{};
    socklen_t flen = sizeof from;
    CHECK_EQ(recvfrom(srv, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen), 5);
    CHECK_EQ(flen, socklen_t(0));  // no name at all
    flen = sizeof from;
    CHECK_EQ(recvfrom(srv, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen), 6);
    CHECK_EQ(flen, cli_addr.len);
    CHECK_EQ(name_of(from, flen), name_of(cli_addr.sun, cli_addr.len));
    CHECK_EQ(sendto(srv, "reply", 5, 0, reinterpret_cast<sockaddr*>(&from), flen), 5);
    CHECK_EQ(recv(cli, buf, sizeof buf, 0), 5);
    CHECK_ERR(recv(srv, buf, sizeof buf, 0), EAGAIN);

    // Unconnected without a destination; nobody at a name; a stream at a name (abstract names
    // are looked up by type, so that is nobody too; a path's socket of another type is
    // EPROTOTYPE).
    CHECK_ERR(send(anon, "x", 1, 0), ENOTCONN);
    unix_addr nobody = abstract_addr("dgram-nobody");
    CHECK_ERR(sendto(anon, "x", 1, 0, nobody.sa(), nobody.len), ECONNREFUSED);
    unix_addr missing = path_addr(dir.next());
    CHECK_ERR(sendto(anon, "x", 1, 0, missing.sa(), missing.len), ENOENT);
    unix_addr stream_addr = abstract_addr("dgram-stream");
    ufd stream(listening_at(stream_addr));
    CHECK_ERR(sendto(anon, "x", 1, 0, stream_addr.sa(), stream_addr.len), ECONNREFUSED);
    CHECK_ERR(connect(anon, stream_addr.sa(), stream_addr.len), ECONNREFUSED);
    unix_addr stream_path = path_addr(dir.next());
    ufd stream2(listening_at(stream_path));
    CHECK_ERR(sendto(anon, "x", 1, 0, stream_path.sa(), stream_path.len), EPROTOTYPE);
    CHECK_ERR(connect(anon, stream_path.sa(), stream_path.len), EPROTOTYPE);
    // The same abstract name may be bound once per type.
    ufd twin(CHECK_OK(dgram()));
    CHECK_OK(bind(twin, stream_addr.sa(), stream_addr.len));
    ufd triplet(CHECK_OK(dgram()));
    CHECK_ERR(bind(triplet, stream_addr.sa(), stream_addr.len), EADDRINUSE);
    // A datagram socket neither listens nor accepts.
    CHECK_ERR(listen(srv, 4), EOPNOTSUPP);
    CHECK_ERR(accept(srv, nullptr, nullptr), EOPNOTSUPP);
}

SCENARIO(unix_dgram_connect_and_disconnect)
{
    unix_addr a_addr = abstract_addr("dgram-a");
    unix_addr b_addr = abstract_addr("dgram-b");
    ufd a(CHECK_OK(dgram(SOCK_NONBLOCK)));
    ufd b(CHECK_OK(dgram(SOCK_NONBLOCK)));
    CHECK_OK(bind(a, a_addr.sa(), a_addr.len));
    CHECK_OK(bind(b, b_addr.sa(), b_addr.len));
    CHECK_OK(connect(a, b_addr.sa(), b_addr.len));
    sockaddr_un peer{};
    socklen_t plen = sizeof peer;
    CHECK_OK(getpeername(a, reinterpret_cast<sockaddr*>(&peer), &plen));
    CHECK_EQ(name_of(peer, plen), name_of(b_addr.sun, b_addr.len));
    CHECK_EQ(send(a, "to b", 4, 0), 4);
    char buf[16];
    CHECK_EQ(recv(b, buf, sizeof buf, 0), 4);
    // b is not connected: a third socket may send to it, and b may answer anyone.
    ufd c(CHECK_OK(dgram(SOCK_NONBLOCK)));
    CHECK_EQ(sendto(c, "from c", 6, 0, b_addr.sa(), b_addr.len), 6);
    CHECK_EQ(recv(b, buf, sizeof buf, 0), 6);
    // a is connected to b: only b may send to it (unix_may_send()), and a third party may
    // not connect to it.
    CHECK_ERR(sendto(c, "x", 1, 0, a_addr.sa(), a_addr.len), EPERM);
    CHECK_ERR(connect(c, a_addr.sa(), a_addr.len), EPERM);
    CHECK_EQ(sendto(b, "ok", 2, 0, a_addr.sa(), a_addr.len), 2);
    CHECK_EQ(recv(a, buf, sizeof buf, 0), 2);
    // A sendto with a name on a connected datagram socket goes to that name.
    CHECK_EQ(sendto(a, "named", 5, 0, b_addr.sa(), b_addr.len), 5);
    CHECK_EQ(recv(b, buf, sizeof buf, 0), 5);
    // AF_UNSPEC disconnects.
    sockaddr unspec{};
    unspec.sa_family = AF_UNSPEC;
    CHECK_OK(connect(a, &unspec, sizeof unspec));
    plen = sizeof peer;
    CHECK_ERR(getpeername(a, reinterpret_cast<sockaddr*>(&peer), &plen), ENOTCONN);
    CHECK_ERR(send(a, "x", 1, 0), ENOTCONN);
    CHECK_EQ(sendto(c, "now", 3, 0, a_addr.sa(), a_addr.len), 3);
    CHECK_EQ(recv(a, buf, sizeof buf, 0), 3);
}

SCENARIO(unix_dgram_connected_pair_resets_on_reconnect)
{
    // Two sockets connected to each other: when one reconnects elsewhere with datagrams still
    // queued for it, they are dropped and the old peer gets ECONNRESET.
    unix_addr a_addr = abstract_addr("dgram-ra");
    unix_addr b_addr = abstract_addr("dgram-rb");
    unix_addr c_addr = abstract_addr("dgram-rc");
    ufd a(CHECK_OK(dgram(SOCK_NONBLOCK)));
    ufd b(CHECK_OK(dgram(SOCK_NONBLOCK)));
    ufd c(CHECK_OK(dgram(SOCK_NONBLOCK)));
    CHECK_OK(bind(a, a_addr.sa(), a_addr.len));
    CHECK_OK(bind(b, b_addr.sa(), b_addr.len));
    CHECK_OK(bind(c, c_addr.sa(), c_addr.len));
    CHECK_OK(connect(a, b_addr.sa(), b_addr.len));
    CHECK_OK(connect(b, a_addr.sa(), a_addr.len));
    CHECK_EQ(send(b, "lost", 4, 0), 4);
    CHECK_OK(connect(a, c_addr.sa(), c_addr.len));
    char buf[8];
    CHECK_ERR(recv(a, buf, sizeof buf, 0), EAGAIN);
    CHECK_EVENTS(poll_mask(b), POLLERR | POLLOUT);
    int err = 0;
    socklen_t len = sizeof err;
    CHECK_OK(getsockopt(b, SOL_SOCKET, SO_ERROR, &err, &len));
    CHECK_EQ(err, ECONNRESET);
}

SCENARIO(unix_dgram_receiver_queue_limit)
{
    unix_addr srv_addr = abstract_addr("dgram-full");
    ufd srv(CHECK_OK(dgram(SOCK_NONBLOCK)));
    CHECK_OK(bind(srv, srv_addr.sa(), srv_addr.len));
    ufd cli(CHECK_OK(dgram(SOCK_NONBLOCK)));
    int sent = 0;
    while (sent < 100 && sendto(cli, "q", 1, 0, srv_addr.sa(), srv_addr.len) == 1)
        sent++;
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(sent, 11);  // more than max_dgram_qlen (10) queued is full
    // A blocked sender is let through when the server reads.
    CHECK_OK(fcntl(cli, F_SETFL, O_RDWR));
    std::atomic<ssize_t> got{-2};
    bg_thread sender([&] { got = sendto(cli, "w", 1, 0, srv_addr.sa(), srv_addr.len); });
    usleep(30000);
    CHECK_EQ(got.load(), -2);
    char c;
    CHECK_EQ(recv(srv, &c, 1, 0), 1);
    CHECK(sender.join_for(2000));
    CHECK_EQ(got.load(), 1);
    // The server's own connected peer is not limited: connect the server back and it takes more.
    unix_addr cli_addr = abstract_addr("dgram-full-cli");
    CHECK_OK(bind(cli, cli_addr.sa(), cli_addr.len));
    CHECK_OK(connect(srv, cli_addr.sa(), cli_addr.len));
    CHECK_OK(fcntl(cli, F_SETFL, O_RDWR | O_NONBLOCK));
    CHECK_EQ(sendto(cli, "more", 4, 0, srv_addr.sa(), srv_addr.len), 4);
}

SCENARIO(unix_dgram_dead_server)
{
    unix_addr srv_addr = abstract_addr("dgram-dead");
    ufd srv(CHECK_OK(dgram(SOCK_NONBLOCK)));
    CHECK_OK(bind(srv, srv_addr.sa(), srv_addr.len));
    ufd cli(CHECK_OK(dgram(SOCK_NONBLOCK)));
    CHECK_OK(connect(cli, srv_addr.sa(), srv_addr.len));
    CHECK_EQ(send(cli, "1", 1, 0), 1);
    srv.reset();
    CHECK_ERR(send(cli, "2", 1, 0), ECONNREFUSED);
    CHECK_ERR(send(cli, "3", 1, 0), ENOTCONN);
    // The name went with it.
    CHECK_ERR(connect(cli, srv_addr.sa(), srv_addr.len), ECONNREFUSED);
}

SCENARIO(unix_seqpacket_server)
{
    sock_dir dir;
    unix_addr srv_addr = path_addr(dir.next());
    ufd srv(CHECK_OK(socket(AF_UNIX, SOCK_SEQPACKET, 0)));
    CHECK_ERR(listen(srv, 4), EINVAL);  // not bound yet
    CHECK_OK(bind(srv, srv_addr.sa(), srv_addr.len));
    CHECK_OK(listen(srv, 4));
    int on = -1;
    socklen_t len = sizeof on;
    CHECK_OK(getsockopt(srv, SOL_SOCKET, SO_ACCEPTCONN, &on, &len));
    CHECK_EQ(on, 1);
    ufd cli(CHECK_OK(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0)));
    CHECK_ERR(send(cli, "x", 1, 0), ENOTCONN);
    // Types must match.
    ufd wrong(CHECK_OK(socket(AF_UNIX, SOCK_STREAM, 0)));
    CHECK_ERR(connect(wrong, srv_addr.sa(), srv_addr.len), EPROTOTYPE);
    CHECK_OK(connect(cli, srv_addr.sa(), srv_addr.len));
    CHECK_EVENTS(poll_mask(srv), POLLIN);
    ufd conn(CHECK_OK(accept4(srv, nullptr, nullptr, SOCK_NONBLOCK)));
    len = sizeof on;
    CHECK_OK(getsockopt(conn, SOL_SOCKET, SO_TYPE, &on, &len));
    CHECK_EQ(on, SOCK_SEQPACKET);
    CHECK_EQ(send(cli, "first", 5, 0), 5);
    CHECK_EQ(send(cli, "second", 6, 0), 6);
    char buf[32];
    CHECK_EQ(recv(conn, buf, sizeof buf, 0), 5);
    CHECK_EQ(recv(conn, buf, sizeof buf, 0), 6);
    CHECK_EQ(send(conn, "answer", 6, 0), 6);
    CHECK_EQ(recv(cli, buf, 3, 0), 3);  // truncated: the rest is gone
    CHECK_ERR(recv(cli, buf, sizeof buf, 0), EAGAIN);
    cli.reset();
    CHECK_EVENTS(poll_mask(conn), POLLIN | POLLRDHUP | POLLHUP | POLLOUT);
    CHECK_EQ(recv(conn, buf, sizeof buf, 0), 0);
    CHECK_ERR(send(conn, "x", 1, 0), EPIPE);
}

// SO_PEERCRED: the process at the other end, as it was when the connection was made (here
// always this one), for socketpairs, listeners and stream or seqpacket connections; {0, -1, -1}
// for a socket with no such peer, a connected datagram socket included. A short length gets
// the start of the struct.
SCENARIO(unix_peer_credentials)
{
    auto creds = [](int fd) {
        ucred c;
        std::memset(&c, 0x55, sizeof c);
        socklen_t len = sizeof c;
        CHECK_OK(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c, &len));
        CHECK_EQ(len, socklen_t(sizeof c));
        return c;
    };
    auto is_us = [](const ucred& c) { return c.pid == getpid() && c.uid == getuid() && c.gid == getgid(); };
    auto is_nobody = [](const ucred& c) { return c.pid == 0 && c.uid == uid_t(-1) && c.gid == gid_t(-1); };
    for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
        auto s = make_socketpair(type);
        CHECK(is_us(creds(s.a)));
        CHECK(is_us(creds(s.b)));
    }
    for (int type : {SOCK_STREAM, SOCK_SEQPACKET}) {
        unix_addr a = abstract_addr("peercred");
        ufd l(CHECK_OK(socket(AF_UNIX, type, 0)));
        CHECK(is_nobody(creds(l)));
        CHECK_OK(bind(l, a.sa(), a.len));
        CHECK(is_nobody(creds(l)));
        CHECK_OK(listen(l, 4));
        CHECK(is_us(creds(l)));
        ufd c(CHECK_OK(socket(AF_UNIX, type, 0)));
        CHECK_OK(connect(c, a.sa(), a.len));
        CHECK(is_us(creds(c)));
        ufd s(CHECK_OK(accept(l, nullptr, nullptr)));
        CHECK(is_us(creds(s)));
    }
    unix_addr d_addr = abstract_addr("peercred-dgram");
    ufd srv(CHECK_OK(dgram()));
    CHECK_OK(bind(srv, d_addr.sa(), d_addr.len));
    ufd cli(CHECK_OK(dgram()));
    CHECK_OK(connect(cli, d_addr.sa(), d_addr.len));
    CHECK(is_nobody(creds(cli)));
    auto p = make_socketpair(SOCK_STREAM);
    int pid = 0;
    socklen_t len = sizeof pid;
    CHECK_OK(getsockopt(p.a, SOL_SOCKET, SO_PEERCRED, &pid, &len));
    CHECK_EQ(len, socklen_t(sizeof pid));
    CHECK_EQ(pid, getpid());
}
