// Hosted shim: read/write and their vectored forms, close, dup*, fcntl, ioctl.
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include <atomic>

#include "eventpoll/sys.h"
#include "shim.h"

using pollux::IoVec;
using pollux::shim::host;
using pollux::shim::ours;
using pollux::shim::ret;

static_assert(sizeof(struct iovec) == sizeof(IoVec));

namespace pollux::shim {
void warn_once(const char* what) {
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) fprintf(stderr, "pollux: %s\n", what);
}
}  // namespace pollux::shim

extern "C" {

ssize_t read(int fd, void* buf, size_t count) {
    if (!ours(fd)) return host(SYS_read, fd, buf, count);
    return ret(pollux::sys_read(fd, buf, count));
}

// _FORTIFY_SOURCE turns read() into __read_chk(), which calls glibc's internal read.
ssize_t __read_chk(int fd, void* buf, size_t count, size_t buflen) {
    if (count > buflen) abort();
    return read(fd, buf, count);
}

ssize_t write(int fd, const void* buf, size_t count) {
    if (!ours(fd)) return host(SYS_write, fd, buf, count);
    return ret(pollux::sys_write(fd, buf, count));
}

ssize_t readv(int fd, const struct iovec* iov, int iovcnt) {
    if (!ours(fd)) return host(SYS_readv, fd, iov, iovcnt);
    return ret(pollux::sys_readv(fd, reinterpret_cast<const IoVec*>(iov), iovcnt));
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
    if (!ours(fd)) return host(SYS_writev, fd, iov, iovcnt);
    return ret(pollux::sys_writev(fd, reinterpret_cast<const IoVec*>(iov), iovcnt));
}

int close(int fd) {
    if (!ours(fd)) return static_cast<int>(host(SYS_close, fd));
    return static_cast<int>(ret(pollux::sys_close(fd)));
}

int dup(int oldfd) {
    if (!ours(oldfd)) return static_cast<int>(host(SYS_dup, oldfd));
    return static_cast<int>(ret(pollux::sys_dup(oldfd)));
}

// A host descriptor duplicated onto a Pollux number: Pollux lets go of the number first,
// but only once the host has confirmed that oldfd is valid, so a failing call changes nothing.
static int host_dup3_over_ours(int oldfd, int newfd, int flags) {
    if (host(SYS_fcntl, oldfd, F_GETFD) < 0) return -1;
    (void)pollux::FdTable::instance().detach(newfd);
    return static_cast<int>(host(SYS_dup3, oldfd, newfd, flags));
}

int dup3(int oldfd, int newfd, int flags) {
    if (ours(oldfd)) return static_cast<int>(ret(pollux::sys_dup3(oldfd, newfd, flags)));
    if (ours(newfd) && oldfd != newfd && (flags & ~O_CLOEXEC) == 0) return host_dup3_over_ours(oldfd, newfd, flags);
    return static_cast<int>(host(SYS_dup3, oldfd, newfd, flags));
}

int dup2(int oldfd, int newfd) {
    if (ours(oldfd)) return static_cast<int>(ret(pollux::sys_dup2(oldfd, newfd)));
    if (ours(newfd) && oldfd != newfd) return host_dup3_over_ours(oldfd, newfd, 0);
    return static_cast<int>(host(SYS_dup2, oldfd, newfd));
}

static int do_fcntl(int fd, int cmd, va_list args) {
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): the callers va_start() it
    unsigned long arg = va_arg(args, unsigned long);
    if (!ours(fd)) return static_cast<int>(host(SYS_fcntl, fd, cmd, arg));
    return static_cast<int>(ret(pollux::sys_fcntl(fd, cmd, arg)));
}

int fcntl(int fd, int cmd, ...) {
    va_list args;
    va_start(args, cmd);
    int r = do_fcntl(fd, cmd, args);
    va_end(args);
    return r;
}

int fcntl64(int fd, int cmd, ...) {
    va_list args;
    va_start(args, cmd);
    int r = do_fcntl(fd, cmd, args);
    va_end(args);
    return r;
}

int ioctl(int fd, unsigned long request, ...) {
    va_list args;
    va_start(args, request);
    unsigned long arg = va_arg(args, unsigned long);
    va_end(args);
    if (!ours(fd)) return static_cast<int>(host(SYS_ioctl, fd, request, arg));
    return static_cast<int>(ret(pollux::sys_ioctl(fd, request, arg)));
}

}  // extern "C"
