// Wakeup fan-out: EPOLLEXCLUSIVE items across several epoll instances, and
// several threads blocked on one epoll instance. Follows fs/eventpoll.c:
// ep_ptable_queue_proc() (EXCLUSIVE items join the target's wait queue with
// add_wait_queue_exclusive), ep_poll_callback() (an exclusive entry only
// "consumes" the wakeup if its epoll had a waiter), ep_poll() (epoll_wait
// callers sleep as exclusive waiters, so one wakeup wakes one thread) and
// ep_done_scan() (a still-non-empty ready list wakes the next waiter, which
// is why level-triggered items cascade to every blocked thread).
// Every blocked thread announces itself and is given 150 ms to reach the
// kernel before the event is fired; all waits have timeouts.
#include "harness.h"

#include <sys/eventfd.h>

#include <atomic>
#include <memory>
#include <vector>

using namespace conf;

namespace {

// A thread blocked in epoll_wait on one epoll fd.
struct waiter {
    std::atomic<bool> started{false};
    std::atomic<int> rc{-2};
    std::unique_ptr<bg_thread> th;

    void start(int ep, int timeout_ms)
    {
        th = std::make_unique<bg_thread>([this, ep, timeout_ms] {
            epoll_event out[4];
            started = true;
            rc = epoll_wait(ep, out, 4, timeout_ms);
        });
    }
};

void wait_all_blocked(std::vector<std::unique_ptr<waiter>>& ws)
{
    for (auto& w : ws)
        CHECK(wait_until([&] { return w->started.load(); }, 2000));
    sleep_ms(150);
    for (auto& w : ws)
        CHECK(!w->th->done());
}

// Joins every waiter and returns how many saw an event.
int join_count(std::vector<std::unique_ptr<waiter>>& ws)
{
    int woke = 0;
    for (auto& w : ws) {
        CHECK(w->th->join_for(5000));
        int rc = w->rc.load();
        CHECK(rc == 0 || rc == 1);
        woke += rc == 1;
    }
    return woke;
}

// n epoll instances each watching efd with the given mask, one thread each.
int fan_out_epolls(int n, uint32_t mask)
{
    ufd efd(CHECK_OK(eventfd(0, EFD_NONBLOCK)));
    std::vector<ufd> eps;
    std::vector<std::unique_ptr<waiter>> ws;
    for (int i = 0; i < n; i++) {
        eps.emplace_back(CHECK_OK(epoll_create1(0)));
        CHECK(ep_add(eps.back(), efd, mask, i));
    }
    for (int i = 0; i < n; i++) {
        ws.push_back(std::make_unique<waiter>());
        ws.back()->start(eps[i], 700);
    }
    wait_all_blocked(ws);
    CHECK_EQ(efd_write(efd, 1), 8);
    return join_count(ws);
}

// n threads blocked on one epoll watching efd with mask.
int fan_out_threads(int n, uint32_t mask)
{
    ufd efd(CHECK_OK(eventfd(0, EFD_NONBLOCK)));
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, efd, mask, 1));
    std::vector<std::unique_ptr<waiter>> ws;
    for (int i = 0; i < n; i++) {
        ws.push_back(std::make_unique<waiter>());
        ws.back()->start(ep, 700);
    }
    wait_all_blocked(ws);
    CHECK_EQ(efd_write(efd, 1), 8);
    return join_count(ws);
}

}  // namespace

SCENARIO(epoll_exclusive_two_epolls_one_wakes)
{
    CHECK_EQ(fan_out_epolls(2, EPOLLIN | EPOLLEXCLUSIVE), 1);
}

SCENARIO(epoll_exclusive_three_epolls_one_wakes)
{
    CHECK_EQ(fan_out_epolls(3, EPOLLIN | EPOLLEXCLUSIVE), 1);
}

SCENARIO(epoll_exclusive_et_epolls_one_wakes)
{
    CHECK_EQ(fan_out_epolls(2, EPOLLIN | EPOLLET | EPOLLEXCLUSIVE), 1);
}

SCENARIO(epoll_non_exclusive_epolls_all_wake)
{
    CHECK_EQ(fan_out_epolls(2, EPOLLIN), 2);
    CHECK_EQ(fan_out_epolls(3, EPOLLIN), 3);
}

SCENARIO(epoll_exclusive_skipped_epoll_not_queued)
{
    // Exclusive entries are woken in ADD order; ep_a (added first) has a
    // waiter and takes the wakeup, so ep_b's callback never runs and its
    // item is not on its ready list even though the eventfd is readable.
    ufd efd(CHECK_OK(eventfd(0, EFD_NONBLOCK)));
    ufd ep_a(CHECK_OK(epoll_create1(0))), ep_b(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep_a, efd, EPOLLIN | EPOLLEXCLUSIVE, 1));
    CHECK(ep_add(ep_b, efd, EPOLLIN | EPOLLEXCLUSIVE, 2));
    std::vector<std::unique_ptr<waiter>> ws;
    ws.push_back(std::make_unique<waiter>());
    ws.back()->start(ep_a, 2000);
    wait_all_blocked(ws);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(join_count(ws), 1);
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep_b, out, 1, 0), 0);
    CHECK_EQ(epoll_wait(ep_a, out, 1, 0), 1);
}

SCENARIO(epoll_exclusive_epoll_without_waiter_passes_wakeup_on)
{
    // ep_a comes first but nobody waits on it: its callback queues the item
    // and does not count as a wakeup, so the wakeup reaches ep_b's waiter.
    ufd efd(CHECK_OK(eventfd(0, EFD_NONBLOCK)));
    ufd ep_a(CHECK_OK(epoll_create1(0))), ep_b(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep_a, efd, EPOLLIN | EPOLLEXCLUSIVE, 1));
    CHECK(ep_add(ep_b, efd, EPOLLIN | EPOLLEXCLUSIVE, 2));
    std::vector<std::unique_ptr<waiter>> ws;
    ws.push_back(std::make_unique<waiter>());
    ws.back()->start(ep_b, 2000);
    wait_all_blocked(ws);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(join_count(ws), 1);
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep_a, out, 1, 0), 1);
    CHECK_EQ(out[0].data.u64, 1u);
}

SCENARIO(epoll_exclusive_item_reports_normally)
{
    ufd efd(CHECK_OK(eventfd(0, 0)));
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, efd, EPOLLIN | EPOLLOUT | EPOLLEXCLUSIVE, 3));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLOUT);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, efd, nullptr), 0);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
}

SCENARIO(epoll_one_epoll_threads_et_one_wakes)
{
    CHECK_EQ(fan_out_threads(3, EPOLLIN | EPOLLET), 1);
}

SCENARIO(epoll_one_epoll_threads_oneshot_one_wakes)
{
    CHECK_EQ(fan_out_threads(3, EPOLLIN | EPOLLONESHOT), 1);
}

SCENARIO(epoll_one_epoll_threads_lt_cascade_all_wake)
{
    // The first woken thread re-queues the LT item and, finding the ready
    // list non-empty, wakes the next waiter, and so on.
    CHECK_EQ(fan_out_threads(3, EPOLLIN), 3);
}
