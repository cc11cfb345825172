// epoll_create/epoll_create1 and epoll_ctl: argument validation, the errno
// for every rejected combination and the order in which Linux performs its
// checks when several apply. Follows fs/eventpoll.c: do_epoll_create(),
// SYSCALL_DEFINE4(epoll_ctl) (which copies the event before anything else,
// except for EPOLL_CTL_DEL) and do_epoll_ctl() (EBADF for epfd, EBADF for fd,
// EPERM for a target without ->poll, EINVAL for epfd==fd / non-epoll epfd /
// EPOLLEXCLUSIVE misuse, then EEXIST/ENOENT/EINVAL from the op switch).
#include "harness.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

using namespace conf;

SCENARIO(epoll_create_nonpositive_size_einval)
{
    CHECK_ERR(epoll_create(0), EINVAL);
    CHECK_ERR(epoll_create(-1), EINVAL);
    // Any positive size is a mere hint.
    ufd ep(CHECK_OK(epoll_create(1)));
    ufd ep2(CHECK_OK(epoll_create(1 << 30)));
    CHECK_EQ(fcntl(ep, F_GETFD), 0);
}

SCENARIO(epoll_create1_bad_flags_einval)
{
    CHECK_ERR(epoll_create1(1), EINVAL);
    CHECK_ERR(epoll_create1(O_NONBLOCK), EINVAL);
    CHECK_ERR(epoll_create1(EPOLL_CLOEXEC | O_NONBLOCK), EINVAL);
    CHECK_ERR(epoll_create1(-1), EINVAL);
}

SCENARIO(epoll_create1_cloexec_visible)
{
    ufd a(CHECK_OK(epoll_create1(EPOLL_CLOEXEC)));
    ufd b(CHECK_OK(epoll_create1(0)));
    CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(b, F_GETFD), 0);
    // The epoll file itself is opened O_RDWR and never has O_NONBLOCK.
    CHECK_EQ(fcntl(a, F_GETFL), O_RDWR);
    CHECK_EQ(fcntl(b, F_GETFL), O_RDWR);
}

SCENARIO(epoll_ctl_add_mod_del_roundtrip)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, EFD_NONBLOCK)));
    epoll_event e = ev(EPOLLIN, 11);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), 0);
    epoll_event out[4] = {};
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(out[0].data.u64, 11u);

    // MOD replaces both the mask and the user data.
    e = ev(EPOLLIN | EPOLLOUT, 22);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &e), 0);
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN | EPOLLOUT);
    CHECK_EQ(out[0].data.u64, 22u);

    e = ev(EPOLLOUT, 33);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &e), 0);
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
    CHECK_EQ(out[0].data.u64, 33u);

    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, efd, nullptr), 0);
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 0);
    // Deleted items can be added again.
    e = ev(EPOLLIN, 44);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), 0);
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 1);
    CHECK_EQ(out[0].data.u64, 44u);
}

SCENARIO(epoll_ctl_add_twice_eexist)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    epoll_event e = ev(EPOLLIN, 1);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), 0);
    e = ev(EPOLLOUT, 2);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), EEXIST);
    // The failed ADD must not have modified the existing item.
    epoll_event out[2] = {};
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
}

SCENARIO(epoll_ctl_mod_del_missing_enoent)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    epoll_event e = ev(EPOLLIN);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &e), ENOENT);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, efd, &e), ENOENT);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, efd, nullptr), ENOENT);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), 0);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, efd, nullptr), 0);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, efd, nullptr), ENOENT);
}

SCENARIO(epoll_ctl_bad_epfd_ebadf)
{
    ufd efd(CHECK_OK(eventfd(0, 0)));
    epoll_event e = ev(EPOLLIN);
    CHECK_ERR(epoll_ctl(-1, EPOLL_CTL_ADD, efd, &e), EBADF);
    CHECK_ERR(epoll_ctl(1 << 20, EPOLL_CTL_ADD, efd, &e), EBADF);
    int closed = CHECK_OK(epoll_create1(0));
    CHECK_EQ(close(closed), 0);
    CHECK_ERR(epoll_ctl(closed, EPOLL_CTL_ADD, efd, &e), EBADF);
    CHECK_ERR(epoll_ctl(closed, EPOLL_CTL_DEL, efd, nullptr), EBADF);
}

SCENARIO(epoll_ctl_bad_target_ebadf)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_event e = ev(EPOLLIN);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, -1, &e), EBADF);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, -1, &e), EBADF);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, -1, &e), EBADF);
    int closed = CHECK_OK(eventfd(0, 0));
    CHECK_EQ(close(closed), 0);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, closed, &e), EBADF);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, closed, nullptr), EBADF);
}

SCENARIO(epoll_ctl_epfd_equals_fd_einval)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_event e = ev(EPOLLIN);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &e), EINVAL);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, ep, &e), EINVAL);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, ep, nullptr), EINVAL);
}

SCENARIO(epoll_ctl_epfd_not_epoll_einval)
{
    ufd notep(CHECK_OK(eventfd(0, 0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    epoll_event e = ev(EPOLLIN);
    CHECK_ERR(epoll_ctl(notep, EPOLL_CTL_ADD, efd, &e), EINVAL);
    CHECK_ERR(epoll_ctl(notep, EPOLL_CTL_DEL, efd, nullptr), EINVAL);
    auto p = make_pipe();
    CHECK_ERR(epoll_ctl(p.a, EPOLL_CTL_ADD, p.b, &e), EINVAL);
}

SCENARIO(epoll_ctl_bad_op_einval)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    epoll_event e = ev(EPOLLIN);
    CHECK_ERR(epoll_ctl(ep, 0, efd, &e), EINVAL);
    CHECK_ERR(epoll_ctl(ep, 4, efd, &e), EINVAL);
    CHECK_ERR(epoll_ctl(ep, -1, efd, &e), EINVAL);
    // Still EINVAL when an item exists for the fd.
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), 0);
    CHECK_ERR(epoll_ctl(ep, 99, efd, &e), EINVAL);
}

SCENARIO(epoll_ctl_exclusive_with_mod_einval)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    epoll_event e = ev(EPOLLIN);
    // EXCLUSIVE with MOD is rejected before the item lookup: EINVAL, not ENOENT.
    epoll_event x = ev(EPOLLIN | EPOLLEXCLUSIVE);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &x), EINVAL);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), 0);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &x), EINVAL);
}

SCENARIO(epoll_ctl_exclusive_disallowed_bits_einval)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    const uint32_t bad[] = {EPOLLONESHOT, EPOLLRDHUP, EPOLLPRI, EPOLLRDNORM, EPOLLWRNORM,
                            EPOLLRDBAND, EPOLLWRBAND, EPOLLMSG};
    for (uint32_t b : bad) {
        epoll_event e = ev(EPOLLIN | EPOLLEXCLUSIVE | b);
        if (!CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), EINVAL))
            epoll_ctl(ep, EPOLL_CTL_DEL, efd, nullptr);
    }
    // The allowed set: IN, OUT, ERR, HUP, WAKEUP, ET.
    epoll_event ok = ev(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET |
                        EPOLLEXCLUSIVE);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ok), 0);
    // EXCLUSIVE alone (no IN/OUT) is accepted too.
    ufd efd2(CHECK_OK(eventfd(0, 0)));
    epoll_event bare = ev(EPOLLEXCLUSIVE);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd2, &bare), 0);
}

SCENARIO(epoll_ctl_exclusive_epoll_target_einval)
{
    ufd outer(CHECK_OK(epoll_create1(0)));
    ufd inner(CHECK_OK(epoll_create1(0)));
    epoll_event e = ev(EPOLLIN | EPOLLEXCLUSIVE);
    CHECK_ERR(epoll_ctl(outer, EPOLL_CTL_ADD, inner, &e), EINVAL);
    e = ev(EPOLLIN);
    CHECK_EQ(epoll_ctl(outer, EPOLL_CTL_ADD, inner, &e), 0);
}

SCENARIO(epoll_ctl_mod_of_exclusive_item_einval)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    epoll_event e = ev(EPOLLIN | EPOLLEXCLUSIVE, 5);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), 0);
    epoll_event plain = ev(EPOLLOUT, 6);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &plain), EINVAL);
    // The item is unchanged and still deletable.
    epoll_event out[2] = {};
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(out[0].data.u64, 5u);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, efd, nullptr), 0);
}

SCENARIO(epoll_ctl_exclusive_checked_before_eexist)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    epoll_event e = ev(EPOLLIN);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), 0);
    epoll_event x = ev(EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &x), EINVAL);
    // A valid EXCLUSIVE ADD of an existing item is plain EEXIST.
    epoll_event y = ev(EPOLLIN | EPOLLEXCLUSIVE);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &y), EEXIST);
}

SCENARIO(epoll_ctl_target_without_poll_eperm)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd devnull(CHECK_OK(open("/dev/null", O_RDWR | O_CLOEXEC)));
    epoll_event e = ev(EPOLLIN);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, devnull, &e), EPERM);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, devnull, nullptr), EPERM);

    // A regular file: this program's own (a unikernel's file tree is read-only, no mkstemp).
    ufd reg(CHECK_OK(open("/proc/self/exe", O_RDONLY | O_CLOEXEC)));
    struct stat st{};
    CHECK_EQ(fstat(reg, &st), 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, reg, &e), EPERM);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, reg, &e), EPERM);
}

SCENARIO(epoll_ctl_null_event_efault)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, efd, nullptr), EFAULT);
    epoll_event e = ev(EPOLLIN);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), 0);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, efd, nullptr), EFAULT);
    // DEL never reads the event, so NULL is fine.
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, efd, nullptr), 0);
}

SCENARIO(epoll_ctl_efault_precedes_fd_checks)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    // The event is copied in before any fd is looked up.
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, -1, nullptr), EFAULT);
    CHECK_ERR(epoll_ctl(-1, EPOLL_CTL_ADD, efd, nullptr), EFAULT);
    CHECK_ERR(epoll_ctl(-1, EPOLL_CTL_MOD, -1, nullptr), EFAULT);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, ep, nullptr), EFAULT);
    // For DEL nothing is copied, so the fd errors show.
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, -1, nullptr), EBADF);
    CHECK_ERR(epoll_ctl(-1, EPOLL_CTL_DEL, efd, nullptr), EBADF);
}

SCENARIO(epoll_ctl_bad_op_error_order)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    // Only DEL skips copying the event, so an unknown op reads it: EFAULT.
    CHECK_ERR(epoll_ctl(ep, 99, efd, nullptr), EFAULT);
    CHECK_ERR(epoll_ctl(ep, 0, efd, nullptr), EFAULT);
    epoll_event e = ev(EPOLLIN);
    // The op itself is judged last, after the fds.
    CHECK_ERR(epoll_ctl(-1, 99, efd, &e), EBADF);
    CHECK_ERR(epoll_ctl(ep, 99, -1, &e), EBADF);
    CHECK_ERR(epoll_ctl(ep, 99, ep, &e), EINVAL);
}

SCENARIO(epoll_ctl_eperm_precedes_einval)
{
    ufd notep(CHECK_OK(eventfd(0, 0)));
    ufd devnull(CHECK_OK(open("/dev/null", O_RDONLY | O_CLOEXEC)));
    epoll_event e = ev(EPOLLIN);
    // Target pollability is checked before "is epfd an epoll".
    CHECK_ERR(epoll_ctl(notep, EPOLL_CTL_ADD, devnull, &e), EPERM);
    CHECK_ERR(epoll_ctl(devnull, EPOLL_CTL_ADD, devnull, &e), EPERM);
    CHECK_ERR(epoll_ctl(-1, EPOLL_CTL_ADD, devnull, &e), EBADF);
    ufd ep(CHECK_OK(epoll_create1(0)));
    // ... and before the op is validated.
    CHECK_ERR(epoll_ctl(ep, 99, devnull, &e), EPERM);
    epoll_event x = ev(EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_ADD, devnull, &x), EPERM);
}

SCENARIO(epoll_ctl_wakeup_accepted_not_reported)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    epoll_event e = ev(EPOLLIN | EPOLLWAKEUP, 3);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &e), 0);
    epoll_event out[2] = {};
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    e = ev(EPOLLOUT | EPOLLWAKEUP, 4);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_MOD, efd, &e), 0);
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLOUT);
}

SCENARIO(epoll_ctl_many_items)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    constexpr int n = 64;
    ufd fds[n];
    for (int i = 0; i < n; i++) {
        fds[i].reset(CHECK_OK(eventfd(i % 2, 0)));
        CHECK(ep_add(ep, fds[i], EPOLLIN, 1000 + i));
    }
    epoll_event out[n] = {};
    CHECK_EQ(epoll_wait(ep, out, n, 0), n / 2);
    bool seen[n] = {};
    for (int i = 0; i < n / 2; i++) {
        uint64_t k = out[i].data.u64 - 1000;
        CHECK_LT(k, static_cast<uint64_t>(n));
        if (k < n) {
            CHECK_EQ(k % 2, 1u);
            CHECK(!seen[k]);
            seen[k] = true;
        }
    }
}
