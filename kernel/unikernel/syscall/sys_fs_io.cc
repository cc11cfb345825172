// The file tree's calls on descriptors that the portable descriptor layer (eventpoll/sys.h)
// has no use for hosted, where Linux serves them: pwrite64 and pwritev (through the tree's
// NodeFile::write_at), ftruncate, fallocate, fsync and fdatasync, sync and syncfs, fchmod,
// fchown. Checks in Linux's order
// (fs/read_write.c: ksys_pwrite64(), vfs_write(); fs/open.c: do_ftruncate(); fs/sync.c).
#include <linux/errno.h>

#include "eventpoll/fd_table.h"
#include "eventpoll/linux_abi.h"
#include "eventpoll/sys_util.h"
#include "fs/vfs.h"
#include "syscall/syscall.h"
#include "syscall/user_path.h"
#include "user/user_access.h"

namespace pollux::sys {
namespace {

// fdget(): an O_PATH descriptor only names a file.
FileRef usable(int fd) {
    FileRef file = FdTable::instance().get(fd);
    if (file && (file->flags() & abi::kO_PATH) != 0) return FileRef();
    return file;
}

// Only the tree's files carry FMODE_PWRITE (fs/node_file.h); pipes, sockets and the console
// are not seekable (ESPIPE).
int64_t pwrite_checks(File& file, int64_t pos, uint64_t count) {
    if ((file.mode() & fs::FMODE_PWRITE) == 0) return -ESPIPE;
    if ((file.mode() & FMODE_WRITE) == 0) return -EBADF;
    if (!file.can_write()) return -EINVAL;
    if (int64_t(count) > INT64_MAX - pos) return -EINVAL;  // rw_verify_area()
    return 0;
}

}  // namespace

int64_t sys_pwrite64(const Args& a) {
    int64_t pos = int64_t(a.a3);
    if (pos < 0) return -EINVAL;
    FileRef file = usable(int(a.a0));
    if (!file) return -EBADF;
    uint64_t count = a.a2 > uint64_t(abi::kMAX_RW_COUNT) ? uint64_t(abi::kMAX_RW_COUNT) : a.a2;
    if (int64_t e = pwrite_checks(*file, pos, count)) return e;
    // An unmapped buffer is a null base: the copy then fails with EFAULT (sys_files.cc).
    IoVec seg{user::readable(a.a1, count) ? user::ptr<void>(a.a1) : nullptr, size_t(count)};
    IoIter it(&seg, 1);
    return result_of(static_cast<fs::NodeFile&>(*file).write_at(it, pos));
}

// x86_64's pwritev takes the whole offset in its fourth argument.
int64_t sys_pwritev(const Args& a) {
    int64_t pos = int64_t(a.a3);
    if (pos < 0) return -EINVAL;
    FileRef file = usable(int(a.a0));
    if (!file) return -EBADF;
    if ((file->mode() & fs::FMODE_PWRITE) == 0) return -ESPIPE;
    if ((file->mode() & FMODE_WRITE) == 0) return -EBADF;
    int iovcnt = int(a.a2);
    if (iovcnt > 0 && !user::readable(a.a1, uint64_t(iovcnt) * sizeof(IoVec))) return -EFAULT;
    IovecBuffer segs(iovcnt);
    if (segs.get() == nullptr) return -ENOMEM;
    long total = import_iovec(user::ptr<const IoVec>(a.a1), iovcnt, segs.get());
    if (total <= 0) return total;
    if (int64_t e = pwrite_checks(*file, pos, uint64_t(total))) return e;
    for (int i = 0; i < iovcnt; ++i) {
        uint64_t base = reinterpret_cast<uint64_t>(segs.get()[i].base);
        if (!user::readable(base, segs.get()[i].len)) segs.get()[i].base = nullptr;
    }
    IoIter it(segs.get(), size_t(iovcnt));
    return result_of(static_cast<fs::NodeFile&>(*file).write_at(it, pos));
}

int64_t sys_ftruncate(const Args& a) {
    int64_t length = int64_t(a.a1);
    if (length < 0) return -EINVAL;
    FileRef file = usable(int(a.a0));
    if (!file) return -EBADF;
    fs::Node* node = fs::node_of(*file);
    if (node == nullptr || (file->mode() & FMODE_WRITE) == 0) return -EINVAL;
    return -fs::truncate(tree(), node, length);
}

// fallocate(2) as tmpfs takes it: mode 0 grows the size (the new end is sparse here, not
// reserved), FALLOC_FL_KEEP_SIZE leaves it; punching holes is not done (EOPNOTSUPP).
// vfs_fallocate()'s order: the range, the mode, write access, then the kind of file.
int64_t sys_fallocate(const Args& a) {
    constexpr int kKeepSize = 1;  // FALLOC_FL_KEEP_SIZE
    int mode = int(a.a1);
    int64_t offset = int64_t(a.a2), len = int64_t(a.a3);
    if (offset < 0 || len <= 0) return -EINVAL;
    if ((mode & ~kKeepSize) != 0) return -EOPNOTSUPP;
    FileRef file = usable(int(a.a0));
    if (!file) return -EBADF;
    if ((file->mode() & FMODE_WRITE) == 0) return -EBADF;
    if (file->kind() == FileKind::pipe) return -ESPIPE;
    fs::Node* node = fs::node_of(*file);
    if (node != nullptr && node->is_dir()) return -EISDIR;
    if (node == nullptr || !node->is_regular()) return -ENODEV;
    int64_t end;
    if (__builtin_add_overflow(offset, len, &end)) return -EFBIG;
    if ((mode & kKeepSize) != 0) return 0;
    return -fs::extend(tree(), node, end);
}

// The tree lives in memory: there is nothing to write back, as for tmpfs (noop_fsync). Files
// without an fsync operation (pipes, sockets, the console, /dev's devices) are EINVAL.
int64_t sys_fsync(const Args& a) {
    FileRef file = usable(int(a.a0));
    if (!file) return -EBADF;
    return fs::node_of(*file) != nullptr ? 0 : -EINVAL;
}

// sync(2) always succeeds; syncfs(2) needs a descriptor.
int64_t sys_sync(const Args&) { return 0; }
int64_t sys_syncfs(const Args& a) { return usable(int(a.a0)) ? 0 : -EBADF; }

int64_t sys_fchown(const Args& a) {
    FileRef file = usable(int(a.a0));
    if (!file) return -EBADF;
    fs::Node* node = fs::inode_node_of(*file);
    return node != nullptr ? -fs::chown(tree(), node, uint32_t(a.a1), uint32_t(a.a2)) : 0;
}

int64_t sys_fchmod(const Args& a) {
    FileRef file = usable(int(a.a0));
    if (!file) return -EBADF;
    fs::Node* node = fs::inode_node_of(*file);
    return node != nullptr ? -fs::chmod(tree(), node, uint32_t(a.a1)) : 0;
}

}  // namespace pollux::sys
