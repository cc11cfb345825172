// How closing and duplicating descriptors interacts with epoll items. An
// item is keyed by (struct file *, fd number) and is removed only when the
// open file description is finally released, not when one fd is closed.
// Consequences pinned here: a dup keeps the item alive and it keeps
// reporting the old data; DEL through the closed number fails with EBADF
// (no such fd), DEL through the dup fails with ENOENT (different key); the
// dup can be added as a second item. Follows fs/eventpoll.c: ep_find()
// (key = file + fd), do_epoll_ctl() (fdget before lookup),
// eventpoll_release_file() (called from __fput), and the epoll(7) FAQ
// ("Will closing a file descriptor cause it to be removed from all epoll
// interest lists?").
#include "harness.h"

#include <sys/eventfd.h>

using namespace conf;

SCENARIO(epoll_close_removes_item)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN, 1));
    CHECK_EQ(efd.close(), 0);
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
}

SCENARIO(epoll_close_then_del_ebadf_and_number_reusable)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN, 1));
    int num = efd.get();
    CHECK_EQ(efd.close(), 0);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, num, nullptr), EBADF);
    // The lowest free number is reused; the new file is a new key.
    ufd again(CHECK_OK(eventfd(1, 0)));
    CHECK_EQ(again.get(), num);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, again, nullptr), ENOENT);
    CHECK(ep_add(ep, again, EPOLLIN, 2));
    epoll_event out[2];
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    CHECK_EQ(out[0].data.u64, 2u);
}

SCENARIO(epoll_dup_keeps_item_alive)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN, 77));
    ufd dupfd(CHECK_OK(dup(efd)));
    CHECK_EQ(efd.close(), 0);
    epoll_event out[2];
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
    CHECK_EQ(efd_write(dupfd, 1), 8);
    CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(out[0].data.u64, 77u);
}

SCENARIO(epoll_dup_del_via_closed_fd_ebadf)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN, 5));
    ufd dupfd(CHECK_OK(dup(efd)));
    int num = efd.get();
    CHECK_EQ(efd.close(), 0);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, num, nullptr), EBADF);
    epoll_event e = ev(EPOLLIN, 6);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, num, &e), EBADF);
    // The orphaned item is still there.
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EQ(out[0].data.u64, 5u);
}

SCENARIO(epoll_dup_del_via_dup_enoent)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN, 5));
    ufd dupfd(CHECK_OK(dup(efd)));
    CHECK_EQ(efd.close(), 0);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, dupfd, nullptr), ENOENT);
    epoll_event e = ev(EPOLLOUT, 6);
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_MOD, dupfd, &e), ENOENT);
    // Even while the original is open the dup is a different key.
    ufd efd2(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, efd2, EPOLLIN, 8));
    ufd dup2fd(CHECK_OK(dup(efd2)));
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, dup2fd, nullptr), ENOENT);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_DEL, efd2, nullptr), 0);
}

SCENARIO(epoll_dup_readd_is_distinct_item)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN, 1));
    ufd dupfd(CHECK_OK(dup(efd)));
    epoll_event e = ev(EPOLLOUT, 2);
    CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, dupfd, &e), 0);
    epoll_event out[4] = {};
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 2);
    CHECK_EQ(out[0].data.u64, 1u);
    CHECK_EVENTS(out[0].events, EPOLLIN);
    CHECK_EQ(out[1].data.u64, 2u);
    CHECK_EVENTS(out[1].events, EPOLLOUT);
    // Closing the dup leaves its item registered: the file is still open.
    CHECK_EQ(dupfd.close(), 0);
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 2);
    // Releasing the last reference removes both.
    CHECK_EQ(efd.close(), 0);
    CHECK_EQ(epoll_wait(ep, out, 4, 0), 0);
}

SCENARIO(epoll_dup_item_survives_until_last_close)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    auto p = make_pipe();
    CHECK(ep_add(ep, p.a, EPOLLIN, 1));
    ufd d1(CHECK_OK(dup(p.a)));
    ufd d2(CHECK_OK(fcntl(p.a, F_DUPFD_CLOEXEC, 0)));
    CHECK_EQ(p.a.close(), 0);
    CHECK_EQ(d1.close(), 0);
    CHECK_EQ(write(p.b, "x", 1), 1);
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 1);
    CHECK_EQ(d2.close(), 0);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
}

SCENARIO(epoll_dup2_over_watched_fd_removes_item)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    ufd watched(CHECK_OK(eventfd(1, 0)));
    ufd other(CHECK_OK(eventfd(0, 0)));
    CHECK(ep_add(ep, watched, EPOLLIN, 1));
    // dup2 closes the file previously at `watched`, its last reference.
    CHECK_EQ(dup2(other, watched), watched.get());
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
    // Now the number refers to `other`'s file, which is not registered.
    CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, watched, nullptr), ENOENT);
}

SCENARIO(epoll_close_epoll_watched_by_another)
{
    ufd outer(CHECK_OK(epoll_create1(0)));
    ufd inner(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(inner, efd, EPOLLIN, 1));
    CHECK(ep_add(outer, inner, EPOLLIN, 2));
    ufd inner_dup(CHECK_OK(dup(inner)));
    CHECK_EQ(inner.close(), 0);
    // Still referenced through the dup: still watched.
    epoll_event out[1];
    CHECK_EQ(epoll_wait(outer, out, 1, 0), 1);
    CHECK_EQ(out[0].data.u64, 2u);
    // The dup still works as an epoll fd with its items intact.
    CHECK_EQ(epoll_wait(inner_dup, out, 1, 0), 1);
    CHECK_EQ(out[0].data.u64, 1u);
    CHECK_EQ(inner_dup.close(), 0);
    CHECK_EQ(epoll_wait(outer, out, 1, 0), 0);
}

SCENARIO(epoll_close_epfd_releases_watched_files)
{
    // Closing an epoll instance must not disturb the files it watched.
    ufd efd(CHECK_OK(eventfd(3, EFD_NONBLOCK)));
    {
        ufd ep(CHECK_OK(epoll_create1(0)));
        CHECK(ep_add(ep, efd, EPOLLIN, 1));
    }
    uint64_t v = 0;
    CHECK_EQ(efd_read(efd, &v), 8);
    CHECK_EQ(v, 3u);
    ufd ep2(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep2, efd, EPOLLIN, 2));
}

SCENARIO(epoll_same_fd_in_two_epolls_close_removes_both)
{
    ufd ep1(CHECK_OK(epoll_create1(0))), ep2(CHECK_OK(epoll_create1(0)));
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep1, efd, EPOLLIN, 1));
    CHECK(ep_add(ep2, efd, EPOLLIN, 2));
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep1, out, 1, 0), 1);
    CHECK_EQ(epoll_wait(ep2, out, 1, 0), 1);
    CHECK_EQ(efd.close(), 0);
    CHECK_EQ(epoll_wait(ep1, out, 1, 0), 0);
    CHECK_EQ(epoll_wait(ep2, out, 1, 0), 0);
}
