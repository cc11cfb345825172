// Data over an established TCP connection: every read/write flavour moves
// bytes exactly (send/recv, read/write, readv/writev, sendmsg/recvmsg), the
// stream merges writes, MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, FIONREAD,
// blocking reads woken by data or EOF, EOF after the peer closes, and the
// errors of an unconnected socket (recv: ENOTCONN; send: EPIPE, not
// ENOTCONN). Follows net/ipv4/tcp.c: tcp_sendmsg_locked() (a socket not in
// ESTABLISHED / CLOSE_WAIT waits in sk_stream_wait_connect(), which returns
// EPIPE for CLOSE), tcp_recvmsg_locked() (ENOTCONN for a never-connected
// socket, target = len for MSG_WAITALL), tcp_ioctl(SIOCINQ);
// net/socket.c: ____sys_recvmsg() (msg_namelen is 0 when TCP gives no
// address); recv(2), send(2), tcp(7).
#include "harness.h"

#include <netinet/in.h>
#include <sys/uio.h>

#include <atomic>
#include <cstring>
#include <vector>

using namespace conf;

namespace {

std::vector<char> pattern(size_t n, unsigned seed)
{
    std::vector<char> v(n);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        v[i] = static_cast<char>(x >> 24);
    }
    return v;
}

// Waits until FIONREAD reports at least n bytes queued.
bool await_queued(int fd, int n)
{
    return wait_until(
        [&] {
            int q = -1;
            return ioctl(fd, FIONREAD, &q) == 0 && q >= n;
        },
        2000);
}

}  // namespace

SCENARIO(tcp_send_recv_byte_exact_both_ways)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(send(p.a, "hello, server", 13, 0), 13);
    char buf[32] = {};
    CHECK_EQ(recv_exact(p.b, buf, 13), 13);
    CHECK_EQ(std::string(buf, 13), "hello, server");
    CHECK_EQ(send(p.b, "hi client", 9, 0), 9);
    CHECK_EQ(recv_exact(p.a, buf, 9), 9);
    CHECK_EQ(std::string(buf, 9), "hi client");
    // Binary data, NULs included.
    const char bin[6] = {0, 1, '\xff', 0, '\x80', 0};
    CHECK_EQ(send(p.a, bin, sizeof bin, 0), 6);
    CHECK_EQ(recv_exact(p.b, buf, 6), 6);
    CHECK_EQ(std::memcmp(buf, bin, 6), 0);
}

SCENARIO(tcp_read_write_byte_exact)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(write(p.a, "abcdef", 6), 6);
    CHECK(await_queued(p.b, 6));
    char buf[16] = {};
    CHECK_EQ(read(p.b, buf, 4), 4);
    CHECK_EQ(std::string(buf, 4), "abcd");
    CHECK_EQ(read(p.b, buf, sizeof buf), 2);
    CHECK_EQ(std::string(buf, 2), "ef");
    CHECK_EQ(write(p.b, "back", 4), 4);
    CHECK(await_queued(p.a, 4));
    CHECK_EQ(read(p.a, buf, sizeof buf), 4);
    CHECK_EQ(std::string(buf, 4), "back");
}

SCENARIO(tcp_stream_merges_writes)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(send(p.a, "abc", 3, 0), 3);
    CHECK_EQ(send(p.a, "def", 3, 0), 3);
    CHECK_EQ(send(p.a, "g", 1, 0), 1);
    CHECK(await_queued(p.b, 7));
    char buf[16] = {};
    CHECK_EQ(recv(p.b, buf, sizeof buf, 0), 7);
    CHECK_EQ(std::string(buf, 7), "abcdefg");
}

SCENARIO(tcp_readv_writev_scatter_gather)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    char w1[] = "one-", w2[] = "two-", w3[] = "three";
    iovec wv[3] = {{w1, 4}, {w2, 4}, {w3, 5}};
    CHECK_EQ(writev(p.a, wv, 3), 13);
    CHECK(await_queued(p.b, 13));
    char r1[5] = {}, r2[3] = {}, r3[16] = {};
    iovec rv[3] = {{r1, 5}, {r2, 3}, {r3, sizeof r3}};
    CHECK_EQ(readv(p.b, rv, 3), 13);
    CHECK_EQ(std::string(r1, 5), "one-t");
    CHECK_EQ(std::string(r2, 3), "wo-");
    CHECK_EQ(std::string(r3, 5), "three");
    // Zero-length entries are skipped.
    iovec zv[3] = {{w1, 0}, {w2, 4}, {w3, 0}};
    CHECK_EQ(writev(p.b, zv, 3), 4);
    CHECK(await_queued(p.a, 4));
    CHECK_EQ(readv(p.a, rv, 3), 4);
    CHECK_EQ(std::string(r1, 4), "two-");
}

SCENARIO(tcp_sendmsg_recvmsg_byte_exact)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    char a[] = "head:", b[] = "body:", c[] = "tail";
    iovec wv[3] = {{a, 5}, {b, 5}, {c, 4}};
    msghdr wm{};
    wm.msg_iov = wv;
    wm.msg_iovlen = 3;
    CHECK_EQ(sendmsg(p.a, &wm, 0), 14);
    CHECK(await_queued(p.b, 14));
    char r1[8] = {}, r2[32] = {};
    iovec rv[2] = {{r1, sizeof r1}, {r2, sizeof r2}};
    sockaddr_storage name{};
    msghdr rm{};
    rm.msg_name = &name;
    rm.msg_namelen = sizeof name;
    rm.msg_iov = rv;
    rm.msg_iovlen = 2;
    rm.msg_flags = -1;
    CHECK_EQ(recvmsg(p.b, &rm, 0), 14);
    CHECK_EQ(std::string(r1, 8), "head:bod");
    CHECK_EQ(std::string(r2, 6), "y:tail");
    // TCP reports no source address: the length comes back as 0.
    CHECK_EQ(rm.msg_namelen, 0u);
    CHECK_EQ(rm.msg_flags, 0);
}

SCENARIO(tcp_large_transfer_byte_exact)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    const size_t n = 1 << 20;
    std::vector<char> out = pattern(n, 7);
    std::vector<char> in(n);
    std::atomic<ssize_t> sent{-2};
    bg_thread t([&] { sent = send_exact(p.a, out.data(), n, 10000); });
    CHECK_EQ(recv_exact(p.b, in.data(), n, 10000), static_cast<ssize_t>(n));
    CHECK(t.join_for(10000));
    CHECK_EQ(sent.load(), static_cast<ssize_t>(n));
    CHECK(in == out);
}

SCENARIO(tcp_msg_peek_leaves_data)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(send(p.a, "peekaboo", 8, 0), 8);
    CHECK(await_queued(p.b, 8));
    char buf[16] = {};
    CHECK_EQ(recv(p.b, buf, 4, MSG_PEEK), 4);
    CHECK_EQ(std::string(buf, 4), "peek");
    CHECK_EQ(recv(p.b, buf, sizeof buf, MSG_PEEK), 8);
    CHECK_EQ(std::string(buf, 8), "peekaboo");
    int q = -1;
    CHECK_EQ(ioctl(p.b, FIONREAD, &q), 0);
    CHECK_EQ(q, 8);
    CHECK_EVENTS(epoll_mask(p.b, EPOLLIN | EPOLLOUT), EPOLLIN | EPOLLOUT);
    CHECK_EQ(recv(p.b, buf, sizeof buf, 0), 8);
    CHECK_EQ(std::string(buf, 8), "peekaboo");
    CHECK_ERR(recv(p.b, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT), EAGAIN);
}

SCENARIO(tcp_msg_dontwait_empty_eagain)
{
    auto p = make_tcp_pair();  // blocking sockets
    REQUIRE(p.a.valid());
    char buf[8];
    CHECK_ERR(recv(p.a, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    CHECK_ERR(recv(p.b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
    // The file stays blocking.
    CHECK_EQ(fcntl(p.a, F_GETFL), O_RDWR);
    CHECK_EQ(send(p.b, "x", 1, MSG_DONTWAIT), 1);
    CHECK_EQ(recv_exact(p.a, buf, 1), 1);
}

SCENARIO(tcp_nonblocking_recv_empty_eagain)
{
    auto p = make_tcp_pair(AF_INET, SOCK_NONBLOCK);
    REQUIRE(p.a.valid());
    CHECK_EQ(fcntl(p.a, F_GETFL), O_RDWR | O_NONBLOCK);
    CHECK_EQ(fcntl(p.b, F_GETFL), O_RDWR | O_NONBLOCK);
    char buf[8];
    CHECK_ERR(recv(p.a, buf, sizeof buf, 0), EAGAIN);
    CHECK_ERR(read(p.b, buf, sizeof buf), EAGAIN);
    iovec v{buf, sizeof buf};
    CHECK_ERR(readv(p.b, &v, 1), EAGAIN);
    msghdr m{};
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    CHECK_ERR(recvmsg(p.a, &m, 0), EAGAIN);
}

SCENARIO(tcp_msg_waitall_collects_pieces)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    char buf[12] = {};
    std::atomic<ssize_t> rc{-2};
    bg_thread t([&] { rc = recv(p.b, buf, sizeof buf, MSG_WAITALL); });
    const char* pieces[] = {"abcd", "efgh", "ijkl"};
    for (int i = 0; i < 3; i++) {
        sleep_ms(30);
        // Whatever has arrived so far, the call must not return short.
        CHECK(!t.done());
        CHECK_EQ(send(p.a, pieces[i], 4, 0), 4);
    }
    if (!t.join_for(2000)) {
        CHECK(!"MSG_WAITALL recv did not return");
        shutdown(p.b, SHUT_RDWR);  // release the thread
        t.join_for(2000);
    }
    CHECK_EQ(rc.load(), 12);
    CHECK_EQ(std::string(buf, 12), "abcdefghijkl");
}

SCENARIO(tcp_msg_waitall_returns_short_at_eof)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    char buf[16] = {};
    std::atomic<ssize_t> rc{-2};
    bg_thread t([&] { rc = recv(p.b, buf, sizeof buf, MSG_WAITALL); });
    CHECK_EQ(send(p.a, "part", 4, 0), 4);
    sleep_ms(50);
    CHECK(!t.done());
    CHECK_EQ(p.a.close(), 0);
    if (!t.join_for(2000)) {
        CHECK(!"MSG_WAITALL recv did not return at EOF");
        shutdown(p.b, SHUT_RDWR);
        t.join_for(2000);
    }
    CHECK_EQ(rc.load(), 4);
    CHECK_EQ(std::string(buf, 4), "part");
}

SCENARIO(tcp_blocking_recv_woken_by_data)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    std::atomic<ssize_t> rc{-2};
    char buf[8] = {};
    bg_thread t([&] { rc = recv(p.b, buf, sizeof buf, 0); });
    sleep_ms(100);
    CHECK(!t.done());
    CHECK_EQ(send(p.a, "wake", 4, 0), 4);
    if (!t.join_for(2000)) {
        CHECK(!"blocking recv was not woken");
        shutdown(p.b, SHUT_RDWR);
        t.join_for(2000);
    }
    CHECK_EQ(rc.load(), 4);
    CHECK_EQ(std::string(buf, 4), "wake");
}

SCENARIO(tcp_blocking_recv_woken_by_peer_close)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    std::atomic<ssize_t> rc{-2};
    bg_thread t([&] {
        char buf[8];
        rc = recv(p.b, buf, sizeof buf, 0);
    });
    sleep_ms(100);
    CHECK(!t.done());
    CHECK_EQ(p.a.close(), 0);
    if (!t.join_for(2000)) {
        CHECK(!"blocking recv was not woken by EOF");
        shutdown(p.b, SHUT_RDWR);
        t.join_for(2000);
    }
    CHECK_EQ(rc.load(), 0);
}

SCENARIO(tcp_recv_zero_after_peer_close)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    CHECK_EQ(send(p.a, "bye", 3, 0), 3);
    CHECK_EQ(p.a.close(), 0);
    // Data sent before the FIN comes first, then EOF, again and again.
    char buf[8] = {};
    CHECK_EQ(recv_exact(p.b, buf, sizeof buf), 3);
    CHECK_EQ(std::string(buf, 3), "bye");
    CHECK_EQ(recv(p.b, buf, sizeof buf, 0), 0);
    CHECK_EQ(read(p.b, buf, sizeof buf), 0);
    CHECK_EQ(recv(p.b, buf, sizeof buf, MSG_DONTWAIT), 0);
}

SCENARIO(tcp_fionread_counts_queued_bytes)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    int q = -1;
    CHECK_EQ(ioctl(p.b, FIONREAD, &q), 0);
    CHECK_EQ(q, 0);
    CHECK_EQ(send(p.a, "12345", 5, 0), 5);
    CHECK_EQ(send(p.a, "678", 3, 0), 3);
    CHECK(await_queued(p.b, 8));
    CHECK_EQ(ioctl(p.b, FIONREAD, &q), 0);
    CHECK_EQ(q, 8);
    char buf[4];
    CHECK_EQ(recv(p.b, buf, 3, 0), 3);
    CHECK_EQ(ioctl(p.b, FIONREAD, &q), 0);
    CHECK_EQ(q, 5);
    // FIONREAD (SIOCINQ) on a listener is EINVAL.
    uint16_t port = 0;
    ufd l(tcp_listener(AF_INET, 1, &port));
    REQUIRE(l.valid());
    CHECK_ERR(ioctl(l, FIONREAD, &q), EINVAL);
}

// SO_RCVBUF set on a listener before listen() passes to the connections it accepts and bounds
// what a reader that does not read lets in: the writer gets EAGAIN with the rest still its own
// (tcp_win_from_space(): the window is a share of sk_rcvbuf, and the receive queue never holds
// more than sk_rcvbuf). Then every byte arrives intact once the reader reads. Without the
// bound, Pollux's reader queued half a MiB (lwIP's whole window).
SCENARIO(tcp_so_rcvbuf_bounds_what_a_reader_queues)
{
    ufd l(socket(AF_INET, SOCK_STREAM, 0));
    REQUIRE(l.valid());
    CHECK_EQ(set_int_opt(l, SOL_SOCKET, SO_RCVBUF, 16384), 0);
    sock_addr a = harness_sockaddr(AF_INET, 0);
    REQUIRE(bind(l, a.sa(), a.len) == 0);
    REQUIRE(listen(l, 1) == 0);
    ufd c(tcp_connect_to(AF_INET, local_port(l), SOCK_NONBLOCK));
    REQUIRE(c.valid());
    ufd s(tcp_accept(l, SOCK_NONBLOCK));
    REQUIRE(s.valid());
    int rcvbuf = get_int_opt(s, SOL_SOCKET, SO_RCVBUF);
    CHECK_EQ(rcvbuf, 32768);  // inherited, doubled
    // A small send buffer too, so that the writer cannot absorb the whole megabyte itself.
    CHECK_EQ(set_int_opt(c, SOL_SOCKET, SO_SNDBUF, 16384), 0);

    const size_t total = 1 << 20;
    std::vector<char> out = pattern(total, 7), in;
    size_t sent = 0;
    // Fill until the writer is refused for 300 ms in a row: the window is closed.
    for (int idle = 0; idle < 30 && sent < total;) {
        ssize_t n = send(c, out.data() + sent, total - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<size_t>(n);
            idle = 0;
        } else {
            CHECK_ERR(n, EAGAIN);
            ++idle;
            usleep(10000);
        }
    }
    int queued = -1;
    CHECK_EQ(ioctl(s, FIONREAD, &queued), 0);
    CHECK(queued > 0);
    CHECK_LE(queued, rcvbuf);
    CHECK(sent < total);  // the rest waits in the writer, not in the reader

    // Drain while the writer finishes: nothing lost, nothing reordered.
    in.reserve(total);
    char buf[65536];
    for (int idle = 0; idle < 300 && in.size() < total;) {
        bool moved = false;
        if (sent < total) {
            ssize_t n = send(c, out.data() + sent, total - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) {
                sent += static_cast<size_t>(n);
                moved = true;
            }
        }
        ssize_t r = recv(s, buf, sizeof buf, MSG_DONTWAIT);
        if (r > 0) {
            in.insert(in.end(), buf, buf + r);
            moved = true;
        }
        if (moved) {
            idle = 0;
        } else {
            ++idle;
            usleep(10000);
        }
    }
    CHECK_EQ(in.size(), total);
    CHECK(in == out);
}

SCENARIO(tcp_zero_length_send_returns_zero)
{
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    char c = 'x';
    CHECK_EQ(send(p.a, &c, 0, 0), 0);
    CHECK_EQ(write(p.a, &c, 0), 0);
    // Nothing was sent: the peer has nothing to read.
    CHECK_EQ(send(p.a, "z", 1, 0), 1);
    char buf[4];
    CHECK_EQ(recv_exact(p.b, buf, 1), 1);
    CHECK_EQ(buf[0], 'z');
    CHECK_ERR(recv(p.b, buf, sizeof buf, MSG_DONTWAIT), EAGAIN);
}

SCENARIO(tcp_recv_unconnected_enotconn)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)));
    char buf[4];
    CHECK_ERR(recv(s, buf, sizeof buf, 0), ENOTCONN);
    CHECK_ERR(read(s, buf, sizeof buf), ENOTCONN);
    uint16_t port = 0;
    ufd l(tcp_listener(AF_INET, 1, &port, SOCK_NONBLOCK));
    REQUIRE(l.valid());
    CHECK_ERR(recv(l, buf, sizeof buf, 0), ENOTCONN);
}

SCENARIO(tcp_send_unconnected_epipe)
{
    ufd s(CHECK_OK(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)));
    // Linux answers EPIPE here, not the ENOTCONN POSIX describes.
    CHECK_ERR(send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
    CHECK_ERR(write(s, "x", 1), EPIPE);  // SIGPIPE is ignored by the runner
    uint16_t port = 0;
    ufd l(tcp_listener(AF_INET, 1, &port, SOCK_NONBLOCK));
    REQUIRE(l.valid());
    CHECK_ERR(send(l, "x", 1, MSG_NOSIGNAL), EPIPE);
    // sendto with an address on an unconnected TCP socket does not connect.
    sockaddr_in sin = inet_sockaddr(port);
    CHECK_ERR(sendto(s, "x", 1, MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&sin), sizeof sin),
              EPIPE);
}
