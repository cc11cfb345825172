// AF_UNIX SOCK_STREAM socketpairs: creation flags, exact poll masks (a
// connected idle socket is EPOLLOUT|EPOLLWRNORM|EPOLLWRBAND; a peer close adds
// EPOLLIN|EPOLLRDNORM|EPOLLRDHUP|EPOLLHUP; a peer that closes with unread data
// also sets ECONNRESET, seen as EPOLLERR and returned once by read), stream
// semantics, send-buffer exhaustion, shutdown in either direction, EPIPE /
// SIGPIPE / MSG_NOSIGNAL and FIONREAD. Follows net/unix/af_unix.c:
// unix_socketpair(), unix_poll(), unix_writable(), unix_release_sock() (sets
// the peer's sk_shutdown = SHUTDOWN_MASK and sk_err = ECONNRESET if data was
// left unread), unix_shutdown(), unix_stream_sendmsg(),
// unix_stream_read_generic(), and unix(7) / socketpair(2).
#include "harness.h"

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <vector>

using namespace conf;

namespace {

std::atomic<int> g_sigpipes{0};
void on_sigpipe(int) { g_sigpipes++; }

constexpr short kAllPoll = POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLRDBAND | POLLWRNORM |
                           POLLWRBAND | POLLRDHUP;

short poll_mask(int fd, short events = kAllPoll)
{
    pollfd p{fd, events, 0};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

constexpr short kIdle = POLLOUT | POLLWRNORM | POLLWRBAND;

}  // namespace

SCENARIO(socketpair_flags_visible)
{
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC);
    for (int fd : {s.a.get(), s.b.get()}) {
        CHECK_EQ(fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK);
        CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
    }
    auto t = make_socketpair(SOCK_STREAM);
    CHECK_EQ(fcntl(t.a, F_GETFL), O_RDWR);
    CHECK_EQ(fcntl(t.a, F_GETFD), 0);
    CHECK_LT(t.a.get(), t.b.get());
}

SCENARIO(socketpair_bad_arguments)
{
    int sv[2] = {-1, -1};
    CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM | 0x100, 0, sv), EINVAL);
    // Bad type flags are rejected before anything is written back.
    CHECK_EQ(sv[0], -1);
    CHECK_EQ(sv[1], -1);
    // __sys_socketpair() reserves both fds and stores their numbers in sv
    // before creating the sockets, so a later failure leaves two numbers
    // that are not open descriptors.
    CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 1234, sv), EPROTONOSUPPORT);
    CHECK_GE(sv[0], 0);
    CHECK_GT(sv[1], sv[0]);
    CHECK_ERR(fcntl(sv[0], F_GETFD), EBADF);
    CHECK_ERR(fcntl(sv[1], F_GETFD), EBADF);
}

SCENARIO(socketpair_initial_masks)
{
    auto s = make_socketpair();
    CHECK_EVENTS(poll_mask(s.a), kIdle);
    CHECK_EVENTS(poll_mask(s.b), kIdle);
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, s.a, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI, 1));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
    CHECK_EQ(write(s.b, "x", 1), 1);
    CHECK_EVENTS(poll_mask(s.a), kIdle | POLLIN | POLLRDNORM);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLOUT);
}

SCENARIO(socketpair_stream_data_both_ways)
{
    auto s = make_socketpair();
    CHECK_EQ(write(s.a, "abc", 3), 3);
    CHECK_EQ(write(s.a, "def", 3), 3);
    CHECK_EQ(write(s.b, "XY", 2), 2);
    char buf[16] = {};
    // Stream: both writes come back in one read.
    CHECK_EQ(read(s.b, buf, sizeof buf), 6);
    CHECK_EQ(std::string(buf, 6), "abcdef");
    CHECK_EQ(read(s.a, buf, sizeof buf), 2);
    CHECK_EQ(std::string(buf, 2), "XY");
    CHECK_EQ(write(s.a, "12345", 5), 5);
    CHECK_EQ(read(s.b, buf, 2), 2);
    CHECK_EQ(read(s.b, buf, sizeof buf), 3);
    CHECK_EQ(std::string(buf, 3), "345");
}

SCENARIO(socketpair_nonblocking_empty_read_eagain)
{
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    char c;
    CHECK_ERR(read(s.a, &c, 1), EAGAIN);
    CHECK_ERR(recv(s.a, &c, 1, 0), EAGAIN);
    auto t = make_socketpair();
    CHECK_ERR(recv(t.a, &c, 1, MSG_DONTWAIT), EAGAIN);
}

SCENARIO(socketpair_fill_until_eagain_then_epollout_after_drain)
{
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, s.a, EPOLLOUT, 1));
    static char chunk[4096];
    long total = 0;
    int i = 0;
    for (; i < 100000; i++) {
        ssize_t r = write(s.a, chunk, sizeof chunk);
        if (r < 0) {
            CHECK_EQ(errno, EAGAIN);
            break;
        }
        total += r;
    }
    CHECK_LT(i, 100000);
    CHECK_GE(total, 16384);
    CHECK_LE(total, 64L << 20);
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    CHECK_EQ(poll_mask(s.a, POLLOUT), 0);
    int n = -1;
    CHECK_EQ(ioctl(s.b, FIONREAD, &n), 0);
    CHECK_EQ(n, total);
    long drained = 0;
    for (int k = 0; k < 100000 && drained < total; k++) {
        ssize_t r = read(s.b, chunk, sizeof chunk);
        if (r <= 0)
            break;
        drained += r;
    }
    CHECK_EQ(drained, total);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
}

SCENARIO(socketpair_peer_close_masks)
{
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, s.a, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 1));
    CHECK_EQ(s.b.close(), 0);
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
    CHECK_EVENTS(poll_mask(s.a), kIdle | POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP);
    char c;
    CHECK_EQ(read(s.a, &c, 1), 0);
    CHECK_EQ(read(s.a, &c, 1), 0);
}

SCENARIO(socketpair_write_after_peer_close_epipe)
{
    scoped_sigaction sa(SIGPIPE, on_sigpipe, 0);
    g_sigpipes = 0;
    auto s = make_socketpair();
    CHECK_EQ(s.b.close(), 0);
    CHECK_ERR(write(s.a, "x", 1), EPIPE);
    CHECK_EQ(g_sigpipes.load(), 1);
    CHECK_ERR(send(s.a, "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EQ(g_sigpipes.load(), 1);
    CHECK_ERR(send(s.a, "x", 1, 0), EPIPE);
    CHECK_EQ(g_sigpipes.load(), 2);
}

SCENARIO(socketpair_close_with_unread_data_econnreset)
{
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    CHECK_EQ(write(s.a, "unread", 6), 6);
    CHECK_EQ(s.b.close(), 0);
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, s.a, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 1));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP | EPOLLERR);
    // The pending error is reported by the next read, once, then EOF.
    char c;
    CHECK_ERR(read(s.a, &c, 1), ECONNRESET);
    CHECK_EQ(read(s.a, &c, 1), 0);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
}

SCENARIO(socketpair_close_with_unread_data_write_sees_epipe)
{
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    CHECK_EQ(write(s.a, "unread", 6), 6);
    CHECK_EQ(s.b.close(), 0);
    // sendmsg does not consume sk_err: EPIPE, and the reset is still there.
    CHECK_ERR(send(s.a, "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EVENTS(poll_mask(s.a), kIdle | POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP | POLLERR);
    char c;
    CHECK_ERR(read(s.a, &c, 1), ECONNRESET);
}

SCENARIO(socketpair_shutdown_wr)
{
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    CHECK_EQ(write(s.b, "last", 4), 4);
    CHECK_EQ(shutdown(s.b, SHUT_WR), 0);
    CHECK_EVENTS(poll_mask(s.a), kIdle | POLLIN | POLLRDNORM | POLLRDHUP);
    CHECK_EVENTS(poll_mask(s.b), kIdle);
    char buf[8];
    CHECK_EQ(read(s.a, buf, sizeof buf), 4);
    CHECK_EQ(read(s.a, buf, sizeof buf), 0);
    CHECK_ERR(send(s.b, "x", 1, MSG_NOSIGNAL), EPIPE);
    // The other direction still works.
    CHECK_EQ(write(s.a, "back", 4), 4);
    CHECK_EQ(read(s.b, buf, sizeof buf), 4);
    // Shutting down the other direction too makes both sides hung up.
    CHECK_EQ(shutdown(s.a, SHUT_WR), 0);
    CHECK_EVENTS(poll_mask(s.a), kIdle | POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP);
    CHECK_EVENTS(poll_mask(s.b), kIdle | POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP);
}

SCENARIO(socketpair_shutdown_rd)
{
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    CHECK_EQ(shutdown(s.a, SHUT_RD), 0);
    CHECK_EVENTS(poll_mask(s.a), kIdle | POLLIN | POLLRDNORM | POLLRDHUP);
    char c;
    CHECK_EQ(read(s.a, &c, 1), 0);
    // The peer can no longer send.
    CHECK_ERR(send(s.b, "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EVENTS(poll_mask(s.b), kIdle);
}

SCENARIO(socketpair_shutdown_rdwr_and_bad_how)
{
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    CHECK_ERR(shutdown(s.a, 3), EINVAL);
    CHECK_ERR(shutdown(s.a, -1), EINVAL);
    CHECK_EQ(shutdown(s.a, SHUT_RDWR), 0);
    const short hup = kIdle | POLLIN | POLLRDNORM | POLLRDHUP | POLLHUP;
    CHECK_EVENTS(poll_mask(s.a), hup);
    CHECK_EVENTS(poll_mask(s.b), hup);
    // Shutting down again is allowed.
    CHECK_EQ(shutdown(s.a, SHUT_RDWR), 0);
    auto p = make_pipe();
    CHECK_ERR(shutdown(p.a, SHUT_RDWR), ENOTSOCK);
}

SCENARIO(socketpair_fionread)
{
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    int n = -1;
    CHECK_EQ(ioctl(s.a, FIONREAD, &n), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(write(s.b, "abc", 3), 3);
    CHECK_EQ(write(s.b, "defg", 4), 4);
    CHECK_EQ(ioctl(s.a, FIONREAD, &n), 0);
    CHECK_EQ(n, 7);
    char buf[4];
    CHECK_EQ(read(s.a, buf, 2), 2);
    CHECK_EQ(ioctl(s.a, FIONREAD, &n), 0);
    CHECK_EQ(n, 5);
}

SCENARIO(socketpair_blocking_read_woken_by_peer)
{
    auto s = make_socketpair();
    std::atomic<ssize_t> rc{-2};
    bg_thread t([&] {
        char buf[8];
        rc = read(s.a, buf, sizeof buf);
    });
    sleep_ms(100);
    CHECK(!t.done());
    CHECK_EQ(write(s.b, "wake", 4), 4);
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 4);
}

SCENARIO(socketpair_blocking_read_woken_by_peer_close)
{
    auto s = make_socketpair();
    std::atomic<ssize_t> rc{-2};
    bg_thread t([&] {
        char buf[8];
        rc = read(s.a, buf, sizeof buf);
    });
    sleep_ms(100);
    CHECK(!t.done());
    CHECK_EQ(s.b.close(), 0);
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 0);
}

SCENARIO(socketpair_epoll_rdhup_et)
{
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, s.a, EPOLLIN | EPOLLRDHUP | EPOLLET, 1));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    CHECK_EQ(write(s.b, "x", 1), 1);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(shutdown(s.b, SHUT_WR), 0);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLRDHUP);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    CHECK_EQ(s.b.close(), 0);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLRDHUP | EPOLLHUP);
}
