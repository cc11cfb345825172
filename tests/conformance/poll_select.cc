// poll/ppoll/select/pselect over the fd types Pollux implements: exact
// revents for each type (and for an epoll fd), POLLNVAL, negative fds,
// timeouts (bounded, never exact), select's EBADF and its write-back of the
// remaining timeout, nfds limits, and signals: poll/select return EINTR even
// under SA_RESTART (they use ERESTARTNOHAND / restart blocks), whereas a
// blocking pipe or eventfd read() is transparently restarted under
// SA_RESTART (ERESTARTSYS). Follows fs/select.c: do_sys_poll() (nfds >
// RLIMIT_NOFILE -> EINVAL), do_pollfd() (fd < 0 ignored, bad fd -> POLLNVAL,
// mask filtered by events|POLLERR|POLLHUP), core_sys_select() / do_select()
// (EBADF for a bad fd in any set), poll_select_finish() (timeout write-back),
// arch signal code for the restart rules, and poll(2) / select(2) /
// signal(7).
#include <vector>
#include "harness.h"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>

#include <atomic>

using namespace conf;

namespace {

std::atomic<int> g_usr1{0};
void on_usr1(int) { g_usr1++; }

// Runs fn in a thread, interrupts it with SIGUSR1 once it is blocked, and
// returns fn's (result, errno).
std::pair<long, int> interrupted(const std::function<long()>& fn, const std::function<void()>& rescue)
{
    std::atomic<long> rc{-2};
    std::atomic<int> err{0};
    std::atomic<bool> started{false};
    bg_thread t([&] {
        started = true;
        rc = fn();
        err = errno;
    });
    CHECK(wait_until([&] { return started.load(); }, 2000));
    // Three signals 100 ms apart, in case the first lands before fn blocks;
    // whatever is still blocked after that is released by rescue().
    for (int i = 0; i < 3 && !t.done(); i++) {
        sleep_ms(i == 0 ? 80 : 100);
        if (!t.done())
            CHECK_EQ(pthread_kill(t.native(), SIGUSR1), 0);
    }
    if (!t.join_for(300)) {
        rescue();
        CHECK(t.join_for(4000));
    }
    return {rc.load(), err.load()};
}

}  // namespace

SCENARIO(poll_masks_per_fd_type)
{
    auto p = make_pipe();
    auto s = make_socketpair();
    ufd efd(CHECK_OK(eventfd(1, 0)));
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, efd, EPOLLIN));
    CHECK_EQ(write(p.b, "x", 1), 1);
    CHECK_EQ(write(s.b, "x", 1), 1);
    const short all = POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM | POLLRDBAND |
                      POLLWRBAND | POLLRDHUP;
    pollfd fds[] = {{p.a, all, 0}, {p.b, all, 0}, {s.a, all, 0}, {efd, all, 0}, {ep, all, 0}};
    CHECK_EQ(poll(fds, 5, 0), 5);
    CHECK_EVENTS(fds[0].revents, POLLIN | POLLRDNORM);
    CHECK_EVENTS(fds[1].revents, POLLOUT | POLLWRNORM);
    CHECK_EVENTS(fds[2].revents, POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLWRBAND);
    CHECK_EVENTS(fds[3].revents, POLLIN | POLLOUT);
    CHECK_EVENTS(fds[4].revents, POLLIN | POLLRDNORM);
}

SCENARIO(poll_pollnval_for_closed_fd)
{
    ufd efd(CHECK_OK(eventfd(0, 0)));
    int closed = CHECK_OK(eventfd(0, 0));
    CHECK_EQ(close(closed), 0);
    pollfd fds[] = {{closed, POLLIN, 0x7777}, {efd, POLLIN, 0x7777}};
    double t0 = now_ms();
    // An invalid fd counts as ready, so even an infinite poll returns.
    CHECK_EQ(poll(fds, 2, 5000), 1);
    CHECK_LT(now_ms() - t0, 2000.0);
    CHECK_EVENTS(fds[0].revents, POLLNVAL);
    CHECK_EQ(fds[1].revents, 0);
    pollfd none{closed, 0, 0};
    CHECK_EQ(poll(&none, 1, 0), 1);
    CHECK_EVENTS(none.revents, POLLNVAL);
}

SCENARIO(poll_negative_fd_ignored)
{
    ufd efd(CHECK_OK(eventfd(1, 0)));
    pollfd fds[] = {{-1, POLLIN, 0x55}, {efd, POLLIN, 0}, {-42, POLLOUT, 0x55}};
    CHECK_EQ(poll(fds, 3, 0), 1);
    CHECK_EQ(fds[0].revents, 0);
    CHECK_EVENTS(fds[1].revents, POLLIN);
    CHECK_EQ(fds[2].revents, 0);
    pollfd only{-1, POLLIN, 0};
    double t0 = now_ms();
    CHECK_EQ(poll(&only, 1, 30), 0);
    CHECK_GE(now_ms() - t0, 25.0);
}

SCENARIO(poll_zero_events_still_reports_hup)
{
    auto p = make_pipe();
    CHECK_EQ(write(p.b, "x", 1), 1);
    CHECK_EQ(p.b.close(), 0);
    pollfd f{p.a, 0, 0};
    CHECK_EQ(poll(&f, 1, 0), 1);
    CHECK_EVENTS(f.revents, POLLHUP);
}

SCENARIO(poll_timeouts)
{
    ufd efd(CHECK_OK(eventfd(0, 0)));
    pollfd f{efd, POLLIN, 0};
    double t0 = now_ms();
    CHECK_EQ(poll(&f, 1, 0), 0);
    CHECK_LT(now_ms() - t0, 1000.0);
    t0 = now_ms();
    CHECK_EQ(poll(&f, 1, 50), 0);
    double dt = now_ms() - t0;
    CHECK_GE(dt, 45.0);
    CHECK_LT(dt, 2000.0);
    // poll with no fds at all is a sleep.
    t0 = now_ms();
    CHECK_EQ(poll(nullptr, 0, 30), 0);
    CHECK_GE(now_ms() - t0, 25.0);
}

SCENARIO(poll_nfds_above_rlimit_einval)
{
    rlimit r{};
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &r), 0);
    // A real array of that many entries: Linux refuses before reading it, but a sanitizer's
    // poll() interceptor reads the whole array first.
    std::vector<pollfd> fds(r.rlim_cur + 1, pollfd{-1, 0, 0});
    CHECK_ERR(poll(fds.data(), hide(static_cast<nfds_t>(fds.size())), 0), EINVAL);
}

SCENARIO(poll_blocking_woken_by_other_thread)
{
    auto p = make_pipe();
    bg_thread t([&] {
        sleep_ms(50);
        CHECK_EQ(write(p.b, "x", 1), 1);
    });
    pollfd f{p.a, POLLIN, 0};
    double t0 = now_ms();
    CHECK_EQ(poll(&f, 1, 5000), 1);
    CHECK_LT(now_ms() - t0, 4000.0);
    CHECK_EVENTS(f.revents, POLLIN);
    CHECK(t.join_for(2000));
}

SCENARIO(ppoll_timespec_and_sigmask)
{
    ufd efd(CHECK_OK(eventfd(0, 0)));
    pollfd f{efd, POLLIN, 0};
    timespec bad{0, 1000000000};
    CHECK_ERR(ppoll(&f, 1, &bad, nullptr), EINVAL);
    timespec neg{-1, 0};
    CHECK_ERR(ppoll(&f, 1, &neg, nullptr), EINVAL);
    timespec ts{0, 30 * 1000000};
    double t0 = now_ms();
    CHECK_EQ(ppoll(&f, 1, &ts, nullptr), 0);
    CHECK_GE(now_ms() - t0, 25.0);
    // A pending blocked signal interrupts ppoll once its mask unblocks it.
    scoped_sigaction sa(SIGUSR1, on_usr1, 0);
    g_usr1 = 0;
    std::atomic<int> rc{-2}, err{0};
    bg_thread t([&] {
        sigset_t block, empty;
        sigemptyset(&block);
        sigaddset(&block, SIGUSR1);
        sigemptyset(&empty);
        pthread_sigmask(SIG_BLOCK, &block, nullptr);
        pthread_kill(pthread_self(), SIGUSR1);
        pollfd g{efd, POLLIN, 0};
        timespec longer{3, 0};
        rc = ppoll(&g, 1, &longer, &empty);
        err = errno;
        pthread_sigmask(SIG_UNBLOCK, &block, nullptr);
    });
    CHECK(t.join_for(5000));
    CHECK_EQ(rc.load(), -1);
    CHECK_EQ(err.load(), EINTR);
    CHECK_EQ(g_usr1.load(), 1);
}

SCENARIO(poll_and_select_eintr_even_with_sa_restart)
{
    scoped_sigaction sa(SIGUSR1, on_usr1, SA_RESTART);
    ufd efd(CHECK_OK(eventfd(0, 0)));
    auto rescue = [&] { efd_write(efd, 1); };
    auto r1 = interrupted(
        [&]() -> long {
            pollfd f{efd, POLLIN, 0};
            return poll(&f, 1, 5000);
        },
        rescue);
    CHECK_EQ(r1.first, -1);
    CHECK_EQ(r1.second, EINTR);
    auto r2 = interrupted(
        [&]() -> long {
            fd_set rs;
            FD_ZERO(&rs);
            FD_SET(efd.get(), &rs);
            timeval tv{5, 0};
            return select(efd + 1, &rs, nullptr, nullptr, &tv);
        },
        rescue);
    CHECK_EQ(r2.first, -1);
    CHECK_EQ(r2.second, EINTR);
}

SCENARIO(blocking_read_restarted_with_sa_restart)
{
    scoped_sigaction sa(SIGUSR1, on_usr1, SA_RESTART);
    g_usr1 = 0;
    ufd efd(CHECK_OK(eventfd(0, 0)));
    auto p = make_pipe();
    // The read survives the signal; only the rescue write completes it.
    auto r1 = interrupted(
        [&]() -> long {
            uint64_t v = 0;
            return efd_read(efd, &v);
        },
        [&] { efd_write(efd, 1); });
    CHECK_EQ(r1.first, 8);
    auto r2 = interrupted(
        [&]() -> long {
            char c;
            return read(p.a, &c, 1);
        },
        [&] { CHECK_EQ(write(p.b, "x", 1), 1); });
    CHECK_EQ(r2.first, 1);
    CHECK_GE(g_usr1.load(), 2);
}

SCENARIO(blocking_read_eintr_without_sa_restart)
{
    scoped_sigaction sa(SIGUSR1, on_usr1, 0);
    ufd efd(CHECK_OK(eventfd(0, 0)));
    auto p = make_pipe();
    auto r1 = interrupted(
        [&]() -> long {
            uint64_t v = 0;
            return efd_read(efd, &v);
        },
        [&] { efd_write(efd, 1); });
    CHECK_EQ(r1.first, -1);
    CHECK_EQ(r1.second, EINTR);
    auto r2 = interrupted(
        [&]() -> long {
            char c;
            return read(p.a, &c, 1);
        },
        [&] { CHECK_EQ(write(p.b, "x", 1), 1); });
    CHECK_EQ(r2.first, -1);
    CHECK_EQ(r2.second, EINTR);
}

SCENARIO(select_masks)
{
    auto p = make_pipe();
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK_EQ(write(p.b, "x", 1), 1);
    fd_set rs, ws, es;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_ZERO(&es);
    for (int fd : {p.a.get(), p.b.get(), efd.get()}) {
        FD_SET(fd, &rs);
        FD_SET(fd, &ws);
        FD_SET(fd, &es);
    }
    int maxfd = std::max({p.a.get(), p.b.get(), efd.get()});
    timeval tv{0, 0};
    // Each (fd, set) pair counts: p.a readable, p.b writable, efd writable.
    CHECK_EQ(select(maxfd + 1, &rs, &ws, &es, &tv), 3);
    CHECK(FD_ISSET(p.a.get(), &rs));
    CHECK(!FD_ISSET(p.b.get(), &rs));
    CHECK(!FD_ISSET(efd.get(), &rs));
    CHECK(!FD_ISSET(p.a.get(), &ws));
    CHECK(FD_ISSET(p.b.get(), &ws));
    CHECK(FD_ISSET(efd.get(), &ws));
    for (int fd : {p.a.get(), p.b.get(), efd.get()})
        CHECK(!FD_ISSET(fd, &es));
}

SCENARIO(select_hup_and_err_count_as_ready)
{
    auto p = make_pipe();
    auto q = make_pipe();
    CHECK_EQ(p.b.close(), 0);  // reader sees EOF: readable
    CHECK_EQ(q.a.close(), 0);  // writer sees EPIPE: writable
    fd_set rs, ws;
    FD_ZERO(&rs);
    FD_ZERO(&ws);
    FD_SET(p.a.get(), &rs);
    FD_SET(q.b.get(), &ws);
    timeval tv{0, 0};
    CHECK_EQ(select(std::max(p.a.get(), q.b.get()) + 1, &rs, &ws, nullptr, &tv), 2);
    CHECK(FD_ISSET(p.a.get(), &rs));
    CHECK(FD_ISSET(q.b.get(), &ws));
}

SCENARIO(select_bad_fd_ebadf)
{
    int closed = CHECK_OK(eventfd(0, 0));
    CHECK_EQ(close(closed), 0);
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(closed, &rs);
    timeval tv{0, 0};
    CHECK_ERR(select(closed + 1, &rs, nullptr, nullptr, &tv), EBADF);
    // Bits at or above nfds are not looked at.
    timeval tv2{0, 0};
    CHECK_EQ(select(closed, &rs, nullptr, nullptr, &tv2), 0);
    timeval tv3{0, 0};
    CHECK_ERR(select(-1, nullptr, nullptr, nullptr, &tv3), EINVAL);
    timeval badtv{0, -1};
    CHECK_ERR(select(0, nullptr, nullptr, nullptr, &badtv), EINVAL);
}

SCENARIO(select_timeout_written_back)
{
    ufd efd(CHECK_OK(eventfd(0, 0)));
    fd_set rs;
    FD_ZERO(&rs);
    FD_SET(efd.get(), &rs);
    timeval tv{0, 60000};
    double t0 = now_ms();
    CHECK_EQ(select(efd + 1, &rs, nullptr, nullptr, &tv), 0);
    CHECK_GE(now_ms() - t0, 55.0);
    CHECK_EQ(tv.tv_sec, 0);
    CHECK_EQ(tv.tv_usec, 0);
    CHECK(!FD_ISSET(efd.get(), &rs));
    // Woken early: the remaining time is written back.
    bg_thread t([&] {
        sleep_ms(50);
        efd_write(efd, 1);
    });
    FD_SET(efd.get(), &rs);
    timeval tv2{5, 0};
    CHECK_EQ(select(efd + 1, &rs, nullptr, nullptr, &tv2), 1);
    CHECK(t.join_for(2000));
    double left = static_cast<double>(tv2.tv_sec) * 1000.0 + static_cast<double>(tv2.tv_usec) / 1000.0;
    CHECK_LT(left, 4960.0);
    CHECK_GT(left, 1000.0);
    // pselect takes a const timespec and leaves it alone.
    timespec ts{0, 20 * 1000000};
    FD_ZERO(&rs);
    FD_SET(efd.get(), &rs);
    uint64_t v;
    CHECK_EQ(efd_read(efd, &v), 8);
    CHECK_EQ(pselect(efd + 1, &rs, nullptr, nullptr, &ts, nullptr), 0);
    CHECK_EQ(ts.tv_nsec, 20 * 1000000);
}
