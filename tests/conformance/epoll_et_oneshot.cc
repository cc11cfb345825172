// Level- vs edge-triggered reporting, EPOLLONESHOT, and which bits appear in
// the reported mask: revents are the file's ->poll() mask ANDed with the
// requested events, where EPOLLERR|EPOLLHUP are always added at ADD/MOD time.
// Follows fs/eventpoll.c: ep_insert()/ep_modify() (re-poll and queue if ready),
// ep_poll_callback() (queues on every wakeup, ignores disarmed items whose
// events are only EP_PRIVATE_BITS), ep_send_events() (EPOLLONESHOT clears the
// mask, LT re-queues, ET does not). Edge sources: eventfd_write(),
// pipe_write() (wakes on every write once the pipe has been polled),
// pipe_read() (wakes writers only if the pipe was full), unix_poll().
#include "harness.h"

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace conf;

namespace {

int wait1(int ep, epoll_event* out, int timeout = 0) { return epoll_wait(ep, out, 1, timeout); }

}  // namespace

SCENARIO(epoll_lt_reports_until_drained)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto p = make_pipe(O_NONBLOCK);
    CHECK(ep_add(ep, p.a, EPOLLIN, 1));
    CHECK_EQ(write(p.b, "xy", 2), 2);
    epoll_event out{};
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(wait1(ep, &out), 1);
        CHECK_EVENTS(out.events, EPOLLIN);
    }
    char buf[4];
    CHECK_EQ(read(p.a, buf, 1), 1);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EQ(read(p.a, buf, 4), 1);
    CHECK_EQ(wait1(ep, &out), 0);
}

SCENARIO(epoll_et_eventfd_once_per_write)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, EFD_NONBLOCK)));
    CHECK(ep_add(ep, efd, EPOLLIN | EPOLLET, 2));
    epoll_event out{};
    CHECK_EQ(wait1(ep, &out), 0);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLIN);
    CHECK_EQ(wait1(ep, &out), 0);
    // New data re-arms the edge although the counter was never drained.
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EQ(wait1(ep, &out), 0);
    // Two writes before a wait still give a single report.
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EQ(wait1(ep, &out), 0);
    uint64_t v = 0;
    CHECK_EQ(efd_read(efd, &v), 8);
    CHECK_EQ(v, 4u);
}

SCENARIO(epoll_et_pipe_new_data_rearms)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto p = make_pipe(O_NONBLOCK);
    CHECK(ep_add(ep, p.a, EPOLLIN | EPOLLET, 3));
    epoll_event out{};
    CHECK_EQ(write(p.b, "a", 1), 1);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLIN);
    CHECK_EQ(wait1(ep, &out), 0);
    // A write into a non-empty pipe still wakes an epoll watcher.
    CHECK_EQ(write(p.b, "b", 1), 1);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EQ(wait1(ep, &out), 0);
    // Reading generates no new input edge.
    char buf[4];
    CHECK_EQ(read(p.a, buf, 1), 1);
    CHECK_EQ(wait1(ep, &out), 0);
}

SCENARIO(epoll_et_socketpair_new_data_rearms)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    CHECK(ep_add(ep, s.a, EPOLLIN | EPOLLET, 4));
    epoll_event out{};
    CHECK_EQ(wait1(ep, &out), 0);
    CHECK_EQ(write(s.b, "a", 1), 1);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLIN);
    CHECK_EQ(wait1(ep, &out), 0);
    CHECK_EQ(write(s.b, "b", 1), 1);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EQ(wait1(ep, &out), 0);
}

SCENARIO(epoll_et_pipe_out_edge_only_when_leaving_full)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto p = make_pipe(O_NONBLOCK);
    CHECK(ep_add(ep, p.b, EPOLLOUT | EPOLLET, 5));
    epoll_event out{};
    // Writable at ADD time: one report.
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLOUT);
    CHECK_EQ(wait1(ep, &out), 0);
    static char page[4096];
    for (int i = 0; i < 16; i++)
        CHECK_EQ(write(p.b, page, sizeof page), 4096);
    CHECK_ERR(write(p.b, page, 1), EAGAIN);
    CHECK_EQ(wait1(ep, &out), 0);
    // Freeing a slot of a full pipe wakes the writer side...
    CHECK_EQ(read(p.a, page, sizeof page), 4096);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLOUT);
    // ... but a read from a pipe that was not full does not.
    CHECK_EQ(read(p.a, page, sizeof page), 4096);
    CHECK_EQ(wait1(ep, &out), 0);
}

SCENARIO(epoll_et_mod_rearms_when_ready)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN | EPOLLET, 6));
    epoll_event out{};
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EQ(wait1(ep, &out), 0);
    epoll_event e = ev(EPOLLIN | EPOLLET, 7);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &e), 0);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EQ(out.data.u64, 7u);
    CHECK_EQ(wait1(ep, &out), 0);
}

SCENARIO(epoll_oneshot_disarms_until_mod)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN | EPOLLONESHOT, 8));
    epoll_event out{};
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLIN);
    CHECK_EQ(wait1(ep, &out), 0);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(wait1(ep, &out), 0);
    // The disarmed item still exists: ADD says EEXIST, MOD re-arms it and,
    // since the eventfd is readable, queues it at once.
    epoll_event e = ev(EPOLLIN | EPOLLONESHOT, 9);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), EEXIST);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &e), 0);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EQ(out.data.u64, 9u);
    CHECK_EQ(wait1(ep, &out), 0);
}

SCENARIO(epoll_oneshot_mod_when_not_ready)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, EFD_NONBLOCK)));
    CHECK(ep_add(ep, efd, EPOLLIN | EPOLLONESHOT, 1));
    epoll_event out{};
    CHECK_EQ(wait1(ep, &out), 1);
    uint64_t v;
    CHECK_EQ(efd_read(efd, &v), 8);
    epoll_event e = ev(EPOLLIN | EPOLLONESHOT, 2);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &e), 0);
    CHECK_EQ(wait1(ep, &out), 0);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EQ(out.data.u64, 2u);
    CHECK_EQ(wait1(ep, &out), 0);
}

SCENARIO(epoll_oneshot_disarmed_hides_hup)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto p = make_pipe(O_NONBLOCK);
    CHECK(ep_add(ep, p.a, EPOLLIN | EPOLLONESHOT, 1));
    CHECK_EQ(write(p.b, "x", 1), 1);
    epoll_event out{};
    CHECK_EQ(wait1(ep, &out), 1);
    // Disarmed means even the implicit ERR/HUP are suppressed.
    CHECK_EQ(p.b.close(), 0);
    CHECK_EQ(wait1(ep, &out), 0);
    epoll_event e = ev(EPOLLONESHOT, 2);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, p.a, &e), 0);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLHUP);
    CHECK_EQ(wait1(ep, &out), 0);
}

SCENARIO(epoll_oneshot_with_et)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(2, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN | EPOLLOUT | EPOLLET | EPOLLONESHOT, 3));
    epoll_event out{};
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLIN | EPOLLOUT);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(wait1(ep, &out), 0);
}

SCENARIO(epoll_zero_events_only_err_hup)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto p = make_pipe(O_NONBLOCK);
    CHECK(ep_add(ep, p.a, 0, 1));
    CHECK_EQ(write(p.b, "x", 1), 1);
    epoll_event out{};
    CHECK_EQ(wait1(ep, &out), 0);
    CHECK_EQ(p.b.close(), 0);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLHUP);
}

SCENARIO(epoll_pipe_writer_gets_err_when_reader_closes)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto p = make_pipe(O_NONBLOCK);
    // Only EPOLLIN requested, which a write end never reports.
    CHECK(ep_add(ep, p.b, EPOLLIN, 1));
    epoll_event out{};
    CHECK_EQ(wait1(ep, &out), 0);
    CHECK_EQ(p.a.close(), 0);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLERR);
    // With EPOLLOUT requested, the still-not-full pipe adds EPOLLOUT.
    epoll_event e = ev(EPOLLOUT, 2);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, p.b, &e), 0);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLOUT | EPOLLERR);
}

SCENARIO(epoll_pipe_reader_gets_hup_when_writer_closes)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto p = make_pipe(O_NONBLOCK);
    CHECK(ep_add(ep, p.a, EPOLLIN, 1));
    CHECK_EQ(write(p.b, "x", 1), 1);
    CHECK_EQ(p.b.close(), 0);
    epoll_event out{};
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLIN | EPOLLHUP);
    char c;
    CHECK_EQ(read(p.a, &c, 1), 1);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLHUP);
}

SCENARIO(epoll_rdhup_on_peer_close)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto s = make_socketpair();
    CHECK(ep_add(ep, s.a, EPOLLIN | EPOLLRDHUP, 1));
    epoll_event out{};
    CHECK_EQ(wait1(ep, &out), 0);
    CHECK_EQ(s.b.close(), 0);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLIN | EPOLLRDHUP | EPOLLHUP);
    epoll_event e = ev(EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI, 2);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, s.a, &e), 0);
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);
}

SCENARIO(epoll_rdhup_on_peer_shutdown_wr)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto s = make_socketpair();
    CHECK(ep_add(ep, s.a, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 1));
    CHECK(ep_add(ep, s.b, EPOLLIN | EPOLLOUT | EPOLLRDHUP, 2));
    epoll_event out[2] = {};
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 2);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
    CHECK_EQ(shutdown(s.b, SHUT_WR), 0);
    // The peer of a half-close sees read-hangup (and EOF-readability) but
    // no HUP; the half-closed side itself reports nothing new.
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 2);
    for (const auto& o : out) {
        if (o.data.u64 == 1)
            CHECK_EVENTS(o.events, EPOLLIN | EPOLLOUT | EPOLLRDHUP);
        else
            CHECK_EVENTS(o.events, EPOLLOUT);
    }
}

SCENARIO(epoll_rdhup_not_reported_unless_requested)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto s = make_socketpair();
    CHECK(ep_add(ep, s.a, EPOLLIN, 1));
    CHECK_EQ(shutdown(s.b, SHUT_WR), 0);
    epoll_event out{};
    CHECK_EQ(wait1(ep, &out), 1);
    CHECK_EVENTS(out.events, EPOLLIN);
}

SCENARIO(epoll_pri_not_spurious)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto s = make_socketpair();
    auto p = make_pipe();
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep, s.a, EPOLLIN | EPOLLPRI, 1));
    CHECK(ep_add(ep, p.a, EPOLLIN | EPOLLPRI, 2));
    CHECK(ep_add(ep, efd, EPOLLIN | EPOLLPRI, 3));
    epoll_event out[4] = {};
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(write(s.b, "x", 1), 1);
    CHECK_EQ(write(p.b, "x", 1), 1);
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 3);
    for (int i = 0; i < 3; i++)
        CHECK_EVENTS(out[i].events, EPOLLIN);
}

SCENARIO(epoll_norm_bits_reported_only_if_requested)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto p = make_pipe();
    CHECK_EQ(write(p.b, "x", 1), 1);
    CHECK(ep_add(ep, p.a, EPOLLIN | EPOLLRDNORM | EPOLLRDBAND, 1));
    CHECK(ep_add(ep, p.b, EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND, 2));
    epoll_event out[2] = {};
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 2);
    for (const auto& o : out) {
        if (o.data.u64 == 1)
            CHECK_EVENTS(o.events, EPOLLIN | EPOLLRDNORM);
        else
            CHECK_EVENTS(o.events, EPOLLOUT | EPOLLWRNORM);
    }
}
