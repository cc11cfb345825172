// timerfd: creation flags and clocks, settime/gettime (relative, absolute,
// periodic, disarm, old_value), validation errors, reading expiration
// counts (8-byte reads only, EAGAIN when nothing expired), and readiness
// (exactly EPOLLIN once expired). A periodic timer's hrtimer is re-armed by
// read(), not by the expiry itself, so an EPOLLET watcher sees one edge per
// read cycle. Durations are only bounded, never asserted exactly. Follows
// fs/timerfd.c: timerfd_create (flags & ~TFD_CREATE_FLAGS, clock whitelist),
// do_timerfd_settime() (flags & ~TFD_SETTIME_FLAGS, itimerspec64_valid,
// timerfd_setup() resets ticks), timerfd_read(), timerfd_tmrproc(),
// timerfd_poll(), and timerfd_create(2).
#include "harness.h"

#include <poll.h>
#include <sys/timerfd.h>
#include <time.h>

#include <atomic>

using namespace conf;

namespace {

itimerspec its_ms(long value_ms, long interval_ms = 0)
{
    itimerspec t{};
    t.it_value.tv_sec = value_ms / 1000;
    t.it_value.tv_nsec = (value_ms % 1000) * 1000000L;
    t.it_interval.tv_sec = interval_ms / 1000;
    t.it_interval.tv_nsec = (interval_ms % 1000) * 1000000L;
    return t;
}

double ts_ms(const timespec& t)
{
    return static_cast<double>(t.tv_sec) * 1000.0 + static_cast<double>(t.tv_nsec) / 1e6;
}

}  // namespace

SCENARIO(timerfd_create_clocks_and_flags)
{
    ufd a(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, 0)));
    ufd b(CHECK_OK(timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK)));
    ufd c(CHECK_OK(timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC)));
    CHECK_EQ(fcntl(a, F_GETFL), O_RDWR);
    CHECK_EQ(fcntl(b, F_GETFL), O_RDWR | O_NONBLOCK);
    CHECK_EQ(fcntl(a, F_GETFD), 0);
    CHECK_EQ(fcntl(c, F_GETFD), FD_CLOEXEC);
}

SCENARIO(timerfd_create_bad_clock_einval)
{
    CHECK_ERR(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL);
    CHECK_ERR(timerfd_create(CLOCK_THREAD_CPUTIME_ID, 0), EINVAL);
    CHECK_ERR(timerfd_create(CLOCK_MONOTONIC_RAW, 0), EINVAL);
    CHECK_ERR(timerfd_create(CLOCK_REALTIME_COARSE, 0), EINVAL);
    CHECK_ERR(timerfd_create(-1, 0), EINVAL);
    CHECK_ERR(timerfd_create(100, 0), EINVAL);
}

SCENARIO(timerfd_create_bad_flags_einval)
{
    CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
    CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | 0x2), EINVAL);
    CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, -1), EINVAL);
    // Flags are checked before the clock.
    CHECK_ERR(timerfd_create(-1, 1), EINVAL);
}

SCENARIO(timerfd_oneshot_blocking_read)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, 0)));
    itimerspec t = its_ms(50);
    double t0 = now_ms();
    CHECK_EQ(timerfd_settime(tfd, 0, &t, nullptr), 0);
    uint64_t n = 0;
    CHECK_EQ(read(tfd, &n, sizeof n), 8);
    double dt = now_ms() - t0;
    CHECK_EQ(n, 1u);
    CHECK_GE(dt, 45.0);
    CHECK_LT(dt, 5000.0);
    // One-shot: expired means disarmed.
    itimerspec cur{};
    CHECK_EQ(timerfd_gettime(tfd, &cur), 0);
    CHECK_EQ(cur.it_value.tv_sec, 0);
    CHECK_EQ(cur.it_value.tv_nsec, 0);
}

SCENARIO(timerfd_periodic_counts_expirations)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)));
    itimerspec t = its_ms(10, 10);
    double t0 = now_ms();
    CHECK_EQ(timerfd_settime(tfd, 0, &t, nullptr), 0);
    sleep_ms(120);
    uint64_t n = 0;
    CHECK_EQ(read(tfd, &n, sizeof n), 8);
    double dt = now_ms() - t0;
    // Overruns are counted from the clock, so late wakeups do not lose ticks.
    CHECK_GE(n, 10u);
    CHECK_LE(static_cast<double>(n), dt / 10.0 + 1.0);
    itimerspec cur{};
    CHECK_EQ(timerfd_gettime(tfd, &cur), 0);
    CHECK_EQ(cur.it_interval.tv_sec, 0);
    CHECK_EQ(cur.it_interval.tv_nsec, 10000000);
    CHECK_LE(ts_ms(cur.it_value), 10.0);
}

SCENARIO(timerfd_abstime)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, 0)));
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    double t0 = now_ms();
    itimerspec t{};
    t.it_value = now;
    t.it_value.tv_nsec += 60 * 1000000L;
    if (t.it_value.tv_nsec >= 1000000000L) {
        t.it_value.tv_sec++;
        t.it_value.tv_nsec -= 1000000000L;
    }
    CHECK_EQ(timerfd_settime(tfd, TFD_TIMER_ABSTIME, &t, nullptr), 0);
    uint64_t n = 0;
    CHECK_EQ(read(tfd, &n, sizeof n), 8);
    CHECK_EQ(n, 1u);
    double dt = now_ms() - t0;
    CHECK_GE(dt, 50.0);
    CHECK_LT(dt, 5000.0);
}

SCENARIO(timerfd_abstime_in_past_with_interval)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)));
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    // A unikernel runs this within a second of boot, when CLOCK_MONOTONIC (time since boot on
    // both) has no "one second ago" yet: wait until it has.
    if (now.tv_sec < 2) {
        timespec rest{2 - now.tv_sec, 0};
        nanosleep(&rest, nullptr);
        clock_gettime(CLOCK_MONOTONIC, &now);
    }
    itimerspec t = its_ms(0, 100);
    t.it_value = now;
    t.it_value.tv_sec -= 1;
    CHECK_EQ(timerfd_settime(tfd, TFD_TIMER_ABSTIME, &t, nullptr), 0);
    pollfd p{tfd, POLLIN, 0};
    CHECK_EQ(poll(&p, 1, 2000), 1);
    uint64_t n = 0;
    CHECK_EQ(read(tfd, &n, sizeof n), 8);
    // The expiry one second ago plus every 100 ms period since.
    CHECK_GE(n, 10u);
    CHECK_LT(n, 1000u);
}

SCENARIO(timerfd_disarm_with_zero_value)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)));
    itimerspec t = its_ms(10000, 500);
    CHECK_EQ(timerfd_settime(tfd, 0, &t, nullptr), 0);
    itimerspec zero{};
    itimerspec old{};
    CHECK_EQ(timerfd_settime(tfd, 0, &zero, &old), 0);
    CHECK_GT(ts_ms(old.it_value), 5000.0);
    CHECK_LE(ts_ms(old.it_value), 10000.0);
    CHECK_EQ(old.it_interval.tv_nsec, 500000000);
    itimerspec cur = its_ms(1, 1);
    CHECK_EQ(timerfd_gettime(tfd, &cur), 0);
    CHECK_EQ(cur.it_value.tv_sec, 0);
    CHECK_EQ(cur.it_value.tv_nsec, 0);
    CHECK_EQ(cur.it_interval.tv_sec, 0);
    CHECK_EQ(cur.it_interval.tv_nsec, 0);
    uint64_t n;
    CHECK_ERR(read(tfd, &n, sizeof n), EAGAIN);
}

SCENARIO(timerfd_settime_discards_pending_expirations)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)));
    itimerspec t = its_ms(1);
    CHECK_EQ(timerfd_settime(tfd, 0, &t, nullptr), 0);
    pollfd p{tfd, POLLIN, 0};
    CHECK_EQ(poll(&p, 1, 2000), 1);
    // Re-arming (or disarming) resets the unread expiration count.
    itimerspec zero{};
    CHECK_EQ(timerfd_settime(tfd, 0, &zero, nullptr), 0);
    uint64_t n;
    CHECK_ERR(read(tfd, &n, sizeof n), EAGAIN);
    CHECK_EQ(poll(&p, 1, 0), 0);
}

SCENARIO(timerfd_gettime_remaining)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_REALTIME, 0)));
    itimerspec t = its_ms(5000);
    CHECK_EQ(timerfd_settime(tfd, 0, &t, nullptr), 0);
    itimerspec cur{};
    CHECK_EQ(timerfd_gettime(tfd, &cur), 0);
    CHECK_LE(ts_ms(cur.it_value), 5000.0);
    CHECK_GT(ts_ms(cur.it_value), 3000.0);
    CHECK_EQ(cur.it_interval.tv_sec, 0);
    CHECK_EQ(cur.it_interval.tv_nsec, 0);
    // A fresh timer reads back as disarmed.
    ufd fresh(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, 0)));
    cur = its_ms(7, 7);
    CHECK_EQ(timerfd_gettime(fresh, &cur), 0);
    CHECK_EQ(ts_ms(cur.it_value), 0.0);
    CHECK_EQ(ts_ms(cur.it_interval), 0.0);
}

SCENARIO(timerfd_invalid_timespec_einval)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, 0)));
    itimerspec t = its_ms(100);
    t.it_value.tv_nsec = 1000000000L;
    CHECK_ERR(timerfd_settime(tfd, 0, &t, nullptr), EINVAL);
    t = its_ms(100);
    t.it_value.tv_sec = -1;
    CHECK_ERR(timerfd_settime(tfd, 0, &t, nullptr), EINVAL);
    t = its_ms(100);
    t.it_value.tv_nsec = -1;
    CHECK_ERR(timerfd_settime(tfd, 0, &t, nullptr), EINVAL);
    t = its_ms(100);
    t.it_interval.tv_nsec = 1000000000L;
    CHECK_ERR(timerfd_settime(tfd, 0, &t, nullptr), EINVAL);
    // A failed settime leaves the timer disarmed.
    itimerspec cur{};
    CHECK_EQ(timerfd_gettime(tfd, &cur), 0);
    CHECK_EQ(ts_ms(cur.it_value), 0.0);
}

SCENARIO(timerfd_settime_bad_flags_and_fds)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, 0)));
    itimerspec t = its_ms(100);
    CHECK_ERR(timerfd_settime(tfd, 4, &t, nullptr), EINVAL);
    CHECK_ERR(timerfd_settime(tfd, -1, &t, nullptr), EINVAL);
    CHECK_ERR(timerfd_settime(-1, 0, &t, nullptr), EBADF);
    itimerspec cur{};
    CHECK_ERR(timerfd_gettime(-1, &cur), EBADF);
    auto p = make_pipe();
    CHECK_ERR(timerfd_settime(p.a, 0, &t, nullptr), EINVAL);
    CHECK_ERR(timerfd_gettime(p.a, &cur), EINVAL);
    // Flags and the timespec are validated before the fd.
    CHECK_ERR(timerfd_settime(-1, 4, &t, nullptr), EINVAL);
    CHECK_ERR(timerfd_settime(tfd, 0, hide<itimerspec*>(nullptr), nullptr), EFAULT);
}

SCENARIO(timerfd_read_short_buffer_and_write_einval)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)));
    itimerspec t = its_ms(1);
    CHECK_EQ(timerfd_settime(tfd, 0, &t, nullptr), 0);
    pollfd p{tfd, POLLIN, 0};
    CHECK_EQ(poll(&p, 1, 2000), 1);
    char buf[16];
    CHECK_ERR(read(tfd, buf, 7), EINVAL);
    CHECK_ERR(read(tfd, buf, 0), EINVAL);
    uint64_t eight = 1;
    CHECK_ERR(write(tfd, &eight, sizeof eight), EINVAL);
    // The short read consumed nothing.
    uint64_t big[2] = {0, 0};
    CHECK_EQ(read(tfd, big, sizeof big), 8);
    CHECK_EQ(big[0], 1u);
}

SCENARIO(timerfd_nonblock_not_expired_eagain)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)));
    uint64_t n;
    CHECK_ERR(read(tfd, &n, sizeof n), EAGAIN);
    itimerspec t = its_ms(10000);
    CHECK_EQ(timerfd_settime(tfd, 0, &t, nullptr), 0);
    CHECK_ERR(read(tfd, &n, sizeof n), EAGAIN);
}

SCENARIO(timerfd_epoll_and_poll_masks)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)));
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, tfd, EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLPRI, 4));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    itimerspec t = its_ms(30);
    CHECK_EQ(timerfd_settime(tfd, 0, &t, nullptr), 0);
    CHECK_EQ(epoll_wait(ep, out, 1, 5000), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    pollfd p{tfd, POLLIN | POLLOUT | POLLRDNORM, 0};
    CHECK_EQ(poll(&p, 1, 0), 1);
    CHECK_EVENTS(p.revents, POLLIN);
    uint64_t n;
    CHECK_EQ(read(tfd, &n, sizeof n), 8);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
}

SCENARIO(timerfd_epoll_et_one_edge_per_read)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK)));
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, tfd, EPOLLIN | EPOLLET, 1));
    itimerspec t = its_ms(10, 10);
    CHECK_EQ(timerfd_settime(tfd, 0, &t, nullptr), 0);
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 5000), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    // Further periods pass, but the hrtimer is only re-armed by read().
    CHECK_EQ(epoll_wait(ep, out, 1, 100), 0);
    uint64_t n = 0;
    CHECK_EQ(read(tfd, &n, sizeof n), 8);
    CHECK_GE(n, 5u);
    CHECK_EQ(epoll_wait(ep, out, 1, 5000), 1);
}

SCENARIO(timerfd_blocking_read_in_thread)
{
    ufd tfd(CHECK_OK(timerfd_create(CLOCK_MONOTONIC, 0)));
    std::atomic<ssize_t> rc{-2};
    std::atomic<uint64_t> n{0};
    bg_thread th([&] {
        uint64_t v = 0;
        rc = read(tfd, &v, sizeof v);
        n = v;
    });
    sleep_ms(50);
    CHECK(!th.done());
    itimerspec t = its_ms(20);
    CHECK_EQ(timerfd_settime(tfd, 0, &t, nullptr), 0);
    CHECK(th.join_for(5000));
    CHECK_EQ(rc.load(), 8);
    CHECK_EQ(n.load(), 1u);
}
