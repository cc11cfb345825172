// Pipes: pipe2 flags, the 16-slot (64 KiB) default capacity and how small
// writes pack into page-sized slots (a write merges into the last slot only
// if it fits whole, so the exact byte capacity depends on the write size),
// PIPE_BUF atomicity and partial nonblocking writes, poll masks (EPOLLOUT
// means "a slot is free", not "a byte is free"), EOF / EPIPE / SIGPIPE,
// FIONREAD, and wrong-direction I/O. Follows fs/pipe.c: do_pipe2() (flags
// whitelist), pipe_write() (zero-length writes return 0 first, SIGPIPE+EPIPE
// without readers, merge-into-last-buffer rule), pipe_read(), pipe_poll(),
// pipe_ioctl(FIONREAD), and pipe(7).
#include "harness.h"

#include <poll.h>
#include <sys/uio.h>

#include <atomic>
#include <vector>

using namespace conf;

namespace {

std::atomic<int> g_sigpipes{0};
void on_sigpipe(int) { g_sigpipes++; }

short poll_mask(int fd, short events)
{
    pollfd p{fd, events, 0};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

// Writes `chunk`-byte writes until EAGAIN; returns the total written.
long fill(int wfd, size_t chunk, int* writes = nullptr)
{
    std::vector<char> buf(chunk, 'z');
    long total = 0;
    int n = 0;
    for (int i = 0; i < 200000; i++) {
        ssize_t r = write(wfd, buf.data(), chunk);
        if (r < 0) {
            CHECK_EQ(errno, EAGAIN);
            break;
        }
        total += r;
        n++;
    }
    if (writes)
        *writes = n;
    return total;
}

}  // namespace

SCENARIO(pipe2_flags_visible)
{
    auto p = make_pipe(O_NONBLOCK | O_CLOEXEC);
    CHECK_EQ(fcntl(p.a, F_GETFL), O_RDONLY | O_NONBLOCK);
    CHECK_EQ(fcntl(p.b, F_GETFL), O_WRONLY | O_NONBLOCK);
    CHECK_EQ(fcntl(p.a, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(p.b, F_GETFD), FD_CLOEXEC);
    int q[2];
    REQUIRE_OK(pipe(q));
    ufd r(q[0]), w(q[1]);
    CHECK_EQ(fcntl(r, F_GETFL), O_RDONLY);
    CHECK_EQ(fcntl(w, F_GETFL), O_WRONLY);
    CHECK_EQ(fcntl(r, F_GETFD), 0);
    CHECK_LT(r.get(), w.get());
}

SCENARIO(pipe2_bad_flags_einval)
{
    int q[2] = {-1, -1};
    CHECK_ERR(pipe2(q, O_RDWR), EINVAL);
    CHECK_ERR(pipe2(q, O_APPEND), EINVAL);
    CHECK_ERR(pipe2(q, O_NONBLOCK | O_TRUNC), EINVAL);
    CHECK_ERR(pipe2(q, -1), EINVAL);
    CHECK_EQ(q[0], -1);
    CHECK_EQ(q[1], -1);
}

SCENARIO(pipe_capacity_one_byte_writes)
{
    auto p = make_pipe(O_NONBLOCK);
    int writes = 0;
    CHECK_EQ(fill(p.b, 1, &writes), 65536);
    CHECK_EQ(writes, 65536);
    int n = 0;
    CHECK_EQ(ioctl(p.a, FIONREAD, &n), 0);
    CHECK_EQ(n, 65536);
}

SCENARIO(pipe_capacity_depends_on_write_size)
{
    // 1000-byte writes: four per 4 KiB slot (the fifth does not fit whole).
    {
        auto p = make_pipe(O_NONBLOCK);
        int writes = 0;
        CHECK_EQ(fill(p.b, 1000, &writes), 64000);
        CHECK_EQ(writes, 64);
    }
    // 3000-byte writes: one per slot.
    {
        auto p = make_pipe(O_NONBLOCK);
        int writes = 0;
        CHECK_EQ(fill(p.b, 3000, &writes), 48000);
        CHECK_EQ(writes, 16);
    }
    // PIPE_BUF-sized writes fill the slots exactly.
    {
        auto p = make_pipe(O_NONBLOCK);
        int writes = 0;
        CHECK_EQ(fill(p.b, 4096, &writes), 65536);
        CHECK_EQ(writes, 16);
    }
}

SCENARIO(pipe_small_write_all_or_nothing)
{
    auto p = make_pipe(O_NONBLOCK);
    CHECK_EQ(fill(p.b, 1000), 64000);
    // 96 bytes are left in the last slot: a 100-byte write does not fit
    // whole and is refused entirely rather than split.
    static char buf[4096];
    CHECK_ERR(write(p.b, buf, 100), EAGAIN);
    CHECK_ERR(write(p.b, buf, 4096), EAGAIN);
    CHECK_EQ(write(p.b, buf, 96), 96);
    CHECK_ERR(write(p.b, buf, 1), EAGAIN);
    int n = 0;
    CHECK_EQ(ioctl(p.a, FIONREAD, &n), 0);
    CHECK_EQ(n, 64096);
}

SCENARIO(pipe_large_write_partial_when_nonblocking)
{
    auto p = make_pipe(O_NONBLOCK);
    std::vector<char> big(100000, 'q');
    CHECK_EQ(write(p.b, big.data(), big.size()), 65536);
    CHECK_ERR(write(p.b, big.data(), 8192), EAGAIN);
    static char page[4096];
    CHECK_EQ(read(p.a, page, sizeof page), 4096);
    // One free slot: a larger-than-PIPE_BUF write takes what fits.
    CHECK_EQ(write(p.b, big.data(), 8192), 4096);
    CHECK_ERR(write(p.b, big.data(), 8192), EAGAIN);
}

SCENARIO(pipe_epollout_needs_a_free_slot)
{
    auto p = make_pipe(O_NONBLOCK);
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, p.b, EPOLLOUT, 1));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
    CHECK_EQ(fill(p.b, 4096), 65536);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    CHECK_EQ(poll_mask(p.b, POLLOUT | POLLWRNORM), 0);
    // Reading part of the head slot frees no slot: still not writable.
    static char page[4096];
    CHECK_EQ(read(p.a, page, 1), 1);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    CHECK_ERR(write(p.b, page, 1), EAGAIN);
    CHECK_EQ(read(p.a, page, 4095), 4095);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
    CHECK_EQ(poll_mask(p.b, POLLOUT | POLLWRNORM), POLLOUT | POLLWRNORM);
}

SCENARIO(pipe_epipe_and_sigpipe)
{
    scoped_sigaction sa(SIGPIPE, on_sigpipe, 0);
    g_sigpipes = 0;
    auto p = make_pipe();
    CHECK_EQ(p.a.close(), 0);
    CHECK_ERR(write(p.b, "x", 1), EPIPE);
    CHECK_EQ(g_sigpipes.load(), 1);
    iovec iov{const_cast<char*>("yz"), 2};
    CHECK_ERR(writev(p.b, &iov, 1), EPIPE);
    CHECK_EQ(g_sigpipes.load(), 2);
    // A zero-length write returns 0 before the reader check: no signal.
    CHECK_EQ(write(p.b, "", 0), 0);
    CHECK_EQ(g_sigpipes.load(), 2);
}

SCENARIO(pipe_eof_after_writer_closes)
{
    auto p = make_pipe();
    CHECK_EQ(write(p.b, "abc", 3), 3);
    CHECK_EQ(p.b.close(), 0);
    char buf[8];
    CHECK_EQ(read(p.a, buf, sizeof buf), 3);
    CHECK_EQ(read(p.a, buf, sizeof buf), 0);
    CHECK_EQ(read(p.a, buf, sizeof buf), 0);
}

SCENARIO(pipe_hup_and_err_masks)
{
    auto p = make_pipe();
    CHECK_EQ(poll_mask(p.a, POLLIN | POLLRDNORM | POLLOUT), 0);
    CHECK_EQ(poll_mask(p.b, POLLIN | POLLOUT | POLLWRNORM), POLLOUT | POLLWRNORM);
    CHECK_EQ(write(p.b, "x", 1), 1);
    CHECK_EQ(poll_mask(p.a, POLLIN | POLLRDNORM | POLLOUT), POLLIN | POLLRDNORM);

    auto q = make_pipe();
    CHECK_EQ(write(q.b, "x", 1), 1);
    CHECK_EQ(q.b.close(), 0);
    CHECK_EQ(poll_mask(q.a, POLLIN | POLLRDNORM), POLLIN | POLLRDNORM | POLLHUP);
    char c;
    CHECK_EQ(read(q.a, &c, 1), 1);
    // HUP is reported even though not requested.
    CHECK_EQ(poll_mask(q.a, POLLIN), POLLHUP);
    CHECK_EQ(poll_mask(q.a, 0), POLLHUP);

    auto r = make_pipe();
    CHECK_EQ(r.a.close(), 0);
    CHECK_EQ(poll_mask(r.b, POLLOUT | POLLWRNORM), POLLOUT | POLLWRNORM | POLLERR);
    CHECK_EQ(poll_mask(r.b, 0), POLLERR);
}

SCENARIO(pipe_wrong_direction_ebadf)
{
    auto p = make_pipe(O_NONBLOCK);
    char c = 'x';
    CHECK_ERR(read(p.b, &c, 1), EBADF);
    CHECK_ERR(write(p.a, &c, 1), EBADF);
    iovec iov{&c, 1};
    CHECK_ERR(readv(p.b, &iov, 1), EBADF);
    CHECK_ERR(writev(p.a, &iov, 1), EBADF);
}

SCENARIO(pipe_fionread_and_partial_reads)
{
    auto p = make_pipe(O_NONBLOCK);
    int n = -1;
    CHECK_EQ(ioctl(p.a, FIONREAD, &n), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(write(p.b, "hello", 5), 5);
    CHECK_EQ(write(p.b, "world", 5), 5);
    // FIONREAD works on the write end too: it reports the pipe's contents.
    CHECK_EQ(ioctl(p.b, FIONREAD, &n), 0);
    CHECK_EQ(n, 10);
    char buf[32] = {};
    CHECK_EQ(read(p.a, buf, 3), 3);
    CHECK_EQ(ioctl(p.a, FIONREAD, &n), 0);
    CHECK_EQ(n, 7);
    CHECK_EQ(read(p.a, buf, sizeof buf), 7);
    CHECK_EQ(std::string(buf, 7), "loworld");
    CHECK_ERR(read(p.a, buf, sizeof buf), EAGAIN);
    // A zero-byte read succeeds even on an empty nonblocking pipe.
    CHECK_EQ(read(p.a, buf, 0), 0);
}

SCENARIO(pipe_blocking_read_woken_by_write)
{
    auto p = make_pipe();
    std::atomic<ssize_t> rc{-2};
    char got[8] = {};
    bg_thread t([&] { rc = read(p.a, got, sizeof got); });
    sleep_ms(100);
    CHECK(!t.done());
    CHECK_EQ(write(p.b, "ab", 2), 2);
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 2);
    CHECK_EQ(got[0], 'a');
}

SCENARIO(pipe_blocking_read_woken_by_writer_close)
{
    auto p = make_pipe();
    std::atomic<ssize_t> rc{-2};
    bg_thread t([&] {
        char c;
        rc = read(p.a, &c, 1);
    });
    sleep_ms(100);
    CHECK(!t.done());
    CHECK_EQ(p.b.close(), 0);
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 0);
}

SCENARIO(pipe_readv_writev)
{
    auto p = make_pipe(O_NONBLOCK);
    char a[] = "one", b[] = "two", c[] = "three";
    iovec wv[3] = {{a, 3}, {b, 3}, {c, 5}};
    CHECK_EQ(writev(p.b, wv, 3), 11);
    char x[4] = {}, y[2] = {}, z[16] = {};
    iovec rv[3] = {{x, 4}, {y, 2}, {z, 16}};
    CHECK_EQ(readv(p.a, rv, 3), 11);
    CHECK_EQ(std::string(x, 4), "onet");
    CHECK_EQ(std::string(y, 2), "wo");
    CHECK_EQ(std::string(z, 5), "three");
    // Zero-length iovecs are skipped.
    iovec mixed[3] = {{a, 0}, {b, 3}, {c, 0}};
    CHECK_EQ(writev(p.b, mixed, 3), 3);
    CHECK_EQ(read(p.a, z, sizeof z), 3);
}

SCENARIO(pipe_nonblock_via_fcntl_is_per_open_file)
{
    auto p = make_pipe();
    CHECK_EQ(fcntl(p.a, F_SETFL, O_NONBLOCK), 0);
    char c;
    CHECK_ERR(read(p.a, &c, 1), EAGAIN);
    // The write end is a different open file description: still blocking.
    CHECK_EQ(fcntl(p.b, F_GETFL), O_WRONLY);
    // F_SETFL cannot change the access mode.
    CHECK_EQ(fcntl(p.a, F_SETFL, O_RDWR | O_NONBLOCK), 0);
    CHECK_EQ(fcntl(p.a, F_GETFL), O_RDONLY | O_NONBLOCK);
}
