// Exact epoll masks of TCP sockets through a connection's life: idle
// established (EPOLLOUT only), data queued (EPOLLIN|EPOLLOUT), the peer's
// FIN (adds EPOLLIN|EPOLLRDHUP), the socket's own SHUT_WR (still EPOLLOUT:
// a socket that cannot send any more is reported writable), both directions
// shut (adds EPOLLHUP), edge-triggered EPOLLIN once per arrival, and EPOLLOUT
// disappearing when the send buffer is full and coming back once the peer
// drains it. Everything the peer does arrives asynchronously (on the Pollux
// wire, too), so each mask is read after a bounded wait for its defining bit.
// Follows net/ipv4/tcp.c: tcp_poll() (EPOLLHUP when sk_shutdown ==
// SHUTDOWN_MASK or the state is CLOSE, EPOLLIN|EPOLLRDHUP on RCV_SHUTDOWN,
// EPOLLOUT when SEND_SHUTDOWN or sk_stream_is_writeable()), tcp_shutdown(),
// net/core/stream.c: sk_stream_write_space(); epoll(7).
#include "harness.h"

#include <netinet/in.h>

#include <vector>

using namespace conf;

namespace {

constexpr uint32_t kAll = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI;

}  // namespace

SCENARIO(tcp_epoll_fresh_connection_is_epollout_only)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, p.a, kAll, 1));
    CHECK(ep_add(ep, p.b, kAll, 2));
    epoll_event out[2];
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 2);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
    CHECK_EVENTS(out[1].events, EPOLLOUT);
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 2);
}

SCENARIO(tcp_epoll_after_peer_send_in_out)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, p.b, kAll, 2));
    CHECK_EQ(send(p.a, "data", 4, 0), 4);
    CHECK_EVENTS(await_events(p.b, kAll, EPOLLIN), EPOLLIN | EPOLLOUT);
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLOUT);
    // The sender is unaffected.
    CHECK_EVENTS(epoll_mask(p.a, kAll), EPOLLOUT);
    // Reading everything clears EPOLLIN again.
    char buf[8];
    CHECK_EQ(recv(p.b, buf, sizeof buf, 0), 4);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
    // Only EPOLLIN asked for: nothing to report.
    CHECK_EVENTS(epoll_mask(p.b, EPOLLIN | EPOLLRDHUP), 0);
}

SCENARIO(tcp_epoll_peer_shut_wr_in_out_rdhup)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, p.b, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 2));
    CHECK_EQ(shutdown(p.a, SHUT_WR), 0);
    CHECK_EVENTS(await_events(p.b, EPOLLIN | EPOLLOUT | EPOLLRDHUP, EPOLLRDHUP),
                 EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    // Without EPOLLRDHUP in the interest set, the FIN shows as EPOLLIN only.
    CHECK_EVENTS(epoll_mask(p.b, EPOLLIN | EPOLLOUT), EPOLLIN | EPOLLOUT);
    // Reading the EOF does not change the mask.
    char c;
    CHECK_EQ(recv(p.b, &c, 1, 0), 0);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

SCENARIO(tcp_epoll_peer_close_in_out_rdhup)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EQ(send(p.a, "last", 4, 0), 4);
    CHECK_EQ(p.a.close(), 0);
    CHECK_EVENTS(await_events(p.b, kAll, EPOLLRDHUP), EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    char buf[8];
    CHECK_EQ(recv(p.b, buf, sizeof buf, 0), 4);
    CHECK_EQ(recv(p.b, buf, sizeof buf, 0), 0);
    CHECK_EVENTS(epoll_mask(p.b, kAll), EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

SCENARIO(tcp_epoll_own_shut_wr_stays_epollout)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EQ(shutdown(p.a, SHUT_WR), 0);
    CHECK_EVENTS(epoll_mask(p.a, kAll), EPOLLOUT);
    // The peer sees the FIN; p.a can still receive.
    CHECK_EVENTS(await_events(p.b, kAll, EPOLLRDHUP), EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    CHECK_EQ(send(p.b, "more", 4, 0), 4);
    CHECK_EVENTS(await_events(p.a, kAll, EPOLLIN), EPOLLIN | EPOLLOUT);
    char buf[8];
    CHECK_EQ(recv(p.a, buf, sizeof buf, 0), 4);
}

SCENARIO(tcp_epoll_own_shut_rd_in_out_rdhup)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EQ(shutdown(p.a, SHUT_RD), 0);
    CHECK_EVENTS(epoll_mask(p.a, kAll), EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    // SHUT_RD sends nothing: the peer notices nothing.
    CHECK_EVENTS(epoll_mask(p.b, kAll), EPOLLOUT);
}

SCENARIO(tcp_epoll_both_directions_shut_hup)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, p.a, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 1));
    CHECK(ep_add(ep, p.b, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 2));
    CHECK_EQ(shutdown(p.a, SHUT_WR), 0);
    CHECK_EVENTS(await_events(p.b, kAll, EPOLLRDHUP), EPOLLIN | EPOLLOUT | EPOLLRDHUP);
    CHECK_EQ(shutdown(p.b, SHUT_WR), 0);
    const uint32_t hup = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP;
    CHECK_EVENTS(await_events(p.a, kAll, EPOLLHUP), hup);
    CHECK_EVENTS(await_events(p.b, kAll, EPOLLHUP), hup);
    epoll_event out[2];
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 2);
    CHECK_EVENTS(out[0].events, hup);
    CHECK_EVENTS(out[1].events, hup);
    // EPOLLHUP is reported even when not asked for.
    CHECK_EVENTS(epoll_mask(p.a, EPOLLIN), EPOLLIN | EPOLLHUP);
    CHECK_EVENTS(epoll_mask(p.a, 0), EPOLLHUP);
}

SCENARIO(tcp_epoll_own_shut_rdwr_hup_at_once)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EQ(shutdown(p.a, SHUT_RDWR), 0);
    CHECK_EVENTS(epoll_mask(p.a, kAll), EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
    CHECK_EVENTS(await_events(p.b, kAll, EPOLLRDHUP), EPOLLIN | EPOLLOUT | EPOLLRDHUP);
}

SCENARIO(tcp_epoll_et_epollin_once_per_arrival)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, p.b, EPOLLIN | EPOLLET, 7));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    CHECK_EQ(send(p.a, "1", 1, 0), 1);
    CHECK_EQ(epoll_wait(ep, out, 1, 2000), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(out[0].data.u64, 7u);
    // Nothing read, nothing new: no second report.
    CHECK_EQ(epoll_wait(ep, out, 1, 50), 0);
    // A new arrival is a new edge even though data is still queued.
    CHECK_EQ(send(p.a, "2", 1, 0), 1);
    CHECK_EQ(epoll_wait(ep, out, 1, 2000), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    char buf[4];
    CHECK_EQ(recv_exact(p.b, buf, 2), 2);
    CHECK_EQ(std::string(buf, 2), "12");
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
}

SCENARIO(tcp_epoll_et_rdhup_edge)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, p.b, EPOLLIN | EPOLLRDHUP | EPOLLET, 7));
    epoll_event out[1];
    CHECK_EQ(shutdown(p.a, SHUT_WR), 0);
    CHECK_EQ(epoll_wait(ep, out, 1, 2000), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLRDHUP);
    CHECK_EQ(epoll_wait(ep, out, 1, 50), 0);
}

SCENARIO(tcp_epoll_epollout_rearms_after_drain)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, p.a, EPOLLOUT, 1));
    static char chunk[65536];
    long total = 0;
    epoll_event out[1];
    // Fill until EAGAIN; late ACKs may still free some room, so refill until
    // the socket stays unwritable for a while.
    bool full = false;
    for (int round = 0; round < 50 && !full; round++) {
        for (int i = 0; i < 100000; i++) {
            ssize_t r = send(p.a, chunk, sizeof chunk, 0);
            if (r < 0) {
                CHECK_EQ(errno, EAGAIN);
                break;
            }
            total += r;
        }
        full = epoll_wait(ep, out, 1, 100) == 0;
    }
    REQUIRE(full);
    CHECK_GT(total, 0);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    CHECK_EVENTS(epoll_mask(p.a, EPOLLIN | EPOLLOUT | EPOLLRDHUP), 0);
    // The peer reads everything; room comes back.
    std::vector<char> sink(static_cast<size_t>(total));
    CHECK_EQ(recv_exact(p.b, sink.data(), sink.size(), 5000), total);
    CHECK_EQ(epoll_wait(ep, out, 1, 2000), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
    CHECK_ERR(recv(p.b, chunk, sizeof chunk, 0), EAGAIN);
}

SCENARIO(tcp_epoll_et_epollout_edge_after_drain)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, p.a, EPOLLOUT | EPOLLET, 1));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);  // the initial edge
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    static char chunk[65536];
    long total = 0;
    bool full = false;
    ufd lt(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(lt, p.a, EPOLLOUT, 1));
    for (int round = 0; round < 50 && !full; round++) {
        for (int i = 0; i < 100000; i++) {
            ssize_t r = send(p.a, chunk, sizeof chunk, 0);
            if (r < 0)
                break;
            total += r;
        }
        full = epoll_wait(lt, out, 1, 100) == 0;
    }
    REQUIRE(full);
    // Drain the ET queue of edges that fired while filling.
    for (int i = 0; i < 100 && epoll_wait(ep, out, 1, 0) == 1; i++) {
    }
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    std::vector<char> sink(static_cast<size_t>(total));
    CHECK_EQ(recv_exact(p.b, sink.data(), sink.size(), 5000), total);
    CHECK_EQ(epoll_wait(ep, out, 1, 2000), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
}
