// The file tree's system calls, over fs/vfs.h and the tree fs/root_fs.h built at boot: open,
// the stat family, getdents64, access, readlink, getcwd and chdir, and the calls that would
// change a read-only mount (EROFS, where Linux gives it). One process: the working directory
// is one node, "/" until chdir.
//
// Paths are copied in first, as Linux's getname(): EFAULT when not readable, ENAMETOOLONG
// without a NUL in PATH_MAX bytes, ENOENT when empty (unless AT_EMPTY_PATH). They go to the
// heap: a kernel stack is 16 KiB. Results are copied out only once they exist, after a check
// that the application's buffer is mapped writable (EFAULT otherwise), as in sys_files.cc.
#include "syscall/sys_fs.h"

#include <asm/stat.h>
#include <linux/errno.h>
#include <linux/fcntl.h>
#include <linux/stat.h>

#include <atomic>
#include <cstring>
#include <new>

#include "eventpoll/fd_table.h"
#include "fs/root_fs.h"
#include "fs/vfs.h"
#include "syscall/syscall.h"
#include "user/address_space.h"
#include "user/user_access.h"

namespace pollux::sys {

using user::ptr;
using user::readable;
using user::writable;
namespace {

constexpr uint64_t kPage = 4096;

class UserPath {
public:
    explicit UserPath(uint64_t addr) {
        buf_ = new (std::nothrow) char[fs::kPathMax];
        if (buf_ == nullptr) {
            error_ = ENOMEM;
            return;
        }
        error_ = ENAMETOOLONG;
        for (size_t i = 0; i < fs::kPathMax;) {
            uint64_t at = addr + i;
            size_t chunk = kPage - at % kPage;
            if (chunk > fs::kPathMax - i) chunk = fs::kPathMax - i;
            if (at < addr || !readable(at, chunk)) {
                error_ = EFAULT;
                return;
            }
            const char* src = ptr<const char>(at);
            for (size_t k = 0; k < chunk; ++k) {
                buf_[i + k] = src[k];
                if (src[k] == '\0') {
                    len_ = i + k;
                    error_ = 0;
                    return;
                }
            }
            i += chunk;
        }
    }
    ~UserPath() { delete[] buf_; }
    UserPath(const UserPath&) = delete;
    UserPath& operator=(const UserPath&) = delete;

    // 0, or the errno that ends the call; an empty path is ENOENT unless the call takes one.
    int error(bool empty_ok = false) const { return error_ != 0 ? error_ : len_ == 0 && !empty_ok ? ENOENT : 0; }
    const char* str() const { return buf_; }
    size_t len() const { return len_; }
    bool empty() const { return len_ == 0; }
    bool absolute() const { return len_ > 0 && buf_[0] == '/'; }

private:
    char* buf_ = nullptr;
    size_t len_ = 0;
    int error_ = 0;
};

std::atomic<fs::Node*> cwd{nullptr};

fs::RamFs& tree() { return fs::root_fs(); }
fs::Node* current_dir() {
    fs::Node* dir = cwd.load(std::memory_order_acquire);
    return dir != nullptr ? dir : tree().root();
}

// The directory a path starts from: the root for an absolute path (dirfd is not even looked
// at, as on Linux), the working directory for AT_FDCWD, else dirfd's directory.
int base_for(int dirfd, const UserPath& path, fs::Node** base) {
    if (path.absolute()) {
        *base = tree().root();
        return 0;
    }
    if (dirfd == AT_FDCWD) {
        *base = current_dir();
        return 0;
    }
    FileRef file = FdTable::instance().get(dirfd);
    if (!file) return EBADF;
    fs::Node* node = fs::node_of(*file);
    if (node == nullptr || !node->is_dir()) return ENOTDIR;
    *base = node;
    return 0;
}

fs::Lookup resolve(int dirfd, const UserPath& path, bool follow) {
    fs::Lookup l;
    fs::Node* base = nullptr;
    l.error = base_for(dirfd, path, &base);
    if (l.error != 0) return l;
    return tree().lookup(base, path.str(), path.len(), follow);
}

void node_stat(const fs::Node& node, struct stat& st) {
    fs::NodeStat n;
    fs::stat_node(node, n);
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
    // The archive keeps one time: it is every time.
    st.st_atime = st.st_mtime = st.st_ctime = static_cast<unsigned long>(n.mtime);
}

// The stat of what a *at() call names: dirfd itself for an empty path with AT_EMPTY_PATH (a
// null path too, as Linux 6.11 allows), else the lookup's file.
int stat_target(int dirfd, uint64_t upath, int flags, struct stat& st) {
    const bool empty_ok = (flags & AT_EMPTY_PATH) != 0;
    if (upath != 0 || !empty_ok) {
        UserPath path(upath);
        if (int e = path.error(empty_ok)) return e;
        if (!path.empty()) {
            fs::Lookup l = resolve(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0);
            if (l.error != 0) return l.error;
            node_stat(*l.node, st);
            return 0;
        }
    }
    if (dirfd == AT_FDCWD) {
        node_stat(*current_dir(), st);
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

int64_t open_at(int dirfd, uint64_t upath, int flags) {
    UserPath path(upath);
    if (int e = path.error()) return -e;
    fs::Node* base = nullptr;
    if (int e = base_for(dirfd, path, &base)) return -e;
    kstd::Result<File*> file = fs::open(tree(), base, path.str(), path.len(), flags);
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
        if (dirfd == AT_FDCWD) return fs::access(*current_dir(), mode);
        FileRef file = FdTable::instance().get(dirfd);
        if (!file) return -EBADF;
        fs::Node* node = fs::node_of(*file);
        return node != nullptr ? fs::access(*node, mode) : 0;  // root may do anything to the rest
    }
    fs::Lookup l = resolve(dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) == 0);
    if (l.error != 0) return -l.error;
    return fs::access(*l.node, mode);
}

int64_t readlink_at(int dirfd, uint64_t upath, uint64_t buf, int64_t bufsiz) {
    if (static_cast<int>(bufsiz) <= 0) return -EINVAL;
    UserPath path(upath);
    if (int e = path.error()) return -e;
    fs::Node* base = nullptr;
    if (int e = base_for(dirfd, path, &base)) return -e;
    char* target = new (std::nothrow) char[fs::kPathMax];
    if (target == nullptr) return -ENOMEM;
    size_t cap = static_cast<size_t>(static_cast<int>(bufsiz));
    long n = fs::readlink(tree(), base, path.str(), path.len(), target, cap < fs::kPathMax ? cap : fs::kPathMax);
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

// The parent directory of a path's last component, for the calls that would add or remove a
// name (Linux's filename_parentat()). *last_len is 0 when the path ends in the root, "." or
// "..": what Linux calls a last component that is not LAST_NORM.
int parent_of(int dirfd, const UserPath& path, fs::Node** parent, const char** last, size_t* last_len) {
    size_t end = path.len();
    while (end > 0 && path.str()[end - 1] == '/') --end;
    size_t start = end;
    while (start > 0 && path.str()[start - 1] != '/') --start;
    *last = path.str() + start;
    *last_len = end - start;
    if ((*last_len == 1 && (*last)[0] == '.') || (*last_len == 2 && (*last)[0] == '.' && (*last)[1] == '.'))
        *last_len = 0;
    if (*last_len > fs::kNameMax) return ENAMETOOLONG;
    fs::Node* base = nullptr;
    if (int e = base_for(dirfd, path, &base)) return e;
    if (start == 0) {
        *parent = path.absolute() ? tree().root() : base;
        return 0;
    }
    fs::Lookup l = tree().lookup(base, path.str(), start, true);
    if (l.error != 0) return l.error;
    *parent = l.node;
    return 0;
}

// mkdir, unlink, rmdir and rename on a read-only mount: once the parent resolves, EROFS, except
// that mkdir of an existing name is EEXIST (filename_create() looks before it asks for write
// access; do_unlinkat() asks first). A path ending in . or .. gives dot_error.
int64_t change_at(int dirfd, uint64_t upath, bool creates, int64_t dot_error) {
    UserPath path(upath);
    if (int e = path.error()) return -e;
    fs::Node* parent = nullptr;
    const char* last = nullptr;
    size_t last_len = 0;
    if (int e = parent_of(dirfd, path, &parent, &last, &last_len)) return -e;
    if (last_len == 0) return dot_error;
    if (creates && parent->child(last, last_len) != nullptr) return -EEXIST;
    return -EROFS;
}

int64_t rename_at(int olddirfd, uint64_t oldpath, int newdirfd, uint64_t newpath, unsigned flags) {
    constexpr unsigned kRenameFlags = 1 | 2 | 4;  // RENAME_NOREPLACE, RENAME_EXCHANGE, RENAME_WHITEOUT
    if ((flags & ~kRenameFlags) != 0) return -EINVAL;
    UserPath from(oldpath), to(newpath);
    if (int e = from.error()) return -e;
    if (int e = to.error()) return -e;
    fs::Node* parent = nullptr;
    const char* last = nullptr;
    size_t last_len = 0;
    if (int e = parent_of(olddirfd, from, &parent, &last, &last_len)) return -e;
    if (last_len == 0) return -EBUSY;
    if (int e = parent_of(newdirfd, to, &parent, &last, &last_len)) return -e;
    if (last_len == 0) return -EBUSY;
    return -EROFS;
}

}  // namespace

bool fill_node_stat(File& file, struct stat& st) {
    fs::Node* node = fs::node_of(file);
    if (node == nullptr) return false;
    node_stat(*node, st);
    return true;
}

int64_t sys_open(const Args& a) { return open_at(AT_FDCWD, a.a0, int(a.a1)); }
int64_t sys_openat(const Args& a) { return open_at(int(a.a0), a.a1, int(a.a2)); }
int64_t sys_creat(const Args& a) { return open_at(AT_FDCWD, a.a0, O_CREAT | O_WRONLY | O_TRUNC); }

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
    x.stx_mtime.tv_sec = int64_t(st.st_mtime);
    x.stx_ctime.tv_sec = int64_t(st.st_ctime);
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
    long n = fs::path_of(tree(), current_dir(), buf, size);
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
    fs::Lookup l = resolve(AT_FDCWD, path, true);
    if (l.error != 0) return -l.error;
    if (!l.node->is_dir()) return -ENOTDIR;
    cwd.store(l.node, std::memory_order_release);
    return 0;
}

int64_t sys_fchdir(const Args& a) {
    FileRef file = FdTable::instance().get(int(a.a0));
    if (!file) return -EBADF;
    fs::Node* node = fs::node_of(*file);
    if (node == nullptr || !node->is_dir()) return -ENOTDIR;
    cwd.store(node, std::memory_order_release);
    return 0;
}

int64_t sys_mkdir(const Args& a) { return change_at(AT_FDCWD, a.a0, true, -EEXIST); }
int64_t sys_mkdirat(const Args& a) { return change_at(int(a.a0), a.a1, true, -EEXIST); }
int64_t sys_unlink(const Args& a) { return change_at(AT_FDCWD, a.a0, false, -EISDIR); }
int64_t sys_rmdir(const Args& a) { return change_at(AT_FDCWD, a.a0, false, -EBUSY); }
int64_t sys_unlinkat(const Args& a) {
    int flags = int(a.a2);
    if ((flags & ~AT_REMOVEDIR) != 0) return -EINVAL;
    return change_at(int(a.a0), a.a1, false, (flags & AT_REMOVEDIR) != 0 ? -EBUSY : -EISDIR);
}
int64_t sys_rename(const Args& a) { return rename_at(AT_FDCWD, a.a0, AT_FDCWD, a.a1, 0); }
int64_t sys_renameat(const Args& a) { return rename_at(int(a.a0), a.a1, int(a.a2), a.a3, 0); }
int64_t sys_renameat2(const Args& a) { return rename_at(int(a.a0), a.a1, int(a.a2), a.a3, unsigned(a.a4)); }

}  // namespace pollux::sys
