// The calls that add, remove and move names in the file tree, and change attributes by path:
// mkdir, unlink, rmdir, rename, symlink, link, chmod, chown, truncate, utimensat. The checks are
// fs/vfs_names.cc's; here the arguments are taken as Linux's syscall entries take them (flags
// first where Linux looks at them before the paths, then getname()'s errors).
#include <asm/stat.h>
#include <linux/errno.h>
#include <linux/fcntl.h>

#include <cstring>

#include "eventpoll/fd_table.h"
#include "fs/vfs.h"
#include "syscall/syscall.h"
#include "syscall/user_path.h"

namespace pollux::sys {
namespace {

constexpr unsigned kRenameFlags = 1 | 2 | 4;  // RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT

int64_t mkdir_at(int dirfd, uint64_t upath, uint32_t mode) {
    UserPath path(upath);
    if (int e = path.error()) return -e;
    PathBase base = base_for(dirfd, path);
    if (base.error != 0) return -base.error;
    return -fs::mkdir(tree(), base.node, path.str(), path.len(), mode);
}

int64_t unlink_at(int dirfd, uint64_t upath, bool dir) {
    UserPath path(upath);
    if (int e = path.error()) return -e;
    PathBase base = base_for(dirfd, path);
    if (base.error != 0) return -base.error;
    return -fs::unlink(tree(), base.node, path.str(), path.len(), dir);
}

int64_t rename_at(int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath, unsigned flags) {
    // do_renameat2(): the flags before either path.
    if ((flags & ~kRenameFlags) != 0 || (flags & 3) == 3) return -EINVAL;
    UserPath from(oldpath), to(newpath);
    if (int e = from.error()) return -e;
    PathBase from_base = base_for(olddirfd, from);
    if (from_base.error != 0) return -from_base.error;
    if (int e = to.error()) return -e;
    PathBase to_base = base_for(newdirfd, to);
    if (to_base.error != 0) return -to_base.error;
    return -fs::rename(tree(), from_base.node, from.str(), from.len(), to_base.node, to.str(), to.len(), flags);
}

int64_t symlink_at(uint64_t utarget, int dirfd, uint64_t upath) {
    UserPath target(utarget);
    if (int e = target.error()) return -e;
    UserPath path(upath);
    if (int e = path.error()) return -e;
    PathBase base = base_for(dirfd, path);
    if (base.error != 0) return -base.error;
    return -fs::symlink(tree(), target.str(), target.len(), base.node, path.str(), path.len());
}

int64_t link_at(int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath, int flags) {
    if ((flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
    UserPath from(oldpath);
    if (int e = from.error((flags & AT_EMPTY_PATH) != 0)) return -e;
    PathBase from_base;
    fs::Node* old_node = nullptr;
    if (from.empty()) {
        // AT_EMPTY_PATH: olddirfd's file itself (root has CAP_DAC_READ_SEARCH).
        if (olddirfd == AT_FDCWD) return -EPERM;  // the working directory: a directory
        from_base.file = FdTable::instance().get(olddirfd);
        if (!from_base.file) return -EBADF;
        old_node = fs::node_of(*from_base.file);
        if (old_node == nullptr) return -EXDEV;  // a socket, a pipe: not on this file system
    } else {
        from_base = base_for(olddirfd, from);
        if (from_base.error != 0) return -from_base.error;
    }
    UserPath to(newpath);
    if (int e = to.error()) return -e;
    PathBase to_base = base_for(newdirfd, to);
    if (to_base.error != 0) return -to_base.error;
    return -fs::link(tree(), from_base.node, from.str(), from.len(), to_base.node, to.str(), to.len(),
                     (flags & AT_SYMLINK_FOLLOW) != 0, old_node);
}

int64_t chmod_at(int dirfd, uint64_t upath, uint32_t mode) {
    UserPath path(upath);
    if (int e = path.error()) return -e;
    PathBase base = base_for(dirfd, path);
    if (base.error != 0) return -base.error;
    return -fs::chmod(tree(), base.node, path.str(), path.len(), mode);
}

// utimensat(2)'s times: null is now for both; UTIME_NOW and UTIME_OMIT per field; any other
// tv_nsec outside [0, 1e9) is EINVAL.
constexpr long kUtimeNowNsec = (1L << 30) - 1, kUtimeOmitNsec = (1L << 30) - 2;
int times_from(uint64_t utimes, int64_t* atime, int64_t* mtime) {
    *atime = *mtime = fs::kUtimeNow;
    if (utimes == 0) return 0;
    if (!user::readable(utimes, 2 * sizeof(struct timespec))) return EFAULT;
    const auto* ts = user::ptr<const struct timespec>(utimes);
    int64_t* out[2] = {atime, mtime};
    for (int i = 0; i < 2; ++i) {
        long ns = ts[i].tv_nsec;
        if (ns == kUtimeNowNsec) continue;
        if (ns == kUtimeOmitNsec) {
            *out[i] = fs::kUtimeOmit;
            continue;
        }
        if (ns < 0 || ns >= 1000000000 || ts[i].tv_sec < 0) return EINVAL;
        *out[i] = int64_t(ts[i].tv_sec) * 1000000000 + ns;
    }
    return 0;
}

}  // namespace

int64_t sys_mkdir(const Args& a) { return mkdir_at(AT_FDCWD, a.a0, uint32_t(a.a1)); }
int64_t sys_mkdirat(const Args& a) { return mkdir_at(int(a.a0), a.a1, uint32_t(a.a2)); }
int64_t sys_unlink(const Args& a) { return unlink_at(AT_FDCWD, a.a0, false); }
int64_t sys_rmdir(const Args& a) { return unlink_at(AT_FDCWD, a.a0, true); }
int64_t sys_unlinkat(const Args& a) {
    int flags = int(a.a2);
    if ((flags & ~AT_REMOVEDIR) != 0) return -EINVAL;
    return unlink_at(int(a.a0), a.a1, (flags & AT_REMOVEDIR) != 0);
}
int64_t sys_rename(const Args& a) { return rename_at(AT_FDCWD, a.a0, AT_FDCWD, a.a1, 0); }
int64_t sys_renameat(const Args& a) { return rename_at(int(a.a0), a.a1, int(a.a2), a.a3, 0); }
int64_t sys_renameat2(const Args& a) { return rename_at(int(a.a0), a.a1, int(a.a2), a.a3, unsigned(a.a4)); }
int64_t sys_symlink(const Args& a) { return symlink_at(a.a0, AT_FDCWD, a.a1); }
int64_t sys_symlinkat(const Args& a) { return symlink_at(a.a0, int(a.a1), a.a2); }
int64_t sys_link(const Args& a) { return link_at(AT_FDCWD, a.a0, AT_FDCWD, a.a1, 0); }
int64_t sys_linkat(const Args& a) { return link_at(int(a.a0), a.a1, int(a.a2), a.a3, int(a.a4)); }
int64_t sys_chmod(const Args& a) { return chmod_at(AT_FDCWD, a.a0, uint32_t(a.a1)); }
int64_t sys_fchmodat(const Args& a) { return chmod_at(int(a.a0), a.a1, uint32_t(a.a2)); }

namespace {
int64_t chown_at(int dirfd, uint64_t upath, uint32_t uid, uint32_t gid, int flags) {
    if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
    UserPath path(upath);
    if (int e = path.error((flags & AT_EMPTY_PATH) != 0)) return -e;
    if (path.empty()) {
        if (dirfd == AT_FDCWD) return -fs::chown(tree(), nullptr, ".", 1, true, uid, gid);
        FileRef file = FdTable::instance().get(dirfd);
        if (!file) return -EBADF;
        fs::Node* node = fs::inode_node_of(*file);
        return node != nullptr ? -fs::chown(tree(), node, uid, gid) : 0;
    }
    PathBase base = base_for(dirfd, path);
    if (base.error != 0) return -base.error;
    return -fs::chown(tree(), base.node, path.str(), path.len(), (flags & AT_SYMLINK_NOFOLLOW) == 0, uid, gid);
}
}  // namespace

int64_t sys_chown(const Args& a) { return chown_at(AT_FDCWD, a.a0, uint32_t(a.a1), uint32_t(a.a2), 0); }
int64_t sys_lchown(const Args& a) {
    return chown_at(AT_FDCWD, a.a0, uint32_t(a.a1), uint32_t(a.a2), AT_SYMLINK_NOFOLLOW);
}
int64_t sys_fchownat(const Args& a) {
    return chown_at(int(a.a0), a.a1, uint32_t(a.a2), uint32_t(a.a3), int(a.a4));
}

int64_t sys_truncate(const Args& a) {
    UserPath path(a.a0);
    if (int e = path.error()) return -e;
    return -fs::truncate(tree(), nullptr, path.str(), path.len(), int64_t(a.a1));
}

// do_utimes(): a null path is the descriptor's own file (futimens).
int64_t sys_utimensat(const Args& a) {
    int dirfd = int(a.a0), flags = int(a.a3);
    if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
    int64_t atime = 0, mtime = 0;
    if (int e = times_from(a.a2, &atime, &mtime)) return -e;
    if (a.a1 == 0) {
        if (flags != 0) return -EINVAL;
        FileRef file = FdTable::instance().get(dirfd);
        if (!file) return -EBADF;
        fs::Node* node = fs::inode_node_of(*file);
        return node != nullptr ? -fs::utimens(tree(), node, atime, mtime) : 0;
    }
    UserPath path(a.a1);
    if (int e = path.error((flags & AT_EMPTY_PATH) != 0)) return -e;
    if (path.empty()) {
        FileRef file = FdTable::instance().get(dirfd);
        if (!file) return -EBADF;
        fs::Node* node = fs::inode_node_of(*file);
        return node != nullptr ? -fs::utimens(tree(), node, atime, mtime) : 0;
    }
    PathBase base = base_for(dirfd, path);
    if (base.error != 0) return -base.error;
    return -fs::utimens(tree(), base.node, path.str(), path.len(), (flags & AT_SYMLINK_NOFOLLOW) == 0, atime, mtime);
}

}  // namespace pollux::sys
