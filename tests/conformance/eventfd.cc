// eventfd: the 64-bit counter, EFD_SEMAPHORE, EFD_NONBLOCK / EFD_CLOEXEC,
// buffer-size and value validation, the overflow limit 0xfffffffffffffffe,
// and the poll mask (exactly EPOLLIN when count > 0 and EPOLLOUT while
// count < 0xfffffffffffffffe, no RDNORM/WRNORM). Follows fs/eventfd.c:
// do_eventfd() (flags), eventfd_read() (count < 8 -> EINVAL, resets or
// decrements), eventfd_write() (count != 8 -> EINVAL on this kernel, ULLONG_MAX -> EINVAL,
// blocks or EAGAINs while ULLONG_MAX - counter <= value) and eventfd_poll(),
// and eventfd(2).
#include "harness.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <atomic>

using namespace conf;

namespace {

uint64_t read_value(int fd)
{
    uint64_t v = 0xdeadbeef;
    CHECK_EQ(efd_read(fd, &v), 8);
    return v;
}

short poll_mask(int fd)
{
    pollfd p{fd, POLLIN | POLLOUT | POLLPRI | POLLRDNORM | POLLWRNORM | POLLRDHUP, 0};
    if (poll(&p, 1, 0) < 0)
        return -1;
    return p.revents;
}

}  // namespace

SCENARIO(eventfd_initial_value_and_reset)
{
    ufd efd(CHECK_OK(eventfd(42, EFD_NONBLOCK)));
    CHECK_EQ(read_value(efd), 42u);
    uint64_t v;
    CHECK_ERR(efd_read(efd, &v), EAGAIN);
    CHECK_EQ(efd_write(efd, 3), 8);
    CHECK_EQ(efd_write(efd, 4), 8);
    CHECK_EQ(read_value(efd), 7u);
}

SCENARIO(eventfd_semaphore_decrements)
{
    ufd efd(CHECK_OK(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK)));
    CHECK_EQ(read_value(efd), 1u);
    CHECK_EQ(read_value(efd), 1u);
    CHECK_EQ(read_value(efd), 1u);
    uint64_t v;
    CHECK_ERR(efd_read(efd, &v), EAGAIN);
    CHECK_EQ(efd_write(efd, 2), 8);
    CHECK_EQ(read_value(efd), 1u);
    CHECK_EQ(poll_mask(efd), POLLIN | POLLOUT);
    CHECK_EQ(read_value(efd), 1u);
    CHECK_EQ(poll_mask(efd), POLLOUT);
}

SCENARIO(eventfd_bad_flags_einval)
{
    CHECK_ERR(eventfd(0, 2), EINVAL);
    CHECK_ERR(eventfd(0, O_RDONLY | O_APPEND), EINVAL);
    CHECK_ERR(eventfd(0, EFD_NONBLOCK | 0x10), EINVAL);
    CHECK_ERR(eventfd(0, -1), EINVAL);
}

SCENARIO(eventfd_flags_visible)
{
    ufd a(CHECK_OK(eventfd(0, EFD_CLOEXEC)));
    ufd b(CHECK_OK(eventfd(0, EFD_NONBLOCK)));
    ufd c(CHECK_OK(eventfd(0, 0)));
    CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(b, F_GETFD), 0);
    CHECK_EQ(fcntl(a, F_GETFL), O_RDWR);
    CHECK_EQ(fcntl(b, F_GETFL), O_RDWR | O_NONBLOCK);
    CHECK_EQ(fcntl(c, F_GETFL), O_RDWR);
    // The initial value is an unsigned int: the high bits cannot be set.
    ufd d(CHECK_OK(eventfd(0xffffffffu, EFD_NONBLOCK)));
    CHECK_EQ(read_value(d), 0xffffffffull);
}

SCENARIO(eventfd_short_buffer_einval)
{
    ufd efd(CHECK_OK(eventfd(1, EFD_NONBLOCK)));
    char buf[16] = {};
    CHECK_ERR(read(efd, buf, 7), EINVAL);
    CHECK_ERR(read(efd, buf, 0), EINVAL);
    CHECK_ERR(write(efd, buf, 7), EINVAL);
    CHECK_ERR(write(efd, buf, 0), EINVAL);
    // The size check comes before the EAGAIN check.
    ufd empty(CHECK_OK(eventfd(0, EFD_NONBLOCK)));
    CHECK_ERR(read(empty, buf, 4), EINVAL);
    // A larger read buffer works and transfers exactly 8 bytes...
    uint64_t big[2] = {0, 0};
    CHECK_EQ(read(efd, big, sizeof big), 8);
    CHECK_EQ(big[0], 1u);
    // ... but this kernel wants a write of exactly 8 bytes (eventfd(2) still
    // only documents "less than 8 bytes" as EINVAL).
    big[0] = 5;
    big[1] = 9;
    CHECK_ERR(write(efd, big, sizeof big), EINVAL);
    CHECK_ERR(write(efd, big, 9), EINVAL);
    CHECK_EQ(write(efd, big, 8), 8);
    CHECK_EQ(read_value(efd), 5u);
}

SCENARIO(eventfd_write_max_value_einval)
{
    ufd efd(CHECK_OK(eventfd(0, EFD_NONBLOCK)));
    CHECK_ERR(efd_write(efd, 0xffffffffffffffffull), EINVAL);
    CHECK_EQ(efd_write(efd, 0xfffffffffffffffeull), 8);
    CHECK_EQ(read_value(efd), 0xfffffffffffffffeull);
    // Writing zero is a successful no-op.
    CHECK_EQ(efd_write(efd, 0), 8);
    uint64_t v;
    CHECK_ERR(efd_read(efd, &v), EAGAIN);
}

SCENARIO(eventfd_overflow_eagain)
{
    ufd efd(CHECK_OK(eventfd(0, EFD_NONBLOCK)));
    CHECK_EQ(efd_write(efd, 0xfffffffffffffff0ull), 8);
    CHECK_ERR(efd_write(efd, 0xf), EAGAIN);
    CHECK_EQ(efd_write(efd, 0xe), 8);  // reaches the maximum 0xff..fe
    CHECK_ERR(efd_write(efd, 1), EAGAIN);
    CHECK_EQ(efd_write(efd, 0), 8);
    // At the maximum the fd is readable but no longer writable.
    CHECK_EQ(poll_mask(efd), POLLIN);
    CHECK_EQ(read_value(efd), 0xfffffffffffffffeull);
    CHECK_EQ(poll_mask(efd), POLLOUT);
}

SCENARIO(eventfd_poll_masks)
{
    ufd efd(CHECK_OK(eventfd(0, EFD_NONBLOCK)));
    CHECK_EQ(poll_mask(efd), POLLOUT);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(poll_mask(efd), POLLIN | POLLOUT);
    CHECK_EQ(efd_write(efd, 0xfffffffffffffffcull), 8);  // count 0xff..fd
    CHECK_EQ(poll_mask(efd), POLLIN | POLLOUT);
    CHECK_EQ(efd_write(efd, 1), 8);  // count 0xff..fe
    CHECK_EQ(poll_mask(efd), POLLIN);

    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, efd, EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM | EPOLLPRI, 1));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(read_value(efd), 0xfffffffffffffffeull);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
}

SCENARIO(eventfd_blocking_read_woken_by_write)
{
    ufd efd(CHECK_OK(eventfd(0, 0)));
    std::atomic<uint64_t> got{0};
    std::atomic<ssize_t> rc{-2};
    bg_thread t([&] {
        uint64_t v = 0;
        rc = efd_read(efd, &v);
        got = v;
    });
    sleep_ms(100);
    CHECK(!t.done());
    CHECK_EQ(efd_write(efd, 17), 8);
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 8);
    CHECK_EQ(got.load(), 17u);
}

SCENARIO(eventfd_blocking_write_overflow_waits)
{
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK_EQ(efd_write(efd, 0xfffffffffffffff0ull), 8);
    std::atomic<ssize_t> rc{-2};
    bg_thread t([&] { rc = efd_write(efd, 0x20); });
    sleep_ms(100);
    CHECK(!t.done());
    // Any read that resets the counter makes room.
    CHECK_EQ(read_value(efd), 0xfffffffffffffff0ull);
    CHECK(t.join_for(4000));
    CHECK_EQ(rc.load(), 8);
    CHECK_EQ(read_value(efd), 0x20u);
}

SCENARIO(eventfd_nonblock_via_fcntl)
{
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK_EQ(fcntl(efd, F_SETFL, O_NONBLOCK), 0);
    uint64_t v;
    CHECK_ERR(efd_read(efd, &v), EAGAIN);
    CHECK_EQ(fcntl(efd, F_SETFL, 0), 0);
    CHECK_EQ(fcntl(efd, F_GETFL), O_RDWR);
    int on = 1;
    CHECK_EQ(ioctl(efd, FIONBIO, &on), 0);
    CHECK_ERR(efd_read(efd, &v), EAGAIN);
}

SCENARIO(eventfd_semaphore_nonblock_zero_eagain)
{
    ufd efd(CHECK_OK(eventfd(0, EFD_SEMAPHORE | EFD_NONBLOCK | EFD_CLOEXEC)));
    uint64_t v;
    CHECK_ERR(efd_read(efd, &v), EAGAIN);
    CHECK_EQ(fcntl(efd, F_GETFL), O_RDWR | O_NONBLOCK);
    CHECK_EQ(fcntl(efd, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(efd_write(efd, 1), 8);
    CHECK_EQ(read_value(efd), 1u);
    CHECK_ERR(efd_read(efd, &v), EAGAIN);
}

SCENARIO(eventfd_dup_shares_counter)
{
    ufd a(CHECK_OK(eventfd(0, EFD_NONBLOCK)));
    ufd b(CHECK_OK(dup(a)));
    CHECK_EQ(efd_write(a, 9), 8);
    CHECK_EQ(read_value(b), 9u);
    uint64_t v;
    CHECK_ERR(efd_read(a, &v), EAGAIN);
}
