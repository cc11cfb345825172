// Hosted shim: read/write and their vectored forms, close, dup*, fcntl, ioctl.
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/uio.h>

#include <atomic>
#include <cerrno>

#include "eventpoll/fd_table.h"
#include "eventpoll/restart.h"
#include "eventpoll/sendfile.h"
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

// sendfile into a Pollux descriptor from a host file: the host reads (pread at the position,
// so that what the output did not take stays unread), Pollux writes. Both host's: the host's
// sendfile; a Pollux input: the core's (a regular file it has none of, so EINVAL).
ssize_t sendfile(int out_fd, int in_fd, off_t* offset, size_t count) {
    if (!ours(out_fd) && !ours(in_fd)) return host(SYS_sendfile, out_fd, in_fd, offset, count);
    if (ours(in_fd)) return ret(pollux::sys_sendfile(out_fd, in_fd, reinterpret_cast<int64_t*>(offset), count));
    // do_sendfile()'s order: the input open for reading, its position, the output, then
    // whether the input can be read at a position at all (a regular file here).
    long mode = host(SYS_fcntl, in_fd, F_GETFL);
    if (mode < 0) return -1;  // EBADF, errno set
    if ((mode & O_ACCMODE) == O_WRONLY || (mode & O_PATH) != 0) return ret(-EBADF);
    struct stat st;
    if (host(SYS_fstat, in_fd, &st) < 0) return -1;
    bool regular = S_ISREG(st.st_mode);
    int64_t pos = 0;
    if (offset != nullptr) {
        if (!regular && !S_ISBLK(st.st_mode)) return ret(-ESPIPE);  // no FMODE_PREAD
        pos = *offset;
    } else if (regular) {
        pos = host(SYS_lseek, in_fd, 0, SEEK_CUR);
        if (pos < 0) return -1;
    }
    if (pos < 0) return ret(-EINVAL);
    pollux::FileRef out = pollux::FdTable::instance().get(out_fd);
    if (long r = pollux::sendfile_check_out(out); r < 0) return ret(r);
    if (!regular) return ret(-EINVAL);
    long moved = pollux::restart_syscall([&] {
        return pollux::sendfile_copy(*out, &pos, count, [in_fd](void* buf, size_t n, int64_t at) {
            long got = host(SYS_pread64, in_fd, buf, n, at);
            return got < 0 ? -errno : got;
        });
    });
    if (moved < 0) return ret(moved);
    if (offset != nullptr) *offset = pos;
    else host(SYS_lseek, in_fd, pos, SEEK_SET);
    return moved;
}
ssize_t sendfile64(int out_fd, int in_fd, off_t* offset, size_t count) { return sendfile(out_fd, in_fd, offset, count); }

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
