// epoll_wait, epoll_pwait and epoll_pwait2: argument validation and its
// order (epfd lookup, then maxevents, then the epoll type), NULL event buffers, timeouts (never exact, only bounded), signal
// masks, EINTR (ep_poll() returns -EINTR, never -ERESTARTSYS, so SA_RESTART
// does not restart it), and the ready-list rotation that makes repeated
// maxevents-limited waits round-robin over level-triggered items. Follows
// fs/eventpoll.c: do_epoll_wait(), do_epoll_pwait(), epoll_pwait2's
// poll_select_set_timeout() check, ep_poll(), ep_send_events() (LT items are
// re-queued at the tail) and ep_done_scan() (unsent items go back at the head).
#include "harness.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <climits>

using namespace conf;

namespace {

std::atomic<int> g_usr1_count{0};
void on_usr1(int) { g_usr1_count++; }

// Signals the thread every 100 ms until it returns: a signal that lands
// before the thread is inside epoll_wait is simply handled, and the next
// one interrupts the wait.
void interrupt_until_done(bg_thread& t)
{
    for (int i = 0; i < 30 && !t.done(); i++) {
        sleep_ms(i == 0 ? 50 : 100);
        if (!t.done())
            CHECK_EQ(pthread_kill(t.native(), SIGUSR1), 0);
    }
    CHECK(t.join_for(4000));
}

}  // namespace

SCENARIO(epoll_wait_maxevents_nonpositive_einval)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_event out[1];
    CHECK_ERR(epoll_wait(ep, out, 0, 0), EINVAL);
    CHECK_ERR(epoll_wait(ep, out, hide(-1), 0), EINVAL);
    CHECK_ERR(epoll_pwait(ep, out, 0, 0, nullptr), EINVAL);
    timespec ts{0, 0};
    CHECK_ERR(epoll_pwait2(ep, out, 0, &ts, nullptr), EINVAL);
}

SCENARIO(epoll_wait_maxevents_above_limit_einval)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_event out[1];
    // EP_MAX_EVENTS is INT_MAX / sizeof(struct epoll_event).
    const int limit = INT_MAX / static_cast<int>(sizeof(epoll_event));
    CHECK_ERR(epoll_wait(ep, out, hide(limit + 1), 0), EINVAL);
    CHECK_ERR(epoll_wait(ep, out, hide(INT_MAX), 0), EINVAL);
    // The limit itself is accepted; the buffer is only written when events
    // are ready, so a short buffer with nothing ready is fine. (It must be a
    // low address: access_ok() rejects a range that would run past the top
    // of user space, which a 2 GiB range starting on the stack can do.)
    static epoll_event low[1];
    CHECK_EQ(epoll_wait(ep, low, hide(limit), 0), 0);
}

SCENARIO(epoll_wait_bad_epfd_ebadf)
{
    epoll_event out[1];
    CHECK_ERR(epoll_wait(-1, out, 1, 0), EBADF);
    int closed = CHECK_OK(epoll_create1(0));
    CHECK_EQ(close(closed), 0);
    CHECK_ERR(epoll_wait(closed, out, 1, 0), EBADF);
    CHECK_ERR(epoll_pwait(closed, out, 1, 0, nullptr), EBADF);
    timespec ts{0, 0};
    CHECK_ERR(epoll_pwait2(closed, out, 1, &ts, nullptr), EBADF);
}

SCENARIO(epoll_wait_non_epoll_fd_einval)
{
    ufd efd(CHECK_OK(eventfd(1, 0)));
    epoll_event out[1];
    CHECK_ERR(epoll_wait(efd, out, 1, 0), EINVAL);
    auto p = make_pipe();
    CHECK_ERR(epoll_wait(p.a, out, 1, 0), EINVAL);
}

SCENARIO(epoll_wait_error_order)
{
    epoll_event out[1];
    // Since the fd-class conversion (6.12+), the epfd lookup comes first:
    // a bad epfd beats a bad maxevents...
    CHECK_ERR(epoll_wait(-1, out, 0, 0), EBADF);
    CHECK_ERR(epoll_pwait(-1, out, hide(-1), 0, nullptr), EBADF);
    // epoll_pwait2 validates the timespec before anything else.
    timespec bad{-1, 0};
    CHECK_ERR(epoll_pwait2(-1, out, 1, &bad, nullptr), EINVAL);
    timespec good{0, 0};
    CHECK_ERR(epoll_pwait2(-1, out, 1, &good, nullptr), EBADF);
    // ... while maxevents is checked before "is it an epoll" (both EINVAL).
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK_ERR(epoll_wait(efd, out, 0, 0), EINVAL);
}

SCENARIO(epoll_wait_null_events)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN, 7));
    // Nothing is copied when nothing is ready, so NULL goes unnoticed.
    CHECK_EQ(epoll_wait(ep, hide<epoll_event*>(nullptr), 1, 0), 0);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_ERR(epoll_wait(ep, hide<epoll_event*>(nullptr), 1, 0), EFAULT);
    CHECK_ERR(epoll_wait(ep, hide<epoll_event*>(nullptr), 4, 10), EFAULT);
    // The event that could not be copied is still pending.
    epoll_event out[2] = {};
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    CHECK_EQ(out[0].data.u64, 7u);
}

SCENARIO(epoll_wait_timeout_zero_returns_immediately)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_event out[1];
    double t0 = now_ms();
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    timespec zero{0, 0};
    CHECK_EQ(epoll_pwait2(ep, out, 1, &zero, nullptr), 0);
    CHECK_LT(now_ms() - t0, 1000.0);
}

SCENARIO(epoll_wait_timeout_elapses)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN));
    epoll_event out[1];
    double t0 = now_ms();
    CHECK_EQ(epoll_wait(ep, out, 1, 50), 0);
    double dt = now_ms() - t0;
    CHECK_GE(dt, 45.0);
    CHECK_LT(dt, 2000.0);

    t0 = now_ms();
    CHECK_EQ(epoll_pwait(ep, out, 1, 30, nullptr), 0);
    dt = now_ms() - t0;
    CHECK_GE(dt, 25.0);
    CHECK_LT(dt, 2000.0);
}

SCENARIO(epoll_pwait2_timeout_elapses)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_event out[1];
    timespec ts{0, 40 * 1000 * 1000};
    double t0 = now_ms();
    CHECK_EQ(epoll_pwait2(ep, out, 1, &ts, nullptr), 0);
    double dt = now_ms() - t0;
    CHECK_GE(dt, 35.0);
    CHECK_LT(dt, 2000.0);
    // The kernel copies the timespec in and never writes it back.
    CHECK_EQ(ts.tv_sec, 0);
    CHECK_EQ(ts.tv_nsec, 40 * 1000 * 1000);
}

SCENARIO(epoll_pwait2_invalid_timespec_einval)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_event out[1];
    timespec neg_sec{-1, 0};
    timespec big_nsec{0, 1000000000};
    timespec neg_nsec{0, -1};
    CHECK_ERR(epoll_pwait2(ep, out, 1, &neg_sec, nullptr), EINVAL);
    CHECK_ERR(epoll_pwait2(ep, out, 1, &big_nsec, nullptr), EINVAL);
    CHECK_ERR(epoll_pwait2(ep, out, 1, &neg_nsec, nullptr), EINVAL);
    timespec max_nsec{0, 999999999};
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN));
    CHECK_EQ(epoll_pwait2(ep, out, 1, &max_nsec, nullptr), 1);
}

SCENARIO(epoll_wait_infinite_woken_by_other_thread)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN, 9));
    std::atomic<int> rc{-2};
    epoll_event got{};
    bg_thread t([&] { rc = epoll_wait(ep, &got, 1, -1); });
    sleep_ms(50);
    CHECK(!t.done());
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK(t.join_for(5000));
    CHECK_EQ(rc.load(), 1);
    CHECK_EVENTS(got.events, EPOLLIN);
    CHECK_EQ(got.data.u64, 9u);
}

SCENARIO(epoll_wait_negative_timeout_is_infinite)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN));
    std::atomic<int> rc{-2};
    bg_thread t([&] {
        epoll_event got{};
        rc = epoll_wait(ep, &got, 1, -1000);
    });
    sleep_ms(100);
    CHECK(!t.done());
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK(t.join_for(5000));
    CHECK_EQ(rc.load(), 1);
}

SCENARIO(epoll_pwait2_null_timeout_is_infinite)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN, 4));
    std::atomic<int> rc{-2};
    epoll_event got{};
    bg_thread t([&] { rc = epoll_pwait2(ep, &got, 1, nullptr, nullptr); });
    sleep_ms(100);
    CHECK(!t.done());
    CHECK_EQ(efd_write(efd, 3), 8);
    CHECK(t.join_for(5000));
    CHECK_EQ(rc.load(), 1);
    CHECK_EQ(got.data.u64, 4u);
}

SCENARIO(epoll_wait_round_robin_maxevents_1)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd a(CHECK_OK(eventfd(1, 0))), b(CHECK_OK(eventfd(1, 0))), c(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep, a, EPOLLIN, 1));
    CHECK(ep_add(ep, b, EPOLLIN, 2));
    CHECK(ep_add(ep, c, EPOLLIN, 3));
    // Each wait hands out the head and re-queues it at the tail.
    const uint64_t want[] = {1, 2, 3, 1, 2, 3, 1};
    for (uint64_t w : want) {
        epoll_event out[1] = {};
        CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
        CHECK_EQ(out[0].data.u64, w);
    }
}

SCENARIO(epoll_wait_round_robin_maxevents_2)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd a(CHECK_OK(eventfd(1, 0))), b(CHECK_OK(eventfd(1, 0))), c(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep, a, EPOLLIN, 1));
    CHECK(ep_add(ep, b, EPOLLIN, 2));
    CHECK(ep_add(ep, c, EPOLLIN, 3));
    // Unsent items go back in front of the re-queued ones.
    const uint64_t want[][2] = {{1, 2}, {3, 1}, {2, 3}, {1, 2}};
    for (const auto& w : want) {
        epoll_event out[2] = {};
        CHECK_EQ(epoll_wait(ep, out, 2, 0), 2);
        CHECK_EQ(out[0].data.u64, w[0]);
        CHECK_EQ(out[1].data.u64, w[1]);
    }
}

SCENARIO(epoll_wait_reports_in_readiness_order)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd a(CHECK_OK(eventfd(0, 0))), b(CHECK_OK(eventfd(0, 0))), c(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, a, EPOLLIN, 1));
    CHECK(ep_add(ep, b, EPOLLIN, 2));
    CHECK(ep_add(ep, c, EPOLLIN, 3));
    CHECK_EQ(efd_write(c, 1), 8);
    CHECK_EQ(efd_write(a, 1), 8);
    CHECK_EQ(efd_write(b, 1), 8);
    CHECK_EQ(efd_write(c, 1), 8);  // already queued: keeps its place
    epoll_event out[4] = {};
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 3);
    CHECK_EQ(out[0].data.u64, 3u);
    CHECK_EQ(out[1].data.u64, 1u);
    CHECK_EQ(out[2].data.u64, 2u);
}

SCENARIO(epoll_wait_eintr_without_sa_restart)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    scoped_sigaction sa(SIGUSR1, on_usr1, 0);
    g_usr1_count = 0;
    std::atomic<int> rc{-2}, err{0};
    std::atomic<bool> started{false};
    bg_thread t([&] {
        epoll_event out[1];
        started = true;
        rc = epoll_wait(ep, out, 1, 5000);
        err = errno;
    });
    CHECK(wait_until([&] { return started.load(); }, 2000));
    interrupt_until_done(t);
    CHECK_EQ(rc.load(), -1);
    CHECK_EQ(err.load(), EINTR);
    CHECK_GE(g_usr1_count.load(), 1);
}

SCENARIO(epoll_wait_eintr_even_with_sa_restart)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    scoped_sigaction sa(SIGUSR1, on_usr1, SA_RESTART);
    g_usr1_count = 0;
    std::atomic<int> rc{-2}, err{0};
    std::atomic<bool> started{false};
    bg_thread t([&] {
        epoll_event out[1];
        started = true;
        rc = epoll_wait(ep, out, 1, 5000);
        err = errno;
    });
    CHECK(wait_until([&] { return started.load(); }, 2000));
    interrupt_until_done(t);
    CHECK_EQ(rc.load(), -1);
    CHECK_EQ(err.load(), EINTR);
    CHECK_GE(g_usr1_count.load(), 1);
}

SCENARIO(epoll_pwait_sigmask_blocks_signal)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    scoped_sigaction sa(SIGUSR1, on_usr1, 0);
    g_usr1_count = 0;
    std::atomic<int> rc{-2}, during{-1}, after{-1};
    std::atomic<bool> started{false};
    bg_thread t([&] {
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        epoll_event out[1];
        started = true;
        rc = epoll_pwait(ep, out, 1, 500, &block);
        // The signal was held pending for the whole wait and is delivered
        // as soon as epoll_pwait restores the original mask.
        after = g_usr1_count.load();
    });
    CHECK(wait_until([&] { return started.load(); }, 2000));
    sleep_ms(100);
    CHECK_EQ(pthread_kill(t.native(), SIGUSR1), 0);
    sleep_ms(50);
    during = g_usr1_count.load();
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 0);
    CHECK_EQ(during.load(), 0);
    CHECK_EQ(after.load(), 1);
}

SCENARIO(epoll_pwait_sigmask_unblocks_signal)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    scoped_sigaction sa(SIGUSR1, on_usr1, 0);
    g_usr1_count = 0;
    std::atomic<int> rc{-2}, err{0}, before{-1};
    std::atomic<bool> blocked{false};
    bg_thread t([&] {
        sigset_t block, empty;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        sigemptyset(&empty);
        pthread_sigmask(SIG_BLOCK, &block, nullptr);
        blocked = true;
        sleep_ms(100);  // the signal arrives while blocked and stays pending
        before = g_usr1_count.load();
        epoll_event out[1];
        rc = epoll_pwait(ep, out, 1, 3000, &empty);
        err = errno;
        pthread_sigmask(SIG_UNBLOCK, &block, nullptr);
    });
    CHECK(wait_until([&] { return blocked.load(); }, 2000));
    CHECK_EQ(pthread_kill(t.native(), SIGUSR1), 0);
    CHECK(t.join_for(5000));
    CHECK_EQ(before.load(), 0);
    CHECK_EQ(rc.load(), -1);
    CHECK_EQ(err.load(), EINTR);
    CHECK_EQ(g_usr1_count.load(), 1);
}

SCENARIO(epoll_wait_returns_ready_without_blocking)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(5, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN));
    epoll_event out[8] = {};
    double t0 = now_ms();
    CHECK_EQ(epoll_wait(ep, out, 8, 10000), 1);
    CHECK_LT(now_ms() - t0, 1000.0);
    CHECK_EVENTS(out[0].events, EPOLLIN);
}
