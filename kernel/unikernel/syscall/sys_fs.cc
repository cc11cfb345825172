// The file tree's system calls, over fs/vfs.h and the tree fs/root_fs.h built at boot: open,
// the stat family, getdents64, access, readlink, getcwd, chdir and umask (the calls that
// change names are sys_fs_names.cc's, the writes sys_fs_io.cc's). One process: the working
// directory and the umask are the tree's.
//
// Paths are copied in first (syscall/user_path.h). Results are copied out only once they
// exist, after a check that the application's buffer is mapped writable (EFAULT otherwise),
// as in sys_files.cc.
#include "syscall/sys_fs.h"

#include <asm/stat.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/stat.h>

#include <cstring>
#include <new>

#include "eventpoll/fd_table.h"
#include "fs/root_fs.h"
#include "fs/vfs.h"
#include "syscall/syscall.h"
#include "syscall/user_path.h"
#include "user/address_space.h"
#include "user/user_access.h"

namespace pollux::sys {

using user::ptr;
using user::readable;
using user::writable;

fs::RamFs& tree() { return fs::root_fs(); }

PathBase base_for(int dirfd, const UserPath& path) {
    PathBase base;
    if (path.absolute() || dirfd == AT_FDCWD) return base;
    base.file = FdTable::instance().get(dirfd);
    if (!base.file) {
        base.error = EBADF;
        return base;
    }
    base.node = fs::node_of(*base.file);
    if (base.node == nullptr || !base.node->is_dir()) base.error = ENOTDIR;
    return base;
}

namespace {

fs::Lookup resolve(int dirfd, const UserPath& path, bool follow, fs::NodeStat& st) {
    fs::Lookup l;
    PathBase base = base_for(dirfd, path);
    if (base.error != 0) {
        l.error = base.error;
        return l;
    }
    l.error = fs::stat(tree(), base.node, path.str(), path.len(), follow, st);
    return l;
}

void to_stat(const fs::NodeStat& n, struct stat& st) {
    memset(&st, 0, sizeof st);
    st.st_dev = n.dev;  // major 0, a small minor: Linux's encoding is the number itself
    st.st_ino = n.ino;
    st.st_nlink = n.nlink;
    st.st_mode = n.mode;
    st.st_uid = n.uid;
    st.st_gid = n.gid;
    st.st_size = n.size;
    st.st_blksize = n.blksize;
    st.st_blocks = static_cast<long>(n.blocks);
    st.st_rdev = n.rdev;
    st.st_atime = static_cast<unsigned long>(n.atime);
    st.st_atime_nsec = n.atime_nsec;
    st.st_mtime = static_cast<unsigned long>(n.mtime);
    st.st_mtime_nsec = n.mtime_nsec;
    st.st_ctime = static_cast<unsigned long>(n.ctime);
    st.st_ctime_nsec = n.ctime_nsec;
}

void node_stat(const fs::Node& node, struct stat& st) {
    fs::NodeStat n;
    fs::stat_node(node, n);
    to_stat(n, st);
}

// The stat of what a *at() call names: dirfd itself for an empty path with AT_EMPTY_PATH (a
// null path too, as Linux 6.11 allows), else the lookup's file.
int stat_target(int dirfd, uint64_t upath, int flags, struct stat& st) {
    const bool empty_ok = (flags & AT_EMPTY_PATH) != 0;
    if (upath != 0 || !empty_ok) {
        UserPath path(upath);
        if (int e = path.error(empty_ok)) return e;
        if (!path.empty()) {
            fs::NodeStat n;
            fs::Lookup l = resolve(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0, n);
            if (l.error != 0) return l.error;
            to_stat(n, st);
            return 0;
        }
    }
    if (dirfd == AT_FDCWD) {
        fs::NodeStat n;
        if (int e = fs::stat(tree(), nullptr, ".", 1, true, n)) return e;
        to_stat(n, st);
        return 0;
    }
    FileRef file = FdTable::instance().get(dirfd);
    if (!file) return EBADF;
    fill_stat(*file, st);
    return 0;
}

int64_t stat_at(int dirfd, uint64_t upath, uint64_t buf, int flags) {
    if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH)) != 0) return -EINVAL;
    struct stat st;
    if (int e = stat_target(dirfd, upath, flags, st)) return -e;
    if (!writable(buf, sizeof st)) return -EFAULT;
    memcpy(ptr<void>(buf), &st, sizeof st);
    return 0;
}

int64_t open_at(int dirfd, uint64_t upath, int flags, uint32_t mode) {
    UserPath path(upath);
    if (int e = path.error()) return -e;
    PathBase base = base_for(dirfd, path);
    if (base.error != 0) return -base.error;
    kstd::Result<File*> file = fs::open(tree(), base.node, path.str(), path.len(), flags, mode);
    if (!file.ok()) return -file.error_code();
    kstd::Result<int> fd = FdTable::instance().install(FileRef(file.value()), (flags & O_CLOEXEC) != 0);
    return fd.ok() ? fd.value() : -fd.error_code();
}

int64_t access_at(int dirfd, uint64_t upath, int mode, int flags) {
    // do_faccessat(): the mode, then the flags, then the path.
    if ((mode & ~07) != 0) return -EINVAL;
    if ((flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH)) != 0) return -EINVAL;
    UserPath path(upath);
    if (int e = path.error((flags & AT_EMPTY_PATH) != 0)) return -e;
    if (path.empty()) {
        if (dirfd == AT_FDCWD) return fs::access(tree(), nullptr, ".", 1, mode, true);
        FileRef file = FdTable::instance().get(dirfd);
        if (!file) return -EBADF;
        fs::Node* node = fs::node_of(*file);
        return node != nullptr ? fs::access(tree(), *node, mode) : 0;  // root may do anything to the rest
    }
    PathBase base = base_for(dirfd, path);
    if (base.error != 0) return -base.error;
    return fs::access(tree(), base.node, path.str(), path.len(), mode, (flags & AT_SYMLINK_NOFOLLOW) == 0);
}

int64_t readlink_at(int dirfd, uint64_t upath, uint64_t buf, int64_t bufsiz) {
    if (static_cast<int>(bufsiz) <= 0) return -EINVAL;
    UserPath path(upath);
    if (int e = path.error()) return -e;
    PathBase base = base_for(dirfd, path);
    if (base.error != 0) return -base.error;
    char* target = new (std::nothrow) char[fs::kPathMax];
    if (target == nullptr) return -ENOMEM;
    size_t cap = static_cast<size_t>(static_cast<int>(bufsiz));
    long n = fs::readlink(tree(), base.node, path.str(), path.len(), target, cap < fs::kPathMax ? cap : fs::kPathMax);
    if (n > 0) {
        if (writable(buf, static_cast<uint64_t>(n))) {
            memcpy(ptr<void>(buf), target, static_cast<size_t>(n));
        } else {
            n = -EFAULT;
        }
    }
    delete[] target;
    return n;
}

}  // namespace

bool fill_node_stat(File& file, struct stat& st) {
    fs::Node* node = fs::inode_node_of(file);  // /dev/null is not the console
    if (node == nullptr) return false;
    node_stat(*node, st);
    return true;
}

int64_t sys_open(const Args& a) { return open_at(AT_FDCWD, a.a0, int(a.a1), uint32_t(a.a2)); }
int64_t sys_openat(const Args& a) { return open_at(int(a.a0), a.a1, int(a.a2), uint32_t(a.a3)); }
int64_t sys_creat(const Args& a) { return open_at(AT_FDCWD, a.a0, O_CREAT | O_WRONLY | O_TRUNC, uint32_t(a.a1)); }

int64_t sys_stat(const Args& a) { return stat_at(AT_FDCWD, a.a0, a.a1, 0); }
int64_t sys_lstat(const Args& a) { return stat_at(AT_FDCWD, a.a0, a.a1, AT_SYMLINK_NOFOLLOW); }
int64_t sys_newfstatat(const Args& a) { return stat_at(int(a.a0), a.a1, a.a2, int(a.a3)); }

int64_t sys_statx(const Args& a) {
    int dirfd = int(a.a0), flags = int(a.a2);
    unsigned mask = unsigned(a.a3);
    if ((flags & ~(AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE)) != 0) return -EINVAL;
    if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE) return -EINVAL;
    if ((mask & STATX__RESERVED) != 0) return -EINVAL;
    struct stat st;
    if (int e = stat_target(dirfd, a.a1, flags & ~AT_STATX_SYNC_TYPE, st)) return -e;
    struct statx x;
    memset(&x, 0, sizeof x);
    x.stx_mask = STATX_BASIC_STATS;
    x.stx_blksize = uint32_t(st.st_blksize);
    x.stx_nlink = uint32_t(st.st_nlink);
    x.stx_uid = st.st_uid;
    x.stx_gid = st.st_gid;
    x.stx_mode = uint16_t(st.st_mode);
    x.stx_ino = st.st_ino;
    x.stx_size = uint64_t(st.st_size);
    x.stx_blocks = uint64_t(st.st_blocks);
    x.stx_atime.tv_sec = int64_t(st.st_atime);
    x.stx_atime.tv_nsec = uint32_t(st.st_atime_nsec);
    x.stx_mtime.tv_sec = int64_t(st.st_mtime);
    x.stx_mtime.tv_nsec = uint32_t(st.st_mtime_nsec);
    x.stx_ctime.tv_sec = int64_t(st.st_ctime);
    x.stx_ctime.tv_nsec = uint32_t(st.st_ctime_nsec);
    // new_encode_dev()'s layout, taken apart again.
    x.stx_rdev_major = uint32_t((st.st_rdev >> 8) & 0xfff);
    x.stx_rdev_minor = uint32_t((st.st_rdev & 0xff) | ((st.st_rdev >> 12) & 0xfff00));
    x.stx_dev_major = uint32_t((st.st_dev >> 8) & 0xfff);
    x.stx_dev_minor = uint32_t((st.st_dev & 0xff) | ((st.st_dev >> 12) & 0xfff00));
    if (!writable(a.a4, sizeof x)) return -EFAULT;
    memcpy(ptr<void>(a.a4), &x, sizeof x);
    return 0;
}

int64_t sys_getdents64(const Args& a) {
    FileRef file = FdTable::instance().get(int(a.a0));
    if (!file || (file->flags() & O_PATH) != 0) return -EBADF;
    if (file->kind() != FileKind::directory) return -ENOTDIR;
    size_t count = uint32_t(a.a2);
    if (!writable(a.a1, count)) return -EFAULT;
    kstd::Result<size_t> r = static_cast<fs::DirectoryFile&>(*file).getdents64(ptr<void>(a.a1), count);
    return r.ok() ? int64_t(r.value()) : -r.error_code();
}

int64_t sys_access(const Args& a) { return access_at(AT_FDCWD, a.a0, int(a.a1), 0); }
int64_t sys_faccessat(const Args& a) { return access_at(int(a.a0), a.a1, int(a.a2), 0); }
int64_t sys_faccessat2(const Args& a) { return access_at(int(a.a0), a.a1, int(a.a2), int(a.a3)); }

int64_t sys_readlink(const Args& a) { return readlink_at(AT_FDCWD, a.a0, a.a1, int64_t(a.a2)); }
int64_t sys_readlinkat(const Args& a) { return readlink_at(int(a.a0), a.a1, a.a2, int64_t(a.a3)); }

int64_t sys_getcwd(const Args& a) {
    char* buf = new (std::nothrow) char[fs::kPathMax];
    if (buf == nullptr) return -ENOMEM;
    size_t size = a.a1 < fs::kPathMax ? size_t(a.a1) : fs::kPathMax;
    long n = fs::getcwd(tree(), buf, size);
    if (n > 0) {
        if (writable(a.a0, uint64_t(n))) {
            memcpy(ptr<void>(a.a0), buf, size_t(n));
        } else {
            n = -EFAULT;
        }
    }
    delete[] buf;
    return n;
}

int64_t sys_chdir(const Args& a) {
    UserPath path(a.a0);
    if (int e = path.error()) return -e;
    return -fs::chdir(tree(), nullptr, path.str(), path.len());
}

int64_t sys_fchdir(const Args& a) {
    FileRef file = FdTable::instance().get(int(a.a0));
    if (!file) return -EBADF;
    fs::Node* node = fs::node_of(*file);
    if (node == nullptr) return -ENOTDIR;
    return -fs::fchdir(tree(), node);
}

int64_t sys_umask(const Args& a) { return tree().set_umask(uint32_t(a.a0)); }

}  // namespace pollux::sys
