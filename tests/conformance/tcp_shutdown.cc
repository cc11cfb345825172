// TCP shutdown() and resets. shutdown(SHUT_WR) sends a FIN (the peer reads
// EOF, further sends are EPIPE and raise SIGPIPE unless MSG_NOSIGNAL);
// SHUT_RD makes reads return 0; an unconnected socket is ENOTCONN and a bad
// `how` EINVAL. A reset (close with SO_LINGER {1, 0}, close with unread data,
// a listener closed with a queued connection, data sent to a closed peer)
// sets sk_err: the peer's mask gains EPOLLERR|EPOLLHUP (and, the socket now
// in CLOSE with both directions shut, EPOLLIN|EPOLLOUT|EPOLLRDHUP), the
// error is returned once (ECONNRESET in ESTABLISHED, EPIPE in CLOSE_WAIT),
// then reads see EOF and writes EPIPE. Follows net/ipv4/af_inet.c:
// inet_shutdown(); net/ipv4/tcp.c: tcp_shutdown(), __tcp_close() (RST when
// unread data is discarded or SO_LINGER has a zero timeout), tcp_poll();
// net/ipv4/tcp_input.c: tcp_reset(), tcp_fin(); net/core/stream.c:
// sk_stream_error(); shutdown(2), socket(7) SO_LINGER.
#include "harness.h"

#include <netinet/in.h>

#include <atomic>

using namespace conf;

namespace {

std::atomic<int> g_sigpipes{0};
void on_sigpipe(int) { g_sigpipes++; }

constexpr uint32_t kAll = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
constexpr uint32_t kReset = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLERR | EPOLLHUP;
constexpr uint32_t kClosed = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP;

int abort_close(ufd& fd)
{
    linger lg{1, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == -1)
        return -1;
    return fd.close();
}

}  // namespace

SCENARIO(tcp_shutdown_wr_peer_reads_eof)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(send(p.a, "final", 5, 0), 5);
    CHECK_EQ(shutdown(p.a, SHUT_WR), 0);
    char buf[8] = {};
    CHECK_EQ(recv_exact(p.b, buf, sizeof buf), 5);
    CHECK_EQ(std::string(buf, 5), "final");
    CHECK_EQ(recv(p.b, buf, sizeof buf, 0), 0);
    // Half-close: the other direction still carries data.
    CHECK_EQ(send(p.b, "reply", 5, 0), 5);
    CHECK_EQ(recv_exact(p.a, buf, 5), 5);
    CHECK_EQ(std::string(buf, 5), "reply");
}

SCENARIO(tcp_write_after_shutdown_wr_epipe)
{
    scoped_sigaction sa(SIGPIPE, on_sigpipe, 0);
    g_sigpipes = 0;
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(shutdown(p.a, SHUT_WR), 0);
    CHECK_ERR(send(p.a, "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EQ(g_sigpipes.load(), 0);
    CHECK_ERR(write(p.a, "x", 1), EPIPE);
    CHECK_EQ(g_sigpipes.load(), 1);
    CHECK_ERR(send(p.a, "x", 1, 0), EPIPE);
    CHECK_EQ(g_sigpipes.load(), 2);
    // The socket itself is fine: no pending error.
    CHECK_EQ(get_int_opt(p.a, SOL_SOCKET, SO_ERROR), 0);
}

SCENARIO(tcp_shutdown_rd_read_returns_zero)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(shutdown(p.a, SHUT_RD), 0);
    char buf[4];
    CHECK_EQ(recv(p.a, buf, sizeof buf, 0), 0);
    CHECK_EQ(read(p.a, buf, sizeof buf), 0);
    // Sending is unaffected.
    CHECK_EQ(send(p.a, "ok", 2, 0), 2);
    CHECK_EQ(recv_exact(p.b, buf, 2), 2);
    CHECK_EQ(std::string(buf, 2), "ok");
}

SCENARIO(tcp_shutdown_rdwr_then_read_eof_write_epipe)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(shutdown(p.a, SHUT_RDWR), 0);
    char buf[4];
    CHECK_EQ(recv(p.a, buf, sizeof buf, 0), 0);
    CHECK_ERR(send(p.a, "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EQ(recv_exact(p.b, buf, sizeof buf), 0);
    // Shutting down again is allowed.
    CHECK_EQ(shutdown(p.a, SHUT_RDWR), 0);
    CHECK_EQ(shutdown(p.a, SHUT_WR), 0);
}

SCENARIO(tcp_shutdown_unconnected_enotconn)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_ERR(shutdown(s, SHUT_WR), ENOTCONN);
    CHECK_ERR(shutdown(s, SHUT_RD), ENOTCONN);
    CHECK_ERR(shutdown(s, SHUT_RDWR), ENOTCONN);
    ufd b(tcp_closed_port(AF_INET, nullptr));
    REQUIRE(b.valid());
    CHECK_ERR(shutdown(b, SHUT_RDWR), ENOTCONN);
}

SCENARIO(tcp_shutdown_bad_how_einval)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_ERR(shutdown(p.a, 3), EINVAL);
    CHECK_ERR(shutdown(p.a, -1), EINVAL);
    CHECK_ERR(shutdown(p.a, 100), EINVAL);
    // `how` is checked before the state: an unconnected socket says EINVAL too.
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM, 0)));
    CHECK_ERR(shutdown(s, 3), EINVAL);
    // Nothing was shut down by the failed calls.
    CHECK_EQ(send(p.a, "x", 1, 0), 1);
    char c;
    CHECK_EQ(recv_exact(p.b, &c, 1), 1);
    CHECK_ERR(shutdown(-1, SHUT_RDWR), EBADF);
}

SCENARIO(tcp_linger_zero_close_peer_recv_econnreset)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EQ(abort_close(p.a), 0);
    CHECK_EVENTS(await_events(p.b, kAll, EPOLLERR), kReset);
    char buf[4];
    CHECK_ERR(recv(p.b, buf, sizeof buf, 0), ECONNRESET);
    // The error is reported once; then the socket is simply closed.
    CHECK_EQ(recv(p.b, buf, sizeof buf, 0), 0);
    CHECK_EVENTS(epoll_mask(p.b, kAll), kClosed);
    CHECK_ERR(send(p.b, "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EQ(get_int_opt(p.b, SOL_SOCKET, SO_ERROR), 0);
}

SCENARIO(tcp_linger_zero_close_peer_mask_in_epoll)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, p.b, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, 9));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
    CHECK_EQ(abort_close(p.a), 0);
    CHECK_EQ(epoll_wait(ep, out, 1, 2000), 1);
    CHECK_EVENTS(out[0].events, kReset);
    // Only EPOLLOUT asked for: EPOLLERR and EPOLLHUP come anyway.
    CHECK_EVENTS(epoll_mask(p.b, EPOLLOUT), EPOLLOUT | EPOLLERR | EPOLLHUP);
    CHECK_EVENTS(epoll_mask(p.b, 0), EPOLLERR | EPOLLHUP);
}

SCENARIO(tcp_rst_so_error_reports_econnreset_once)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EQ(abort_close(p.b), 0);
    CHECK_EVENTS(await_events(p.a, kAll, EPOLLERR), kReset);
    CHECK_EQ(get_int_opt(p.a, SOL_SOCKET, SO_ERROR), ECONNRESET);
    CHECK_EQ(get_int_opt(p.a, SOL_SOCKET, SO_ERROR), 0);
    CHECK_EVENTS(epoll_mask(p.a, kAll), kClosed);
    char c;
    CHECK_EQ(recv(p.a, &c, 1, 0), 0);
}

SCENARIO(tcp_rst_reported_by_send_first)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EQ(abort_close(p.b), 0);
    CHECK_EVENTS(await_events(p.a, kAll, EPOLLERR), kReset);
    // send consumes the pending error, then it is a plain EPIPE.
    CHECK_ERR(send(p.a, "x", 1, MSG_NOSIGNAL), ECONNRESET);
    CHECK_ERR(send(p.a, "x", 1, MSG_NOSIGNAL), EPIPE);
    char c;
    CHECK_EQ(recv(p.a, &c, 1, 0), 0);
}

SCENARIO(tcp_linger_zero_discards_unsent_data)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EQ(send(p.a, "early", 5, 0), 5);
    char buf[8];
    CHECK_EQ(recv_exact(p.b, buf, 5), 5);
    CHECK_EQ(abort_close(p.a), 0);
    CHECK_EVENTS(await_events(p.b, kAll, EPOLLERR), kReset);
    CHECK_ERR(recv(p.b, buf, sizeof buf, 0), ECONNRESET);
}

SCENARIO(tcp_close_with_unread_data_sends_rst)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EQ(send(p.a, "unread", 6, 0), 6);
    CHECK(wait_until(
        [&] {
            int q = 0;
            return ioctl(p.b, FIONREAD, &q) == 0 && q == 6;
        },
        2000));
    CHECK_EQ(p.b.close(), 0);
    CHECK_EVENTS(await_events(p.a, kAll, EPOLLERR), kReset);
    char c;
    CHECK_ERR(recv(p.a, &c, 1, 0), ECONNRESET);
}

SCENARIO(tcp_write_after_peer_close_eventually_epipe)
{
    scoped_sigaction sa(SIGPIPE, on_sigpipe, 0);
    g_sigpipes = 0;
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EQ(p.b.close(), 0);
    CHECK_EVENTS(await_events(p.a, kAll, EPOLLRDHUP), EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    // The FIN only said the peer sends no more; this write is accepted, and
    // the closed peer answers it with a reset.
    CHECK_EQ(send(p.a, "x", 1, MSG_NOSIGNAL), 1);
    CHECK_EVENTS(await_events(p.a, kAll, EPOLLERR), kReset);
    // Reset in CLOSE_WAIT is recorded as EPIPE.
    CHECK_ERR(send(p.a, "y", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_ERR(send(p.a, "y", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_EQ(g_sigpipes.load(), 0);
    CHECK_ERR(write(p.a, "y", 1), EPIPE);
    CHECK_EQ(g_sigpipes.load(), 1);
    char c;
    CHECK_EQ(recv(p.a, &c, 1, 0), 0);
    CHECK_EVENTS(epoll_mask(p.a, kAll), kClosed);
}

// SO_LINGER with a time: close() waits, on a nonblocking socket as well, until the FIN is
// acknowledged or the time is up, and returns 0 either way; the connection then goes on
// without the socket (__tcp_close()'s sk_stream_wait_close(), inet_release()).
SCENARIO(tcp_close_lingers_until_fin_acked)
{
    char buf[4096] = {};
    // A peer that takes the data acknowledges the FIN at once: close returns quickly.
    {
        fd_pair p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
        REQUIRE(p.a.valid());
        CHECK_EQ(send(p.a, buf, 1000, 0), 1000);
        linger lg{1, 5};
        CHECK_EQ(setsockopt(p.a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
        double t0 = now_ms();
        CHECK_EQ(p.a.close(), 0);
        CHECK(now_ms() - t0 < 1000);
        CHECK_EQ(recv_exact(p.b, buf, 1000), 1000);
        CHECK_EVENTS(await_events(p.b, EPOLLIN | EPOLLRDHUP, EPOLLRDHUP), EPOLLIN | EPOLLRDHUP);
        CHECK_EQ(recv(p.b, buf, 1, 0), 0);
    }
    // A peer that reads nothing, with its small window full and our send buffer too: the FIN
    // cannot go, and close returns when the second of lingering is up.
    {
        uint16_t port = 0;
        ufd l(CHECK_OK(tcp_listener(AF_INET, 4, &port)));
        int small = 4096;
        CHECK_EQ(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
        ufd a(CHECK_OK(tcp_connect_to(AF_INET, port, SOCK_NONBLOCK)));
        CHECK_EQ(setsockopt(a, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
        ufd s(CHECK_OK(tcp_accept(l, SOCK_NONBLOCK)));
        size_t queued = 0;
        for (int round = 0; round < 4; ++round) {  // until both buffers stay full
            for (int i = 0; i < 10000; ++i) {
                ssize_t n = send(a, buf, sizeof buf, 0);
                if (n <= 0) {
                    CHECK_EQ(errno, EAGAIN);
                    break;
                }
                queued += static_cast<size_t>(n);
            }
            usleep(50000);
        }
        CHECK(queued > 0);
        linger lg{1, 1};
        CHECK_EQ(setsockopt(a, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
        double t0 = now_ms();
        CHECK_EQ(a.close(), 0);
        double took = now_ms() - t0;
        CHECK(took >= 900);
        CHECK(took < 3000);
    }
}
