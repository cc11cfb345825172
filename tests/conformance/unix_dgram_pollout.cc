// A connected AF_UNIX datagram socket's EPOLLOUT follows its receiver's queue, after
// net/unix/af_unix.c's unix_dgram_poll() and unix_dgram_peer_wake_me(). Not hosted: there,
// named AF_UNIX sockets are the host's, whose descriptors a Pollux epoll refuses.
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "unix_named.h"

using namespace conf;
using namespace conf::unix_named;

// unix_dgram_poll(): a socket connected to a receiver that is not connected back is not
// writable while that receiver's queue is full, and the receiver's next read makes it writable
// (unix_dgram_peer_wake_me() waits on the receiver's queue): an epoll-driven sender sleeps
// instead of spinning on EAGAIN.
SCENARIO(unix_dgram_full_receiver_is_not_writable)
{
    unix_addr srv_addr = abstract_addr("dgram-pollout");
    ufd srv(CHECK_OK(socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0)));
    CHECK_OK(bind(srv, srv_addr.sa(), srv_addr.len));
    ufd cli(CHECK_OK(socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0)));
    CHECK_OK(connect(cli, srv_addr.sa(), srv_addr.len));
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.u32 = 7;
    CHECK_OK(epoll_ctl(ep, EPOLL_CTL_ADD, cli, &ev));
    epoll_event out[2];
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    int sent = 0;
    while (sent < 100 && send(cli, "q", 1, 0) == 1)
        sent++;
    CHECK_EQ(errno, EAGAIN);
    CHECK_EQ(sent, 11);
    pollfd p{};
    p.fd = cli;
    p.events = POLLOUT;
    CHECK_EQ(poll(&p, 1, 0), 0);
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
    CHECK_ERR(send(cli, "q", 1, 0), EAGAIN);
    // A waiter asleep in epoll_wait is woken by the server's read.
    std::atomic<int> ready{-2};
    std::atomic<uint32_t> what{0}, data{0};
    bg_thread waiter([&] {
        epoll_event e[2];
        int n = epoll_wait(ep, e, 2, 3000);
        if (n == 1) {
            what = e[0].events;
            data = e[0].data.u32;
        }
        ready = n;
    });
    usleep(30000);
    CHECK_EQ(ready.load(), -2);
    char c;
    CHECK_EQ(recv(srv, &c, 1, 0), 1);
    CHECK(waiter.join_for(2000));
    CHECK_EQ(ready.load(), 1);
    CHECK_EQ(what.load(), uint32_t{EPOLLOUT});
    CHECK_EQ(data.load(), 7u);
    CHECK_EQ(send(cli, "r", 1, 0), 1);
    // Full again; a peer connected back to us is never waited for: connect the server to the
    // client and the client is writable at once.
    CHECK_EQ(poll(&p, 1, 0), 0);
    unix_addr cli_addr = abstract_addr("dgram-pollout-cli");
    CHECK_OK(bind(cli, cli_addr.sa(), cli_addr.len));
    CHECK_OK(connect(srv, cli_addr.sa(), cli_addr.len));
    CHECK_EQ(poll(&p, 1, 0), 1);
    CHECK_EQ(p.revents, POLLOUT);
}

