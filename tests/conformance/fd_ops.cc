// Generic descriptor operations Pollux must emulate for its own fds: dup,
// dup2, dup3, fcntl (F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD/F_SETFD, F_GETFL/
// F_SETFL), ioctl (FIONBIO, FIOCLEX, FIONREAD), close, readv/writev limits,
// and I/O on an epoll fd. Status flags (O_NONBLOCK) live in the open file
// description and are shared by dups; FD_CLOEXEC lives in the fd table slot
// and is not. Follows fs/file.c: ksys_dup3() (flags, then oldfd == newfd,
// then newfd >= RLIMIT_NOFILE, then oldfd), dup2's oldfd == newfd shortcut,
// f_dupfd() (from >= RLIMIT_NOFILE -> EINVAL, negatives included since it is
// unsigned), fs/fcntl.c: do_fcntl(), setfl(), fs/ioctl.c: do_vfs_ioctl(),
// fs/read_write.c: vfs_read() (no read op -> EINVAL), import_iovec()
// (UIO_MAXIOV = 1024).
#include "harness.h"

#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>

#include <vector>

using namespace conf;

namespace {

int nofile_limit()
{
    rlimit r{};
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &r), 0);
    return static_cast<int>(r.rlim_cur);
}

bool is_open(int fd)
{
    int saved = errno;
    bool open = fcntl(fd, F_GETFD) != -1;
    errno = saved;
    return open;
}

int lowest_free_from(int from)
{
    for (int fd = from; fd < from + 4096; fd++)
        if (!is_open(fd))
            return fd;
    return -1;
}

}  // namespace

SCENARIO(dup_returns_lowest_free)
{
    ufd a(CHECK_OK(eventfd(0, 0))), b(CHECK_OK(eventfd(0, 0))), c(CHECK_OK(eventfd(0, 0)));
    int hole = b.get();
    CHECK_EQ(b.close(), 0);
    ufd d(CHECK_OK(dup(c)));
    CHECK_EQ(d.get(), hole);
    int expect = lowest_free_from(0);
    ufd e(CHECK_OK(dup(c)));
    CHECK_EQ(e.get(), expect);
    CHECK_GT(e.get(), c.get());
}

SCENARIO(dup_bad_fd_ebadf)
{
    CHECK_ERR(dup(-1), EBADF);
    int closed = CHECK_OK(eventfd(0, 0));
    CHECK_EQ(close(closed), 0);
    CHECK_ERR(dup(closed), EBADF);
}

SCENARIO(dup2_onto_open_fd_replaces_it)
{
    ufd a(CHECK_OK(eventfd(5, EFD_NONBLOCK)));
    ufd b(CHECK_OK(eventfd(7, EFD_NONBLOCK | EFD_CLOEXEC)));
    CHECK_EQ(dup2(a, b), b.get());
    uint64_t v = 0;
    CHECK_EQ(efd_read(b, &v), 8);
    CHECK_EQ(v, 5u);
    CHECK_ERR(efd_read(a, &v), EAGAIN);
    // The new slot never inherits FD_CLOEXEC.
    CHECK_EQ(fcntl(b, F_GETFD), 0);
}

SCENARIO(dup2_same_fd_and_bad_fds)
{
    ufd a(CHECK_OK(eventfd(0, EFD_CLOEXEC)));
    CHECK_EQ(dup2(a, a), a.get());
    // Same-fd dup2 is a no-op: FD_CLOEXEC is kept.
    CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
    int closed = CHECK_OK(eventfd(0, 0));
    CHECK_EQ(close(closed), 0);
    CHECK_ERR(dup2(closed, closed), EBADF);
    CHECK_ERR(dup2(-1, a), EBADF);
    CHECK(is_open(a));
    CHECK_ERR(dup2(a, -1), EBADF);
    int lim = nofile_limit();
    CHECK_ERR(dup2(a, lim), EBADF);
    CHECK_ERR(dup2(a, lim + 100), EBADF);
    // newfd is range-checked before oldfd is looked up.
    CHECK_ERR(dup2(-1, lim), EBADF);
}

SCENARIO(dup2_onto_closed_number_opens_it)
{
    ufd a(CHECK_OK(eventfd(3, EFD_NONBLOCK)));
    int target = lowest_free_from(200);
    REQUIRE(target > 0);
    ufd t(CHECK_OK(dup2(a, target)));
    CHECK_EQ(t.get(), target);
    uint64_t v = 0;
    CHECK_EQ(efd_read(t, &v), 8);
    CHECK_EQ(v, 3u);
}

SCENARIO(dup3_validation)
{
    ufd a(CHECK_OK(eventfd(0, 0)));
    ufd b(CHECK_OK(eventfd(0, 0)));
    CHECK_ERR(dup3(a, a, 0), EINVAL);
    CHECK_ERR(dup3(a, a, O_CLOEXEC), EINVAL);
    CHECK_ERR(dup3(a, b, O_NONBLOCK), EINVAL);
    CHECK_ERR(dup3(a, b, -1), EINVAL);
    // Order: flags, then oldfd == newfd, then the range of newfd, then oldfd.
    CHECK_ERR(dup3(-1, -1, 0), EINVAL);
    CHECK_ERR(dup3(-1, b, O_NONBLOCK), EINVAL);
    CHECK_ERR(dup3(-1, nofile_limit(), 0), EBADF);
    CHECK_ERR(dup3(-1, b, 0), EBADF);
    CHECK(is_open(b));
}

SCENARIO(dup3_cloexec)
{
    ufd a(CHECK_OK(eventfd(0, 0)));
    ufd b(CHECK_OK(eventfd(0, 0)));
    CHECK_EQ(dup3(a, b, O_CLOEXEC), b.get());
    CHECK_EQ(fcntl(b, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(dup3(a, b, 0), b.get());
    CHECK_EQ(fcntl(b, F_GETFD), 0);
}

SCENARIO(fcntl_dupfd_lowest_at_or_above)
{
    ufd a(CHECK_OK(eventfd(0, EFD_CLOEXEC)));
    int expect = lowest_free_from(100);
    ufd d(CHECK_OK(fcntl(a, F_DUPFD, 100)));
    CHECK_EQ(d.get(), expect);
    CHECK_EQ(fcntl(d, F_GETFD), 0);
    // Asking for an occupied number moves up to the next free one.
    int expect2 = lowest_free_from(d.get());
    ufd d2(CHECK_OK(fcntl(a, F_DUPFD, d.get())));
    CHECK_EQ(d2.get(), expect2);
    CHECK_GT(d2.get(), d.get());
    ufd c(CHECK_OK(fcntl(a, F_DUPFD_CLOEXEC, 0)));
    CHECK_EQ(fcntl(c, F_GETFD), FD_CLOEXEC);
    CHECK_LT(c.get(), 1024);
}

SCENARIO(fcntl_dupfd_bad_arg_einval)
{
    ufd a(CHECK_OK(eventfd(0, 0)));
    CHECK_ERR(fcntl(a, F_DUPFD, -1), EINVAL);
    CHECK_ERR(fcntl(a, F_DUPFD_CLOEXEC, -5), EINVAL);
    CHECK_ERR(fcntl(a, F_DUPFD, nofile_limit()), EINVAL);
    CHECK_ERR(fcntl(-1, F_DUPFD, 0), EBADF);
    CHECK_ERR(fcntl(-1, F_DUPFD, -1), EBADF);
}

SCENARIO(fcntl_status_flags_shared_between_dups)
{
    auto p = make_pipe();
    ufd d(CHECK_OK(dup(p.a)));
    CHECK_EQ(fcntl(p.a, F_SETFL, O_NONBLOCK), 0);
    CHECK_EQ(fcntl(d, F_GETFL), O_RDONLY | O_NONBLOCK);
    char c;
    CHECK_ERR(read(d, &c, 1), EAGAIN);
    CHECK_EQ(fcntl(d, F_SETFL, 0), 0);
    CHECK_EQ(fcntl(p.a, F_GETFL), O_RDONLY);
}

SCENARIO(fcntl_fd_flags_not_shared_between_dups)
{
    ufd a(CHECK_OK(eventfd(0, 0)));
    ufd d(CHECK_OK(dup(a)));
    CHECK_EQ(fcntl(a, F_SETFD, FD_CLOEXEC), 0);
    CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(d, F_GETFD), 0);
    // Unknown FD_ bits are ignored.
    CHECK_EQ(fcntl(d, F_SETFD, 0xfe), 0);
    CHECK_EQ(fcntl(d, F_GETFD), 0);
}

SCENARIO(fcntl_bad_fd_and_cmd)
{
    CHECK_ERR(fcntl(-1, F_GETFD), EBADF);
    CHECK_ERR(fcntl(-1, F_GETFL), EBADF);
    CHECK_ERR(fcntl(-1, F_SETFL, 0), EBADF);
    ufd a(CHECK_OK(eventfd(0, 0)));
    CHECK_ERR(fcntl(a, 9999), EINVAL);
}

SCENARIO(ioctl_fionbio_and_fioclex)
{
    ufd a(CHECK_OK(eventfd(0, 0)));
    ufd d(CHECK_OK(dup(a)));
    int on = 1, off = 0;
    CHECK_EQ(ioctl(a, FIONBIO, &on), 0);
    CHECK_EQ(fcntl(d, F_GETFL), O_RDWR | O_NONBLOCK);
    uint64_t v;
    CHECK_ERR(efd_read(d, &v), EAGAIN);
    CHECK_EQ(ioctl(d, FIONBIO, &off), 0);
    CHECK_EQ(fcntl(a, F_GETFL), O_RDWR);
    CHECK_EQ(ioctl(a, FIOCLEX), 0);
    CHECK_EQ(fcntl(a, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(fcntl(d, F_GETFD), 0);
    CHECK_ERR(ioctl(-1, FIONBIO, &on), EBADF);
    CHECK_ERR(ioctl(a, FIONBIO, hide<int*>(nullptr)), EFAULT);
}

SCENARIO(ioctl_fionread_per_type)
{
    auto p = make_pipe();
    auto s = make_socketpair();
    CHECK_EQ(write(p.b, "abc", 3), 3);
    CHECK_EQ(write(s.b, "abcde", 5), 5);
    int n = -1;
    CHECK_EQ(ioctl(p.a, FIONREAD, &n), 0);
    CHECK_EQ(n, 3);
    CHECK_EQ(ioctl(s.a, FIONREAD, &n), 0);
    CHECK_EQ(n, 5);
    // eventfd has no ioctl at all.
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK_ERR(ioctl(efd, FIONREAD, &n), ENOTTY);
    CHECK_ERR(ioctl(p.a, FIONREAD, hide<int*>(nullptr)), EFAULT);
}

SCENARIO(close_twice_ebadf)
{
    int fd = CHECK_OK(eventfd(0, 0));
    CHECK_EQ(close(fd), 0);
    CHECK_ERR(close(fd), EBADF);
    CHECK_ERR(close(-1), EBADF);
    CHECK_ERR(close(nofile_limit() + 10), EBADF);
}

SCENARIO(readv_writev_iovcnt_limits)
{
    auto p = make_pipe(O_NONBLOCK);
    char c = 'x';
    iovec one{&c, 1};
    CHECK_ERR(writev(p.b, &one, hide(-1)), EINVAL);
    CHECK_ERR(readv(p.a, &one, hide(-1)), EINVAL);
    std::vector<iovec> many(1025, iovec{&c, 1});
    CHECK_ERR(writev(p.b, many.data(), 1025), EINVAL);
    CHECK_ERR(readv(p.a, many.data(), 1025), EINVAL);
    CHECK_EQ(writev(p.b, many.data(), 1024), 1024);
    std::vector<char> sink(1024);
    std::vector<iovec> rv(1024);
    for (int i = 0; i < 1024; i++)
        rv[i] = iovec{&sink[i], 1};
    CHECK_EQ(readv(p.a, rv.data(), 1024), 1024);
    CHECK_EQ(writev(p.b, many.data(), 0), 0);
    CHECK_EQ(readv(p.a, rv.data(), 0), 0);
}

SCENARIO(readv_writev_scatter_gather_socketpair)
{
    auto s = make_socketpair();
    char h[] = "HDR:", b[] = "body", t[] = "!";
    iovec wv[3] = {{h, 4}, {b, 4}, {t, 1}};
    CHECK_EQ(writev(s.a, wv, 3), 9);
    char x[2], y[7];
    iovec rv[2] = {{x, 2}, {y, 7}};
    CHECK_EQ(readv(s.b, rv, 2), 9);
    CHECK_EQ(std::string(x, 2), "HD");
    CHECK_EQ(std::string(y, 7), "R:body!");
}

SCENARIO(read_write_on_epoll_fd_einval)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    char buf[16];
    CHECK_ERR(read(ep, buf, sizeof buf), EINVAL);
    CHECK_ERR(write(ep, buf, sizeof buf), EINVAL);
    iovec iov{buf, sizeof buf};
    CHECK_ERR(readv(ep, &iov, 1), EINVAL);
    CHECK_ERR(writev(ep, &iov, 1), EINVAL);
}

SCENARIO(dup_of_epoll_fd_shares_interest_list)
{
    ufd ep(CHECK_OK(epoll_create1(EPOLL_CLOEXEC)));
    ufd ep2(CHECK_OK(dup(ep)));
    CHECK_EQ(fcntl(ep2, F_GETFD), 0);
    ufd efd(CHECK_OK(eventfd(1, 0)));
    CHECK(ep_add(ep, efd, EPOLLIN, 1));
    epoll_event e = ev(EPOLLIN, 2);
    CHECK_ERR(epoll_ctl(ep2, EPOLL_CTL_ADD, efd, &e), EEXIST);
    epoll_event out[1];
    CHECK_EQ(epoll_wait(ep2, out, 1, 0), 1);
    CHECK_EQ(out[0].data.u64, 1u);
    CHECK_EQ(epoll_ctl(ep2, EPOLL_CTL_DEL, efd, nullptr), 0);
    CHECK_EQ(epoll_wait(ep, out, 1, 0), 0);
}

// fstat of /dev's memory devices names the device (drivers/char/mem.c's major 1), whatever
// else is a character device (the console).
SCENARIO(fstat_of_dev_null_and_zero_names_them)
{
    struct {
        const char* path;
        unsigned minor;
    } const devices[] = {{"/dev/null", 3}, {"/dev/zero", 5}};
    for (const auto& d : devices) {
        ufd fd(CHECK_OK(open(d.path, O_RDONLY | O_CLOEXEC)));
        struct stat st {};
        CHECK_OK(fstat(fd, &st));
        CHECK(S_ISCHR(st.st_mode));
        CHECK_EQ(major(st.st_rdev), 1u);
        CHECK_EQ(minor(st.st_rdev), d.minor);
    }
}
