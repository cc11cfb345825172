// Descriptor system calls: read/write and their vectored forms, sendfile, close, dup*, fcntl, ioctl.
// Checks run in Linux's order (fs/read_write.c, fs/file.c, fs/fcntl.c, fs/ioctl.c), so that
// a call with several faults fails with the errno Linux picks.
#include <linux/errno.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "eventpoll/fd_table.h"
#include "eventpoll/restart.h"
#include "eventpoll/sendfile.h"
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
    IovecBuffer segs(iovcnt);
    if (segs.get() == nullptr) return -ENOMEM;
    long total = import_iovec(iov, iovcnt, segs.get());
    if (total <= 0) return total;
    IoIter it(segs.get(), static_cast<size_t>(iovcnt));
    return restart_syscall([&] { return result_of(file->read(it, file->nonblocking())); });
}

long do_writev(int fd, const IoVec* iov, int iovcnt) {
    FileRef file = FdTable::instance().get(fd);
    if (!file) return -EBADF;
    if (long r = check_write(*file); r < 0) return r;
    IovecBuffer segs(iovcnt);
    if (segs.get() == nullptr) return -ENOMEM;
    long total = import_iovec(iov, iovcnt, segs.get());
    if (total <= 0) return total;
    IoIter it(segs.get(), static_cast<size_t>(iovcnt));
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

namespace {
// fdget(): an O_PATH descriptor only names a file; calls that use the file see EBADF.
FileRef get_usable(int fd) {
    FileRef file = FdTable::instance().get(fd);
    if (file && (file->flags() & abi::kO_PATH) != 0) return FileRef();
    return file;
}
}  // namespace

// ksys_lseek(): the descriptor, then whence, then the file's own llseek.
long sys_lseek(int fd, int64_t offset, unsigned int whence) {
    FileRef file = get_usable(fd);
    if (!file) return -EBADF;
    if (whence > static_cast<unsigned>(abi::kSEEK_MAX)) return -EINVAL;
    kstd::Result<int64_t> r = file->llseek(offset, static_cast<int>(whence));
    return r.ok() ? static_cast<long>(r.value()) : -r.error_code();
}

// do_sendfile(): the input (open for reading; a position given needs pread), its position,
// then the output; an input without positional reads (a pipe, a socket here) is EINVAL,
// do_splice_direct()'s answer for a file without splice_read. Linux also reads from sockets;
// Pollux does not.
long sys_sendfile(int out_fd, int in_fd, int64_t* offset, size_t count) {
    FileRef in = get_usable(in_fd);
    if (!in || (in->mode() & FMODE_READ) == 0) return -EBADF;
    int64_t pos = 0;
    if (offset != nullptr) {
        if ((in->mode() & FMODE_PREAD) == 0) return -ESPIPE;
        std::memcpy(&pos, offset, sizeof pos);
    } else {
        // f_pos: a file that cannot seek (a pipe) is at 0, and fails the kind check below.
        kstd::Result<int64_t> cur = in->llseek(0, abi::kSEEK_CUR);
        pos = cur.ok() ? cur.value() : 0;
    }
    if (pos < 0) return -EINVAL;
    FileRef out = FdTable::instance().get(out_fd);
    if (long r = sendfile_check_out(out); r < 0) return r;
    if (in->kind() != FileKind::regular) return -EINVAL;
    long moved = restart_syscall([&] {
        return sendfile_copy(*out, &pos, count, [&in](void* buf, size_t n, int64_t at) {
            IoVec seg{buf, n};
            IoIter it(&seg, 1);
            return result_of(in->read_at(it, at));
        });
    });
    if (moved < 0) return moved;
    if (offset != nullptr) std::memcpy(offset, &pos, sizeof pos);
    else (void)in->llseek(pos, abi::kSEEK_SET);
    return moved;
}

// ksys_pread64(): a negative position first, then the descriptor, then FMODE_PREAD (ESPIPE),
// then vfs_read()'s checks, of which rw_verify_area() refuses a pos + count past LLONG_MAX.
long sys_pread64(int fd, void* buf, size_t count, int64_t pos) {
    if (pos < 0) return -EINVAL;
    FileRef file = get_usable(fd);
    if (!file) return -EBADF;
    if ((file->mode() & FMODE_PREAD) == 0) return -ESPIPE;
    if (long r = check_read(*file); r < 0) return r;
    if (count > static_cast<size_t>(abi::kMAX_RW_COUNT)) count = static_cast<size_t>(abi::kMAX_RW_COUNT);
    if (static_cast<int64_t>(count) > INT64_MAX - pos) return -EINVAL;
    IoVec seg{buf, count};
    IoIter it(&seg, 1);
    return result_of(file->read_at(it, pos));
}

long sys_preadv(int fd, const IoVec* iov, int iovcnt, int64_t pos) {
    if (pos < 0) return -EINVAL;
    FileRef file = get_usable(fd);
    if (!file) return -EBADF;
    if ((file->mode() & FMODE_PREAD) == 0) return -ESPIPE;
    if (long r = check_read(*file); r < 0) return r;
    IovecBuffer segs(iovcnt);
    if (segs.get() == nullptr) return -ENOMEM;
    long total = import_iovec(iov, iovcnt, segs.get());
    if (total <= 0) return total;
    if (total > INT64_MAX - pos) return -EINVAL;
    IoIter it(segs.get(), static_cast<size_t>(iovcnt));
    return result_of(file->read_at(it, pos));
}
long sys_writev(int fd, const IoVec* iov, int iovcnt) { return do_writev(fd, iov, iovcnt); }

long sys_close(int fd) {
    kstd::Result<void> r = FdTable::instance().close(fd);
    return r.ok() ? 0 : -r.error_code();
}

// __close_range() in fs/file.c: the flags, then the range; numbers past the table are simply
// not open. CLOSE_RANGE_UNSHARE asks for a private copy of a shared table first: the one table
// here is private already.
long sys_close_range(unsigned int first, unsigned int last, unsigned int flags) {
    constexpr unsigned int kUnshare = 1u << 1, kCloexec = 1u << 2;  // CLOSE_RANGE_* (linux/close_range.h)
    if (flags & ~(kUnshare | kCloexec)) return -EINVAL;
    if (first > last) return -EINVAL;
    FdTable& table = FdTable::instance();
    unsigned int end = std::min(last, unsigned(table.capacity()) - 1);
    for (unsigned int fd = first; fd <= end; ++fd) {
        if (!table.owns(int(fd))) continue;
        // Either fails only when another thread closed fd meanwhile: nothing left to do for it.
        if (flags & kCloexec) {
            (void)table.set_cloexec(int(fd), true);
        } else {
            (void)table.close(int(fd));
        }
    }
    return 0;
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
