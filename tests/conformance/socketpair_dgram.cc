// AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET socketpairs: record boundaries, truncation
// (MSG_TRUNC in msg_flags, and as a recv flag the datagram's full length), MSG_PEEK, empty
// datagrams, FIONREAD (the first datagram for DGRAM, every queued byte for SEQPACKET),
// EMSGSIZE, send-buffer exhaustion and EPOLLOUT when the reader drains, what a close does to
// the other end (SEQPACKET: EOF and EPOLLHUP as a stream; DGRAM: nothing until the next send
// fails with ECONNREFUSED, then ENOTCONN, and the queue is dropped), shutdown, and the socket
// options a program asks (SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ERROR, SO_ACCEPTCONN).
// Follows net/unix/af_unix.c: unix_dgram_sendmsg(), unix_seqpacket_sendmsg(),
// unix_dgram_recvmsg(), unix_dgram_poll(), unix_release_sock(), unix_dgram_disconnected(),
// unix_shutdown(), unix_inq_len().
#include "harness.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <vector>

using namespace conf;

namespace {

std::atomic<int> g_sigpipes{0};
void on_sigpipe(int) { g_sigpipes++; }

constexpr short kAllPoll = POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM | POLLWRBAND | POLLRDHUP;
constexpr short kIdle = POLLOUT | POLLWRNORM | POLLWRBAND;
constexpr short kReadable = POLLIN | POLLRDNORM;

short poll_mask(int fd)
{
    pollfd p{fd, kAllPoll, 0};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

int int_opt(int fd, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, SOL_SOCKET, name, &v, &len) < 0)
        return -1000 - errno;
    return len == sizeof v ? v : -2000;
}

int inq(int fd)
{
    int n = -1;
    if (ioctl(fd, FIONREAD, &n) < 0)
        return -1000 - errno;
    return n;
}

// recvmsg into a buffer of `cap` bytes; returns the call's result and the message flags.
ssize_t recv_flags(int fd, char* buf, size_t cap, int flags, int* msg_flags)
{
    iovec iov{buf, cap};
    msghdr m{};
    m.msg_iov = &iov;
    m.msg_iovlen = 1;
    ssize_t n = recvmsg(fd, &m, flags);
    *msg_flags = m.msg_flags;
    return n;
}

}  // namespace

SCENARIO(socketpair_dgram_types_and_options)
{
    for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
        auto s = make_socketpair(type | SOCK_NONBLOCK | SOCK_CLOEXEC);
        CHECK_EQ(fcntl(s.a, F_GETFL), O_RDWR | O_NONBLOCK);
        CHECK_EQ(fcntl(s.b, F_GETFD), FD_CLOEXEC);
        CHECK_EQ(int_opt(s.a, SO_TYPE), type);
        CHECK_EQ(int_opt(s.a, SO_DOMAIN), AF_UNIX);
        CHECK_EQ(int_opt(s.a, SO_PROTOCOL), 0);
        CHECK_EQ(int_opt(s.a, SO_ERROR), 0);
        CHECK_EQ(int_opt(s.a, SO_ACCEPTCONN), 0);
        CHECK_EVENTS(poll_mask(s.a), kIdle);
        sockaddr_storage ss{};
        socklen_t len = sizeof ss;
        CHECK_OK(getsockname(s.a, reinterpret_cast<sockaddr*>(&ss), &len));
        CHECK_EQ(len, socklen_t(sizeof(sa_family_t)));
        CHECK_EQ(ss.ss_family, AF_UNIX);
        len = sizeof ss;
        CHECK_OK(getpeername(s.a, reinterpret_cast<sockaddr*>(&ss), &len));
        CHECK_EQ(len, socklen_t(sizeof(sa_family_t)));
    }
    auto t = make_socketpair(SOCK_STREAM);
    CHECK_EQ(int_opt(t.a, SO_TYPE), SOCK_STREAM);
    CHECK_EQ(int_opt(t.a, SO_DOMAIN), AF_UNIX);
    // unix_create() makes SOCK_RAW a SOCK_DGRAM.
    auto r = make_socketpair(SOCK_RAW);
    CHECK_EQ(int_opt(r.a, SO_TYPE), SOCK_DGRAM);
}

SCENARIO(socketpair_unix_socket_options)
{
    for (int type : {SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET}) {
        auto s = make_socketpair(type | SOCK_NONBLOCK);
        int one = 1, zero = 0;
        // Options any socket takes, though they do nothing here.
        for (int name : {SO_REUSEADDR, SO_KEEPALIVE, SO_BROADCAST}) {
            CHECK_EQ(int_opt(s.a, name), 0);
            CHECK_OK(setsockopt(s.a, SOL_SOCKET, name, &one, sizeof one));
            CHECK_EQ(int_opt(s.a, name), 1);
            CHECK_OK(setsockopt(s.a, SOL_SOCKET, name, &zero, sizeof zero));
            CHECK_EQ(int_opt(s.a, name), 0);
        }
        // Buffer sizes are doubled, with a floor.
        CHECK_EQ(int_opt(s.a, SO_SNDBUF), 212992);
        int v = 1;
        CHECK_OK(setsockopt(s.a, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
        CHECK_EQ(int_opt(s.a, SO_SNDBUF), 4608);
        v = 5000;
        CHECK_OK(setsockopt(s.a, SOL_SOCKET, SO_RCVBUF, &v, sizeof v));
        CHECK_EQ(int_opt(s.a, SO_RCVBUF), 10000);
        short tiny = 1;
        CHECK_ERR(setsockopt(s.a, SOL_SOCKET, SO_SNDBUF, &tiny, sizeof tiny), EINVAL);
        // Levels other than SOL_SOCKET: unix sockets have no options of their own.
        CHECK_ERR(setsockopt(s.a, IPPROTO_TCP, 1, &one, sizeof one), EOPNOTSUPP);
        socklen_t len = sizeof v;
        CHECK_ERR(getsockopt(s.a, IPPROTO_TCP, 1, &v, &len), EOPNOTSUPP);
        // A short length truncates the value.
        int big = -1;
        len = 1;
        CHECK_OK(getsockopt(s.a, SOL_SOCKET, SO_TYPE, &big, &len));
        CHECK_EQ(len, socklen_t(1));
    }
}

SCENARIO(socketpair_dgram_small_send_buffer)
{
    for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
        auto s = make_socketpair(type | SOCK_NONBLOCK);
        int v = 4096;
        CHECK_OK(setsockopt(s.a, SOL_SOCKET, SO_SNDBUF, &v, sizeof v));
        REQUIRE(int_opt(s.a, SO_SNDBUF) == 8192);
        std::vector<char> buf(8192, 'b');
        CHECK_ERR(send(s.a, buf.data(), 8161, 0), EMSGSIZE);
        CHECK_EQ(send(s.a, buf.data(), 8160, 0), 8160);
        // That one datagram's truesize fills the buffer: the next waits for room.
        CHECK_ERR(send(s.a, buf.data(), 1, 0), EAGAIN);
        CHECK_EQ(poll_mask(s.a) & POLLOUT, 0);
        CHECK_EQ(recv(s.b, buf.data(), buf.size(), 0), 8160);
        CHECK_EVENTS(poll_mask(s.a), kIdle);
        CHECK_EQ(send(s.a, buf.data(), 1, 0), 1);
    }
}

SCENARIO(socketpair_dgram_keeps_record_boundaries)
{
    for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
        auto s = make_socketpair(type | SOCK_NONBLOCK);
        CHECK_EQ(send(s.a, "one", 3, 0), 3);
        CHECK_EQ(send(s.a, "", 0, 0), 0);
        CHECK_EQ(write(s.a, "three!", 6), 6);
        CHECK_EVENTS(poll_mask(s.b), kIdle | kReadable);
        // FIONREAD: the next datagram's size for DGRAM, the whole queue for SEQPACKET.
        CHECK_EQ(inq(s.b), type == SOCK_DGRAM ? 3 : 9);
        char buf[64];
        CHECK_EQ(recv(s.b, buf, sizeof buf, 0), 3);
        CHECK_EQ(std::memcmp(buf, "one", 3), 0);
        CHECK_EQ(inq(s.b), type == SOCK_DGRAM ? 0 : 6);
        CHECK_EQ(recv(s.b, buf, sizeof buf, 0), 0);  // the empty datagram
        CHECK_EQ(read(s.b, buf, sizeof buf), 6);
        CHECK_EQ(std::memcmp(buf, "three!", 6), 0);
        CHECK_ERR(recv(s.b, buf, sizeof buf, 0), EAGAIN);
        CHECK_EVENTS(poll_mask(s.b), kIdle);
    }
}

SCENARIO(socketpair_dgram_truncates_and_peeks)
{
    for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
        auto s = make_socketpair(type | SOCK_NONBLOCK);
        CHECK_EQ(send(s.a, "0123456789", 10, 0), 10);
        CHECK_EQ(send(s.a, "abcdef", 6, 0), 6);
        char buf[64] = {};
        int mf = -1;
        CHECK_EQ(recv_flags(s.b, buf, 4, MSG_PEEK, &mf), 4);
        CHECK_EQ(mf, MSG_TRUNC);
        CHECK_EQ(std::memcmp(buf, "0123", 4), 0);
        CHECK_EQ(recv_flags(s.b, buf, sizeof buf, MSG_PEEK, &mf), 10);
        CHECK_EQ(mf, 0);
        // The rest of a truncated datagram is gone; MSG_TRUNC as a flag returns its length.
        CHECK_EQ(recv_flags(s.b, buf, 4, MSG_TRUNC, &mf), 10);
        CHECK_EQ(mf, MSG_TRUNC);
        CHECK_EQ(std::memcmp(buf, "0123", 4), 0);
        CHECK_EQ(recv_flags(s.b, buf, 2, 0, &mf), 2);
        CHECK_EQ(mf, MSG_TRUNC);
        CHECK_EQ(std::memcmp(buf, "ab", 2), 0);
        CHECK_ERR(recv(s.b, buf, sizeof buf, 0), EAGAIN);
        // MSG_WAITALL does not join datagrams.
        CHECK_EQ(send(s.a, "xy", 2, 0), 2);
        CHECK_EQ(send(s.a, "z", 1, 0), 1);
        CHECK_EQ(recv(s.b, buf, sizeof buf, MSG_WAITALL), 2);
        CHECK_EQ(recv(s.b, buf, sizeof buf, MSG_WAITALL), 1);
        // A gathered send is one datagram.
        iovec iov[2] = {{const_cast<char*>("ga"), 2}, {const_cast<char*>("ther"), 4}};
        CHECK_EQ(writev(s.a, iov, 2), 6);
        CHECK_EQ(recv(s.b, buf, sizeof buf, 0), 6);
        CHECK_EQ(std::memcmp(buf, "gather", 6), 0);
        // No sender address for an unbound peer.
        sockaddr_storage from{};
        socklen_t flen = sizeof from;
        CHECK_EQ(send(s.a, "q", 1, 0), 1);
        CHECK_EQ(recvfrom(s.b, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &flen), 1);
        CHECK_EQ(flen, socklen_t(0));
    }
}

SCENARIO(socketpair_dgram_too_large_and_oob)
{
    for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
        auto s = make_socketpair(type | SOCK_NONBLOCK);
        int sndbuf = int_opt(s.a, SO_SNDBUF);
        CHECK_GT(sndbuf, 0);
        std::vector<char> big(size_t(sndbuf) + 64, 'x');
        CHECK_ERR(send(s.a, big.data(), big.size(), 0), EMSGSIZE);
        CHECK_ERR(send(s.a, "x", 1, MSG_OOB), EOPNOTSUPP);
        char c;
        CHECK_ERR(recv(s.b, &c, 1, MSG_OOB), EOPNOTSUPP);
        // A datagram a little under the limit goes in one piece.
        CHECK_EQ(send(s.a, big.data(), 65536, 0), 65536);
        std::vector<char> in(70000);
        CHECK_EQ(recv(s.b, in.data(), in.size(), 0), 65536);
    }
}

SCENARIO(socketpair_dgram_send_buffer_fills_then_epollout)
{
    for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
        auto s = make_socketpair(type | SOCK_NONBLOCK);
        ufd ep(CHECK_OK(epoll_create1(0)));
        CHECK(ep_add(ep, s.a, EPOLLOUT | EPOLLET, 1));
        epoll_event ev[2];
        CHECK_EQ(ep_wait(ep, ev, 2, 0), 1);
        std::vector<char> chunk(4000, 'c');
        int sent = 0;
        while (sent < 10000 && send(s.a, chunk.data(), chunk.size(), 0) == ssize_t(chunk.size()))
            sent++;
        CHECK_EQ(errno, EAGAIN);
        CHECK_GT(sent, 10);
        CHECK_LT(sent, 200);
        CHECK_EQ(poll_mask(s.a) & POLLOUT, 0);
        CHECK_EQ(ep_wait(ep, ev, 2, 0), 0);
        // Reading one datagram is not enough room for writability (a quarter of sndbuf) ...
        char buf[4096];
        CHECK_EQ(recv(s.b, buf, sizeof buf, 0), 4000);
        // ... draining them all is.
        int got = 1;
        while (recv(s.b, buf, sizeof buf, 0) == 4000)
            got++;
        CHECK_EQ(got, sent);
        CHECK_EQ(ep_wait(ep, ev, 2, 0), 1);
        CHECK_EVENTS(ev[0].events, EPOLLOUT);
    }
}

SCENARIO(socketpair_dgram_blocking_reader_woken)
{
    for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
        auto s = make_socketpair(type);
        std::atomic<ssize_t> got{-2};
        char buf[16] = {};
        bg_thread reader([&] { got = recv(s.b, buf, sizeof buf, 0); });
        usleep(20000);
        CHECK_EQ(got.load(), -2);
        CHECK_EQ(send(s.a, "wake", 4, 0), 4);
        CHECK(reader.join_for(2000));
        CHECK_EQ(got.load(), 4);
    }
}

SCENARIO(socketpair_seqpacket_close_is_eof)
{
    scoped_sigaction pipe_handler(SIGPIPE, on_sigpipe, 0);
    auto s = make_socketpair(SOCK_SEQPACKET | SOCK_NONBLOCK);
    CHECK_EQ(send(s.a, "last", 4, 0), 4);
    s.a.reset();
    CHECK_EVENTS(poll_mask(s.b), kIdle | kReadable | POLLRDHUP | POLLHUP);
    char buf[16];
    CHECK_EQ(recv(s.b, buf, sizeof buf, 0), 4);
    CHECK_EQ(recv(s.b, buf, sizeof buf, 0), 0);
    CHECK_EQ(recv(s.b, buf, sizeof buf, 0), 0);
    CHECK_EQ(int_opt(s.b, SO_ERROR), 0);
    // EPIPE, but unlike a stream no SIGPIPE: unix_dgram_sendmsg() sends no signal.
    g_sigpipes = 0;
    CHECK_ERR(send(s.b, "x", 1, 0), EPIPE);
    CHECK_ERR(write(s.b, "x", 1), EPIPE);
    CHECK_EQ(g_sigpipes.load(), 0);
    // A close with unread data resets the other end; the reset is reported before the
    // datagrams still queued for it (unlike a stream's, which come first).
    auto t = make_socketpair(SOCK_SEQPACKET | SOCK_NONBLOCK);
    CHECK_EQ(send(t.b, "unread", 6, 0), 6);
    CHECK_EQ(send(t.a, "queued", 6, 0), 6);
    t.a.reset();
    CHECK_EVENTS(poll_mask(t.b), kIdle | kReadable | POLLRDHUP | POLLHUP | POLLERR);
    CHECK_ERR(recv(t.b, buf, sizeof buf, 0), ECONNRESET);
    CHECK_EQ(recv(t.b, buf, sizeof buf, 0), 6);
    CHECK_EQ(recv(t.b, buf, sizeof buf, 0), 0);
}

SCENARIO(socketpair_dgram_close_refuses_then_disconnects)
{
    scoped_sigaction pipe_handler(SIGPIPE, on_sigpipe, 0);
    g_sigpipes = 0;
    auto s = make_socketpair(SOCK_DGRAM | SOCK_NONBLOCK);
    CHECK_EQ(send(s.a, "for b", 5, 0), 5);
    CHECK_EQ(send(s.b, "for a", 5, 0), 5);
    s.a.reset();
    // The survivor learns nothing from the close itself: no HUP, its queue stays readable.
    CHECK_EVENTS(poll_mask(s.b), kIdle | kReadable);
    CHECK_EQ(inq(s.b), 5);
    // Its next send is refused, which disconnects it and drops what it had queued.
    CHECK_ERR(send(s.b, "x", 1, 0), ECONNREFUSED);
    CHECK_ERR(send(s.b, "x", 1, 0), ENOTCONN);
    char buf[16];
    CHECK_ERR(recv(s.b, buf, sizeof buf, 0), EAGAIN);
    CHECK_EVENTS(poll_mask(s.b), kIdle);
    CHECK_EQ(int_opt(s.b, SO_ERROR), 0);
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    CHECK_ERR(getpeername(s.b, reinterpret_cast<sockaddr*>(&ss), &len), ENOTCONN);
    CHECK_EQ(g_sigpipes.load(), 0);
}

SCENARIO(socketpair_dgram_shutdown)
{
    scoped_sigaction pipe_handler(SIGPIPE, on_sigpipe, 0);
    char buf[16];
    for (int type : {SOCK_DGRAM, SOCK_SEQPACKET}) {
        g_sigpipes = 0;
        auto s = make_socketpair(type | SOCK_NONBLOCK);
        CHECK_OK(shutdown(s.a, SHUT_WR));
        CHECK_EVENTS(poll_mask(s.a), kIdle);
        // Our own SEND_SHUTDOWN stops a send (EPIPE, no SIGPIPE) ...
        CHECK_ERR(send(s.a, "x", 1, 0), EPIPE);
        if (type == SOCK_SEQPACKET) {
            // ... and for SEQPACKET it is mirrored: the peer reads EOF.
            CHECK_EVENTS(poll_mask(s.b), kIdle | kReadable | POLLRDHUP);
            CHECK_EQ(recv(s.b, buf, sizeof buf, 0), 0);
        } else {
            // ... where a datagram peer is not told.
            CHECK_EVENTS(poll_mask(s.b), kIdle);
            CHECK_ERR(recv(s.b, buf, sizeof buf, 0), EAGAIN);
        }
        CHECK_OK(shutdown(s.a, SHUT_RD));
        CHECK_EVENTS(poll_mask(s.a), kIdle | kReadable | POLLRDHUP | POLLHUP);
        // Shut for reading and empty: EOF, except that a nonblocking DGRAM read says EAGAIN
        // (only SEQPACKET turns it into EOF in unix_dgram_recvmsg()).
        if (type == SOCK_SEQPACKET)
            CHECK_EQ(recv(s.a, buf, sizeof buf, 0), 0);
        else
            CHECK_ERR(recv(s.a, buf, sizeof buf, 0), EAGAIN);
        CHECK_OK(fcntl(s.a, F_SETFL, O_RDWR));
        CHECK_EQ(recv(s.a, buf, sizeof buf, 0), 0);  // a blocking one returns at once
        CHECK_ERR(shutdown(s.a, 7), EINVAL);
        CHECK_EQ(g_sigpipes.load(), 0);
    }
}

SCENARIO(socketpair_dgram_bad_calls)
{
    auto s = make_socketpair(SOCK_DGRAM | SOCK_NONBLOCK);
    CHECK_ERR(listen(s.a, 1), EOPNOTSUPP);
    CHECK_ERR(accept(s.a, nullptr, nullptr), EOPNOTSUPP);
    auto q = make_socketpair(SOCK_SEQPACKET | SOCK_NONBLOCK);
    CHECK_ERR(listen(q.a, 1), EINVAL);
    CHECK_ERR(accept(q.a, nullptr, nullptr), EINVAL);
    // A SEQPACKET pair ignores a destination; a DGRAM one sends to it, and there is none.
    sockaddr_un to{};
    to.sun_family = AF_UNIX;
    std::strcpy(to.sun_path + 1, "pollux-nowhere");
    socklen_t tolen = socklen_t(offsetof(sockaddr_un, sun_path) + 1 + std::strlen("pollux-nowhere"));
    CHECK_EQ(sendto(q.a, "s", 1, 0, reinterpret_cast<sockaddr*>(&to), tolen), 1);
    CHECK_ERR(sendto(s.a, "d", 1, 0, reinterpret_cast<sockaddr*>(&to), tolen), ECONNREFUSED);
}
