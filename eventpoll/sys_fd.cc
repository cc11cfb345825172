// Descriptor system calls: read/write and their vectored forms, close, dup*, fcntl, ioctl.
// Checks run in Linux's order (fs/read_write.c, fs/file.c, fs/fcntl.c, fs/ioctl.c), so that
// a call with several faults fails with the errno Linux picks.
#include <linux/errno.h>

#include <utility>

#include "eventpoll/fd_table.h"
#include "eventpoll/restart.h"
#include "eventpoll/sys.h"
#include "eventpoll/sys_util.h"
#include "kernel/platform.h"

namespace pollux {

namespace {


// vfs_read()/vfs_write(): access mode first (EBADF), then whether the file has the
// operation at all (EINVAL).
long check_read(File& file) {
    if ((file.mode() & FMODE_READ) == 0) return -EBADF;
    if (!file.can_read()) return -EINVAL;
    return 0;
}

long check_write(File& file) {
    if ((file.mode() & FMODE_WRITE) == 0) return -EBADF;
    if (!file.can_write()) return -EINVAL;
    return 0;
}

long do_readv(int fd, const IoVec* iov, int iovcnt) {
    FileRef file = FdTable::instance().get(fd);
    if (!file) return -EBADF;
    if (long r = check_read(*file); r < 0) return r;
    IovecBuffer room;
    IoVec* segs = room.get(iovcnt);
    if (segs == nullptr) return -ENOMEM;
    long total = import_iovec(iov, iovcnt, segs);
    if (total <= 0) return total;
    IoIter it(segs, static_cast<size_t>(iovcnt));
    return restart_syscall([&] { return result_of(file->read(it, file->nonblocking())); });
}

long do_writev(int fd, const IoVec* iov, int iovcnt) {
    FileRef file = FdTable::instance().get(fd);
    if (!file) return -EBADF;
    if (long r = check_write(*file); r < 0) return r;
    IovecBuffer room;
    IoVec* segs = room.get(iovcnt);
    if (segs == nullptr) return -ENOMEM;
    long total = import_iovec(iov, iovcnt, segs);
    if (total <= 0) return total;
    IoIter it(segs, static_cast<size_t>(iovcnt));
    return restart_syscall([&] { return result_of(file->write(it, file->nonblocking())); });
}

long install_dup(FileRef file, bool cloexec, int min_fd) {
    kstd::Result<int> fd = FdTable::instance().install(std::move(file), cloexec, min_fd);
    return fd.ok() ? fd.value() : -fd.error_code();
}

}  // namespace

long sys_read(int fd, void* buf, size_t count) {
    FileRef file = FdTable::instance().get(fd);
    if (!file) return -EBADF;
    if (long r = check_read(*file); r < 0) return r;
    if (count > static_cast<size_t>(abi::kMAX_RW_COUNT)) count = static_cast<size_t>(abi::kMAX_RW_COUNT);
    IoVec seg{buf, count};
    IoIter it(&seg, 1);
    return restart_syscall([&] { return result_of(file->read(it, file->nonblocking())); });
}

long sys_write(int fd, const void* buf, size_t count) {
    FileRef file = FdTable::instance().get(fd);
    if (!file) return -EBADF;
    if (long r = check_write(*file); r < 0) return r;
    if (count > static_cast<size_t>(abi::kMAX_RW_COUNT)) count = static_cast<size_t>(abi::kMAX_RW_COUNT);
    IoVec seg{const_cast<void*>(buf), count};
    IoIter it(&seg, 1);
    return restart_syscall([&] { return result_of(file->write(it, file->nonblocking())); });
}

long sys_readv(int fd, const IoVec* iov, int iovcnt) { return do_readv(fd, iov, iovcnt); }
long sys_writev(int fd, const IoVec* iov, int iovcnt) { return do_writev(fd, iov, iovcnt); }

long sys_close(int fd) {
    kstd::Result<void> r = FdTable::instance().close(fd);
    return r.ok() ? 0 : -r.error_code();
}

long sys_dup(int oldfd) {
    FileRef file = FdTable::instance().get(oldfd);
    if (!file) return -EBADF;
    return install_dup(file, false, 0);
}

// ksys_dup3(): flags, then same-fd, then the limit, then the old descriptor.
long sys_dup3(int oldfd, int newfd, int flags) {
    if ((flags & ~abi::kO_CLOEXEC) != 0) return -EINVAL;
    if (oldfd == newfd) return -EINVAL;
    if (newfd < 0 || newfd >= platform::fd_limit()) return -EBADF;
    FileRef file = FdTable::instance().get(oldfd);
    if (!file) return -EBADF;
    kstd::Result<int> r = FdTable::instance().install_at(newfd, file, (flags & abi::kO_CLOEXEC) != 0);
    return r.ok() ? r.value() : -r.error_code();
}

long sys_dup2(int oldfd, int newfd) {
    if (oldfd == newfd) return FdTable::instance().owns(oldfd) ? oldfd : -EBADF;
    return sys_dup3(oldfd, newfd, 0);
}

// fs/fcntl.c: do_fcntl() and setfl().
long sys_fcntl(int fd, int cmd, unsigned long arg) {
    FdTable& table = FdTable::instance();
    FileRef file = table.get(fd);
    if (!file) return -EBADF;
    switch (cmd) {
    case abi::kF_DUPFD:
    case abi::kF_DUPFD_CLOEXEC:
        // The kernel takes arg as unsigned, so a negative one is simply too large.
        if (arg >= static_cast<unsigned long>(platform::fd_limit())) return -EINVAL;
        return install_dup(file, cmd == abi::kF_DUPFD_CLOEXEC, static_cast<int>(arg));
    case abi::kF_GETFD: {
        kstd::Result<bool> cloexec = table.cloexec(fd);
        if (!cloexec.ok()) return -cloexec.error_code();
        return cloexec.value() ? abi::kFD_CLOEXEC : 0;
    }
    case abi::kF_SETFD: {
        kstd::Result<void> r = table.set_cloexec(fd, (arg & abi::kFD_CLOEXEC) != 0);
        return r.ok() ? 0 : -r.error_code();
    }
    case abi::kF_GETFL:
        return file->flags();
    case abi::kF_SETFL: {
        int flags = static_cast<int>(arg);
        // None of our files can do direct I/O (no FMODE_CAN_ODIRECT).
        if ((flags & abi::kO_DIRECT) != 0 && !file->allows_odirect()) return -EINVAL;
        if (!file->has_fasync()) flags &= ~abi::kFASYNC;
        int old = file->flags();
        file->set_flags((flags & abi::kSETFL_MASK) | (old & ~abi::kSETFL_MASK));
        return 0;
    }
    default:
        return -EINVAL;
    }
}

// fs/ioctl.c: do_vfs_ioctl() handles the generic commands before the file sees any.
long sys_ioctl(int fd, unsigned long cmd, unsigned long arg) {
    FdTable& table = FdTable::instance();
    FileRef file = table.get(fd);
    if (!file) return -EBADF;
    switch (cmd) {
    case abi::kFIOCLEX:
    case abi::kFIONCLEX: {
        kstd::Result<void> r = table.set_cloexec(fd, cmd == abi::kFIOCLEX);
        return r.ok() ? 0 : -r.error_code();
    }
    case abi::kFIONBIO: {
        const int* on = reinterpret_cast<const int*>(arg);
        if (on == nullptr) return -EFAULT;
        int flags = file->flags();
        file->set_flags(*on != 0 ? (flags | abi::kO_NONBLOCK) : (flags & ~abi::kO_NONBLOCK));
        return 0;
    }
    default: {
        kstd::Result<long> r = file->ioctl(cmd, arg);
        return r.ok() ? r.value() : -r.error_code();
    }
    }
}

// import_iovec(): at most UIO_MAXIOV segments, no negative lengths, and a total clamped to
// MAX_RW_COUNT by shortening the tail, as rw_copy_check_uvector() does.
long import_iovec(const IoVec* iov, int iovcnt, IoVec* out) {
    if (iovcnt < 0 || iovcnt > abi::kUIO_MAXIOV) return -EINVAL;
    if (iovcnt > 0 && iov == nullptr) return -EFAULT;
    size_t total = 0;
    for (int i = 0; i < iovcnt; ++i) {
        size_t len = iov[i].len;
        if (static_cast<long>(len) < 0) return -EINVAL;
        if (len > static_cast<size_t>(abi::kMAX_RW_COUNT) - total) len = static_cast<size_t>(abi::kMAX_RW_COUNT) - total;
        out[i] = IoVec{iov[i].base, len};
        total += len;
    }
    return static_cast<long>(total);
}

}  // namespace pollux
