// Cross-thread behaviour: epoll_ctl on an epoll another thread is blocked in,
// several threads blocked in read()/write() on one pipe or eventfd, and the
// atomicity of pipe writes of at most PIPE_BUF bytes between concurrent
// writers. Every byte or count written must be accounted for exactly once.
// Follows fs/eventpoll.c: ep_insert()/ep_modify() (wake waiters if the new
// item is ready), fs/pipe.c: pipe_read()/pipe_write() (PIPE_BUF atomicity,
// wake-ups on rd_wait/wr_wait), fs/eventfd.c: eventfd_read()/eventfd_write()
// (blocking until the counter allows the operation), and pipe(7).
#include "harness.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <atomic>
#include <memory>
#include <vector>

using namespace conf;

SCENARIO(epoll_blocked_wait_woken_by_ctl_add)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    std::atomic<int> rc{-2};
    std::atomic<uint64_t> data{0};
    bg_thread t([&] {
        epoll_event out[1] = {};
        rc = epoll_wait(ep, out, 1, 5000);
        data = out[0].data.u64;
    });
    sleep_ms(100);
    CHECK(!t.done());
    CHECK(ep_add(ep, efd, EPOLLIN, 31));
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 1);
    CHECK_EQ(data.load(), 31u);
}

SCENARIO(epoll_blocked_wait_woken_by_ctl_mod)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep, efd, EPOLLOUT | EPOLLONESHOT, 1));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);  // now disarmed
    std::atomic<int> rc{-2};
    std::atomic<uint64_t> data{0};
    bg_thread t([&] {
        epoll_event o[1] = {};
        rc = epoll_wait(ep, o, 1, 5000);
        data = o[0].data.u64;
    });
    sleep_ms(100);
    CHECK(!t.done());
    epoll_event e = ev(EPOLLIN, 2);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &e), 0);
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 1);
    CHECK_EQ(data.load(), 2u);
}

SCENARIO(epoll_blocked_wait_item_deleted_times_out)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN, 1));
    std::atomic<int> rc{-2};
    bg_thread t([&] {
        epoll_event out[1];
        rc = epoll_wait(ep, out, 1, 300);
    });
    sleep_ms(50);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, efd, nullptr), 0);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 0);
}

SCENARIO(epoll_blocked_wait_watched_fd_closed_times_out)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto p = make_pipe();
    CHECK(ep_add(ep, p.a, EPOLLIN, 1));
    std::atomic<int> rc{-2};
    bg_thread t([&] {
        epoll_event out[1];
        rc = epoll_wait(ep, out, 1, 300);
    });
    sleep_ms(50);
    // Closing the read end removes the item; no event (not even HUP) shows.
    CHECK_EQ(p.a.close(), 0);
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 0);
}

SCENARIO(pipe_many_blocked_readers_all_data_accounted)
{
    auto p = make_pipe();
    constexpr int readers = 3, total = 3000;
    std::atomic<long> got{0};
    std::atomic<long> checksum{0};
    std::vector<std::unique_ptr<bg_thread>> ts;
    for (int i = 0; i < readers; i++)
        ts.push_back(std::make_unique<bg_thread>([&] {
            unsigned char buf[64];
            for (;;) {
                ssize_t n = read(p.a, buf, sizeof buf);
                if (n <= 0)
                    break;
                got += n;
                for (ssize_t k = 0; k < n; k++)
                    checksum += buf[k];
            }
        }));
    sleep_ms(50);
    long expect_sum = 0;
    for (int i = 0; i < total; i++) {
        unsigned char c = static_cast<unsigned char>(i % 251);
        expect_sum += c;
        CHECK_EQ(write(p.b, &c, 1), 1);
    }
    // EOF releases every reader once the pipe is drained.
    CHECK_EQ(p.b.close(), 0);
    for (auto& t : ts)
        CHECK(t->join_for(5000));
    CHECK_EQ(got.load(), total);
    CHECK_EQ(checksum.load(), expect_sum);
}

SCENARIO(eventfd_many_blocked_readers_semaphore)
{
    ufd efd(CHECK_OK(eventfd(0, EFD_SEMAPHORE)));
    constexpr int readers = 3, tokens = 300;
    std::atomic<int> taken{0};
    std::atomic<int> bad{0};
    std::vector<std::unique_ptr<bg_thread>> ts;
    for (int i = 0; i < readers; i++)
        ts.push_back(std::make_unique<bg_thread>([&] {
            for (;;) {
                uint64_t v = 0;
                if (efd_read(efd, &v) != 8 || v != 1)
                    bad++;
                // Tokens past `tokens` are the per-thread stop signals.
                if (++taken > tokens)
                    break;
            }
        }));
    sleep_ms(50);
    for (int i = 0; i < tokens / 3; i++)
        CHECK_EQ(efd_write(efd, 3), 8);
    CHECK(wait_until([&] { return taken.load() >= tokens; }, 5000));
    CHECK_EQ(taken.load(), tokens);
    CHECK_EQ(efd_write(efd, readers), 8);
    for (auto& t : ts)
        CHECK(t->join_for(5000));
    CHECK_EQ(taken.load(), tokens + readers);
    CHECK_EQ(bad.load(), 0);
}

SCENARIO(eventfd_many_blocked_readers_counter)
{
    ufd efd(CHECK_OK(eventfd(0, 0)));
    constexpr int readers = 3;
    constexpr uint64_t stop = uint64_t{1} << 40;
    std::atomic<uint64_t> sum{0};
    std::vector<std::unique_ptr<bg_thread>> ts;
    for (int i = 0; i < readers; i++)
        ts.push_back(std::make_unique<bg_thread>([&] {
            for (;;) {
                uint64_t v = 0;
                if (efd_read(efd, &v) != 8)
                    break;
                if (v >= stop) {
                    sum += v - stop;
                    break;
                }
                sum += v;
            }
        }));
    sleep_ms(50);
    uint64_t expect = 0;
    for (uint64_t i = 1; i <= 200; i++) {
        CHECK_EQ(efd_write(efd, i), 8);
        expect += i;
    }
    CHECK(wait_until([&] { return sum.load() == expect; }, 5000));
    // One stop marker per reader; each read takes the whole counter, so
    // wait for it to be consumed before the next.
    for (int i = 0; i < readers; i++) {
        CHECK_EQ(efd_write(efd, stop), 8);
        CHECK(wait_until(
            [&] {
                int finished = 0;
                for (auto& t : ts)
                    finished += t->done();
                return finished == i + 1;
            },
            5000));
    }
    for (auto& t : ts)
        CHECK(t->join_for(5000));
    CHECK_EQ(sum.load(), expect);
}

SCENARIO(eventfd_blocking_write_woken_by_read)
{
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK_EQ(efd_write(efd, 0xfffffffffffffffeull), 8);
    std::atomic<ssize_t> rc{-2};
    bg_thread t([&] { rc = efd_write(efd, 5); });
    sleep_ms(100);
    CHECK(!t.done());
    uint64_t v = 0;
    CHECK_EQ(efd_read(efd, &v), 8);
    CHECK_EQ(v, 0xfffffffffffffffeull);
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 8);
    CHECK_EQ(efd_read(efd, &v), 8);
    CHECK_EQ(v, 5u);
}

SCENARIO(pipe_blocking_write_woken_by_read)
{
    auto p = make_pipe();
    static char page[4096];
    for (int i = 0; i < 16; i++)
        CHECK_EQ(write(p.b, page, sizeof page), 4096);
    std::atomic<ssize_t> rc{-2};
    bg_thread t([&] { rc = write(p.b, page, sizeof page); });
    sleep_ms(100);
    CHECK(!t.done());
    CHECK_EQ(read(p.a, page, sizeof page), 4096);
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 4096);
    int n = -1;
    CHECK_EQ(ioctl(p.a, FIONREAD, &n), 0);
    CHECK_EQ(n, 65536);
}

SCENARIO(pipe_concurrent_writers_pipe_buf_atomic)
{
    auto p = make_pipe();
    constexpr int writers = 2, chunks = 64;
    constexpr size_t chunk = 4096;  // PIPE_BUF
    std::vector<std::unique_ptr<bg_thread>> ts;
    for (int w = 0; w < writers; w++)
        ts.push_back(std::make_unique<bg_thread>([&p, w] {
            std::vector<char> buf(chunk, static_cast<char>('A' + w));
            for (int i = 0; i < chunks; i++)
                if (write(p.b, buf.data(), chunk) != static_cast<ssize_t>(chunk))
                    break;
        }));
    std::vector<char> got;
    std::vector<char> buf(chunk);
    double deadline = now_ms() + 10000;
    while (got.size() < writers * chunks * chunk && now_ms() < deadline) {
        pollfd pf{p.a, POLLIN, 0};
        if (poll(&pf, 1, 2000) != 1)
            break;
        ssize_t n = read(p.a, buf.data(), buf.size());
        if (n <= 0)
            break;
        got.insert(got.end(), buf.begin(), buf.begin() + n);
    }
    for (auto& t : ts)
        CHECK(t->join_for(5000));
    REQUIRE(CHECK_EQ(got.size(), writers * chunks * chunk));
    // Each PIPE_BUF-sized write arrives contiguous: every aligned chunk is
    // a single letter.
    int torn = 0;
    for (size_t off = 0; off < got.size(); off += chunk)
        for (size_t k = 1; k < chunk; k++)
            if (got[off + k] != got[off]) {
                torn++;
                break;
            }
    CHECK_EQ(torn, 0);
}
