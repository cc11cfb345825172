// Epoll instances watching epoll instances: readiness propagation (an epoll
// fd polls as EPOLLIN|EPOLLRDNORM when its ready list is non-empty, never
// EPOLLOUT), loop rejection (ELOOP), the nesting depth limit EP_MAX_NESTS = 4
// links, which this kernel enforces on the whole resulting chain whether it is
// built top-down, bottom-up or by joining two chains, and the removal of an
// inner epoll from its watchers when it is closed. Follows fs/eventpoll.c:
// ep_eventpoll_poll(), ep_loop_check() / ep_loop_check_proc() /
// ep_get_upwards_depth_proc(), eventpoll_release_file(), and poll(2) on an
// epoll fd.
#include "harness.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <vector>

using namespace conf;

namespace {

// Makes `watcher` watch `watched` (one nesting link).
int link_ep(int watcher, int watched)
{
    epoll_event e = ev(EPOLLIN, static_cast<uint64_t>(watched));
    return epoll_ctl(watcher, EPOLL_CTL_ADD, watched, &e);
}

std::vector<ufd> make_epolls(int n)
{
    std::vector<ufd> v;
    for (int i = 0; i < n; i++)
        v.emplace_back(CHECK_OK(epoll_create1(0)));
    return v;
}

}  // namespace

SCENARIO(epoll_nested_inner_ready_reports_epollin)
{
    ufd outer(CHECK_OK(epoll_create1(0))), inner(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(inner, efd, EPOLLIN, 1));
    CHECK(ep_add(outer, inner, EPOLLIN | EPOLLOUT | EPOLLRDNORM, 2));
    epoll_event out[2] = {};
    CHECK_EQ(epoll_wait(outer, out, 2, 0), 0);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(epoll_wait(outer, out, 2, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLRDNORM);
    CHECK_EQ(out[0].data.u64, 2u);
    // Draining the source makes the inner, and so the outer, not ready.
    uint64_t v;
    CHECK_EQ(efd_read(efd, &v), 8);
    CHECK_EQ(epoll_wait(outer, out, 2, 0), 0);
}

SCENARIO(epoll_nested_never_reports_epollout)
{
    ufd outer(CHECK_OK(epoll_create1(0))), inner(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(inner, efd, EPOLLIN | EPOLLOUT, 1));
    CHECK(ep_add(outer, inner, EPOLLOUT, 2));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(outer, out, 1, 0), 0);
}

SCENARIO(epoll_nested_cycle_eloop)
{
    ufd a(CHECK_OK(epoll_create1(0))), b(CHECK_OK(epoll_create1(0))),
        c(CHECK_OK(epoll_create1(0)));
    CHECK_EQ(link_ep(b, a), 0);
    CHECK_ERR(link_ep(a, b), ELOOP);
    CHECK_EQ(link_ep(c, b), 0);
    CHECK_ERR(link_ep(a, c), ELOOP);
    // A diamond (two paths to the same epoll) is not a loop.
    ufd d(CHECK_OK(epoll_create1(0)));
    CHECK_EQ(link_ep(d, a), 0);
    CHECK_EQ(link_ep(d, b), 0);
}

SCENARIO(epoll_nested_depth_top_down)
{
    auto e = make_epolls(6);
    // e0 watches e1 watches e2 ... built from the top.
    for (int i = 0; i < 4; i++)
        CHECK_EQ(link_ep(e[i], e[i + 1]), 0);
    CHECK_ERR(link_ep(e[4], e[5]), ELOOP);
}

SCENARIO(epoll_nested_depth_bottom_up)
{
    auto e = make_epolls(6);
    for (int i = 4; i >= 1; i--)
        CHECK_EQ(link_ep(e[i], e[i + 1]), 0);
    CHECK_ERR(link_ep(e[0], e[1]), ELOOP);
}

SCENARIO(epoll_nested_depth_join_in_middle)
{
    // Chain A: a0 -> a1 -> a2 (2 links); chain B: b0 -> b1 -> b2 (2 links).
    auto a = make_epolls(3);
    auto b = make_epolls(3);
    for (int i = 0; i < 2; i++) {
        CHECK_EQ(link_ep(a[i], a[i + 1]), 0);
        CHECK_EQ(link_ep(b[i], b[i + 1]), 0);
    }
    // a2 -> b0 would give 5 links.
    CHECK_ERR(link_ep(a[2], b[0]), ELOOP);
    // a2 -> b1 gives exactly 4.
    CHECK_EQ(link_ep(a[2], b[1]), 0);
    // Anything added below b2 is now too deep for a0's chain.
    ufd leaf(CHECK_OK(epoll_create1(0)));
    CHECK_ERR(link_ep(b[2], leaf), ELOOP);
}

SCENARIO(epoll_nested_depth_plain_files_at_bottom)
{
    // The limit counts epoll links only: a 4-link chain can still watch
    // ordinary files at its bottom.
    auto e = make_epolls(5);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(link_ep(e[i], e[i + 1]), 0);
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(e[4], efd, EPOLLIN, 9));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(e[0], out, 1, 0), 0);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(epoll_wait(e[0], out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(out[0].data.u64, static_cast<uint64_t>(e[1].get()));
}

SCENARIO(epoll_poll_on_epoll_fd)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN));
    pollfd p{ep, POLLIN | POLLOUT | POLLRDNORM | POLLPRI, 0};
    CHECK_EQ(poll(&p, 1, 0), 0);
    CHECK_EQ(p.revents, 0);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(poll(&p, 1, 0), 1);
    CHECK_EVENTS(p.revents, POLLIN | POLLRDNORM);
    // poll() asks the epoll to re-check its ready items, so draining the
    // source is seen at once.
    uint64_t v;
    CHECK_EQ(efd_read(efd, &v), 8);
    CHECK_EQ(poll(&p, 1, 0), 0);
    CHECK_EQ(p.revents, 0);
}

SCENARIO(epoll_poll_on_epoll_fd_blocks_until_ready)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN));
    bg_thread t([&] {
        sleep_ms(50);
        efd_write(efd, 1);
    });
    pollfd p{ep, POLLIN, 0};
    double t0 = now_ms();
    CHECK_EQ(poll(&p, 1, 5000), 1);
    CHECK_LT(now_ms() - t0, 4000.0);
    CHECK_EVENTS(p.revents, POLLIN);
    CHECK(t.join_for(2000));
}

SCENARIO(epoll_nested_outer_et)
{
    ufd outer(CHECK_OK(epoll_create1(0))), inner(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(inner, efd, EPOLLIN, 1));
    CHECK(ep_add(outer, inner, EPOLLIN | EPOLLET, 2));
    epoll_event out[1];
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(epoll_wait(outer, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(epoll_wait(outer, out, 1, 0), 0);
    // A new wakeup of the inner's source propagates a new edge even though
    // the inner was never drained.
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(epoll_wait(outer, out, 1, 0), 1);
    CHECK_EQ(epoll_wait(outer, out, 1, 0), 0);
    // Waiting on the inner does not create an edge for the outer.
    CHECK_EQ(epoll_wait(inner, out, 1, 0), 1);
    CHECK_EQ(epoll_wait(outer, out, 1, 0), 0);
}

SCENARIO(epoll_nested_two_levels_propagate)
{
    auto e = make_epolls(3);
    CHECK_EQ(link_ep(e[0], e[1]), 0);
    CHECK_EQ(link_ep(e[1], e[2]), 0);
    auto p = make_pipe();
    CHECK(ep_add(e[2], p.a, EPOLLIN, 5));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(e[0], out, 1, 0), 0);
    bg_thread t([&] {
        sleep_ms(50);
        CHECK_EQ(write(p.b, "x", 1), 1);
    });
    CHECK_EQ(epoll_wait(e[0], out, 1, 5000), 1);
    CHECK_EQ(out[0].data.u64, static_cast<uint64_t>(e[1].get()));
    CHECK(t.join_for(2000));
}

SCENARIO(epoll_nested_close_inner_removes_it)
{
    ufd outer(CHECK_OK(epoll_create1(0)));
    ufd inner(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(inner, efd, EPOLLIN, 1));
    CHECK(ep_add(outer, inner, EPOLLIN, 2));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(outer, out, 1, 0), 1);
    int inner_fd = inner.get();
    CHECK_EQ(inner.close(), 0);
    CHECK_EQ(epoll_wait(outer, out, 1, 0), 0);
    CHECK_ERR(epoll_ctl(outer, EPOLL_CTL_DEL, inner_fd, nullptr), EBADF);
    // The eventfd is unaffected and can be watched by the outer directly.
    CHECK(ep_add(outer, efd, EPOLLIN, 3));
    CHECK_EQ(epoll_wait(outer, out, 1, 0), 1);
    CHECK_EQ(out[0].data.u64, 3u);
}

SCENARIO(epoll_nested_inner_in_two_outers)
{
    ufd o1(CHECK_OK(epoll_create1(0))), o2(CHECK_OK(epoll_create1(0)));
    ufd inner(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(inner, efd, EPOLLIN, 1));
    CHECK(ep_add(o1, inner, EPOLLIN, 11));
    CHECK(ep_add(o2, inner, EPOLLIN, 22));
    CHECK_EQ(efd_write(efd, 1), 8);
    epoll_event out[1];
    CHECK_EQ(epoll_wait(o1, out, 1, 0), 1);
    CHECK_EQ(out[0].data.u64, 11u);
    CHECK_EQ(epoll_wait(o2, out, 1, 0), 1);
    CHECK_EQ(out[0].data.u64, 22u);
}

// reverse_path_check(): chains of eventpolls leading from one file to an outermost one are
// capped per chain length (1000/500/100/50/10 for 0..4 links above the watching epoll). At the
// bottom of a 4-link chain each watch of the file is one 4-link path: the 11th is EINVAL, and
// the refusal leaves nothing behind (a DEL of that fd is ENOENT).
SCENARIO(epoll_nested_wakeup_path_limit_einval)
{
    std::vector<ufd> ep = make_epolls(5);
    for (int i = 0; i < 4; i++)
        CHECK_EQ(link_ep(ep[i + 1], ep[i]), 0);
    auto p = make_pipe();
    std::vector<ufd> dups;
    for (int i = 0; i < 11; i++)
        dups.emplace_back(CHECK_OK(dup(p.a)));
    for (int i = 0; i < 10; i++)
        CHECK(ep_add(ep[0], dups[i], EPOLLIN, static_cast<uint64_t>(i)));
    epoll_event e = ev(EPOLLIN, 10);
    CHECK_ERR(epoll_ctl(ep[0], EPOLL_CTL_ADD, dups[10], &e), EINVAL);
    CHECK_ERR(epoll_ctl(ep[0], EPOLL_CTL_DEL, dups[10], nullptr), ENOENT);
    // Outside any chain the same file may be watched far more often.
    ufd flat(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(flat, dups[10], EPOLLIN, 10));
}
