// The calls that add, remove and move names, and change attributes, with Linux's checks in
// Linux's order (fs/namei.c: filename_create(), do_mkdirat(), do_rmdir(), do_unlinkat(),
// do_renameat2(), do_symlinkat(), do_linkat(); vfs_* and shmem's operations), for root on
// the tmpfs rootfs. /proc takes no new names (its lookups of a missing name fail, ENOENT) and
// has no unlink, rmdir or rename (EPERM), as procfs answers.
#include <linux/errno.h>

#include <cstring>
#include <new>

#include "fs/vfs.h"
#include "kernel/spin_lock.h"

namespace pollux::fs {
namespace {

constexpr unsigned kRenameNoreplace = 1, kRenameExchange = 2, kRenameWhiteout = 4;

// Linux's last_type.
enum class Last { norm, dot, dotdot, root };

// filename_parentat(): the directory holding a path's last component, which is not looked up.
struct Parent {
    int error = 0;
    Node* dir = nullptr;
    const char* name = nullptr;
    size_t len = 0;
    Last type = Last::norm;
    bool trailing_slash = false;
};

Parent parent_of(RamFs& fs, Node* base, const char* path, size_t len) REQUIRES(fs.mutex()) {
    Parent p;
    size_t end = len;
    while (end > 0 && path[end - 1] == '/') --end;
    p.trailing_slash = end < len;
    if (end == 0) {
        // All slashes: the root itself.
        p.dir = fs.root();
        p.type = Last::root;
        return p;
    }
    size_t start = end;
    while (start > 0 && path[start - 1] != '/') --start;
    p.name = path + start;
    p.len = end - start;
    if (p.len == 1 && p.name[0] == '.') p.type = Last::dot;
    if (p.len == 2 && p.name[0] == '.' && p.name[1] == '.') p.type = Last::dotdot;
    if (p.len > kNameMax) {
        p.error = ENAMETOOLONG;
        return p;
    }
    if (start == 0) {
        p.dir = base != nullptr ? base : fs.cwd();
        if (!p.dir->is_dir()) p.error = ENOTDIR;
        return p;
    }
    Lookup l = fs.lookup(base, path, start, true);
    p.error = l.error;
    p.dir = l.node;
    return p;
}

bool in_proc(const Node* dir) { return dir->inode->dev == kProcDev; }
// A directory another file system is mounted on (/proc, /dev): its device is not its parent's.
bool mountpoint(const Node* node) { return node->linked() && node->inode->dev != node->parent->inode->dev; }
// Whether a is b or one of b's ancestors.
bool is_ancestor(const Node* a, const Node* b) {
    for (const Node* n = b; n != nullptr; n = n->parent) {
        if (n == a) return true;
        if (n->parent == n) break;
    }
    return false;
}

// filename_create()'s checks for a new non-directory name; 0 when it may be made.
int may_create(const Parent& p) {
    if (p.error != 0) return p.error;
    if (p.type != Last::norm) return EEXIST;
    if (p.dir->child(p.name, p.len) != nullptr) return EEXIST;
    if (p.trailing_slash) return ENOENT;  // "you had / on the end": asking for a directory
    if (in_proc(p.dir)) return ENOENT;
    return 0;
}

}  // namespace

int mkdir(RamFs& fs, Node* base, const char* path, size_t len, uint32_t mode) {
    LockGuard guard(fs.mutex());
    Parent p = parent_of(fs, base, path, len);
    if (p.error != 0) return p.error;
    if (p.type != Last::norm || p.dir->child(p.name, p.len) != nullptr) return EEXIST;
    if (in_proc(p.dir)) return ENOENT;
    // vfs_mkdir(): the permission bits and the sticky bit, less the umask.
    uint32_t perm = mode & 01777 & ~fs.umask();
    kstd::Result<Node*> made = fs.create(p.dir, p.name, p.len, kS_IFDIR | perm);
    return made.ok() ? 0 : made.error_code();
}

int mknod_socket(RamFs& fs, const char* path, size_t len, bool create, uint64_t* ino) {
    LockGuard guard(fs.mutex());
    Parent p = parent_of(fs, nullptr, path, len);
    int error = may_create(p);
    if (error == EEXIST) return EADDRINUSE;
    if (error != 0 || !create) return error;
    kstd::Result<Node*> made = fs.create(p.dir, p.name, p.len, kS_IFSOCK | (0777 & ~fs.umask()));
    if (!made.ok()) return made.error_code();
    *ino = made.value()->inode->ino;
    return 0;
}

int find_socket(RamFs& fs, const char* path, size_t len, uint64_t* ino) {
    LockGuard guard(fs.mutex());
    Lookup l = fs.lookup(nullptr, path, len, true);
    if (l.error != 0) return l.error;
    if (!l.node->is_socket()) return ECONNREFUSED;
    *ino = l.node->inode->ino;
    return 0;
}

int unlink(RamFs& fs, Node* base, const char* path, size_t len, bool dir) {
    LockGuard guard(fs.mutex());
    Parent p = parent_of(fs, base, path, len);
    if (p.error != 0) return p.error;
    if (dir) {
        if (p.type == Last::dotdot) return ENOTEMPTY;
        if (p.type == Last::dot) return EINVAL;
        if (p.type == Last::root) return EBUSY;
    } else if (p.type != Last::norm) {
        return EISDIR;
    }
    Node* node = p.dir->child(p.name, p.len);
    if (node == nullptr) return ENOENT;
    if (dir) {
        if (!node->is_dir()) return ENOTDIR;
        if (in_proc(p.dir)) return EPERM;
        if (mountpoint(node)) return EBUSY;
        if (node->first_name() != nullptr) return ENOTEMPTY;
    } else {
        if (p.trailing_slash) return node->is_dir() ? EISDIR : ENOTDIR;
        if (node->is_dir()) return EISDIR;
        if (in_proc(p.dir)) return EPERM;
    }
    fs.unlink(node);
    return 0;
}

int rename(RamFs& fs, Node* old_base, const char* old_path, size_t old_len, Node* new_base, const char* new_path,
           size_t new_len, unsigned flags) {
    if ((flags & ~(kRenameNoreplace | kRenameExchange | kRenameWhiteout)) != 0) return EINVAL;
    if ((flags & kRenameNoreplace) != 0 && (flags & kRenameExchange) != 0) return EINVAL;
    // Whiteouts are for overlayfs, which has nothing to overlay here.
    if ((flags & kRenameWhiteout) != 0) return EINVAL;
    const bool exchange = (flags & kRenameExchange) != 0;
    LockGuard guard(fs.mutex());
    Parent o = parent_of(fs, old_base, old_path, old_len);
    if (o.error != 0) return o.error;
    Parent n = parent_of(fs, new_base, new_path, new_len);
    if (n.error != 0) return n.error;
    if (o.dir->inode->dev != n.dir->inode->dev) return EXDEV;
    if (o.type != Last::norm) return EBUSY;
    if (n.type != Last::norm) return (flags & kRenameNoreplace) != 0 ? EEXIST : EBUSY;
    Node* old = o.dir->child(o.name, o.len);
    if (old == nullptr) return ENOENT;
    Node* target = n.dir->child(n.name, n.len);
    if ((flags & kRenameNoreplace) != 0 && target != nullptr) return EEXIST;
    if (exchange && target == nullptr) return ENOENT;
    if (exchange && !target->is_dir() && n.trailing_slash) return ENOTDIR;
    if (!old->is_dir() && (o.trailing_slash || (!exchange && n.trailing_slash))) return ENOTDIR;
    // lock_rename()'s trap: a directory moved under itself, or a target above the source.
    if (is_ancestor(old, n.dir)) return EINVAL;
    if (target != nullptr && is_ancestor(target, o.dir)) return exchange ? EINVAL : ENOTEMPTY;
    // vfs_rename()
    if (target != nullptr && old->inode == target->inode) return 0;
    if (target == nullptr && !n.dir->linked()) return ENOENT;  // may_create(): a removed directory
    if (target != nullptr && !exchange) {
        if (old->is_dir() && !target->is_dir()) return ENOTDIR;
        if (!old->is_dir() && target->is_dir()) return EISDIR;
    }
    if (in_proc(o.dir)) return target == nullptr ? ENOENT : EPERM;
    if (mountpoint(old) || (target != nullptr && mountpoint(target))) return EBUSY;
    if (exchange) {
        fs.exchange(old, target);
        return 0;
    }
    if (target != nullptr && target->is_dir() && target->first_name() != nullptr) return ENOTEMPTY;
    // Moved first (which may fail for memory), the replaced name removed after.
    kstd::Result<void> moved = fs.move(old, n.dir, n.name, n.len);
    if (!moved.ok()) return moved.error_code();
    if (target != nullptr) fs.unlink(target);
    return 0;
}

int symlink(RamFs& fs, const char* target, size_t target_len, Node* base, const char* path, size_t len) {
    if (target_len == 0) return ENOENT;
    if (target_len >= kPathMax) return ENAMETOOLONG;
    LockGuard guard(fs.mutex());
    Parent p = parent_of(fs, base, path, len);
    if (int e = may_create(p)) return e;
    auto* copy = new (std::nothrow) uint8_t[target_len];
    if (copy == nullptr) return ENOMEM;
    memcpy(copy, target, target_len);
    kstd::Result<Node*> made = fs.create(p.dir, p.name, p.len, kS_IFLNK | 0777);
    if (!made.ok()) {
        delete[] copy;
        return made.error_code();
    }
    made.value()->inode->set_contents(copy, target_len, copy, now_ns());
    return 0;
}

int link(RamFs& fs, Node* old_base, const char* old_path, size_t old_len, Node* new_base, const char* new_path,
         size_t new_len, bool follow, Node* old_node) {
    LockGuard guard(fs.mutex());
    Node* old = old_node;
    if (old == nullptr) {
        Lookup l = fs.lookup(old_base, old_path, old_len, follow);
        if (l.error != 0) return l.error;
        old = l.node;
    }
    Parent p = parent_of(fs, new_base, new_path, new_len);
    if (int e = may_create(p)) return e;
    if (old->inode->dev != p.dir->inode->dev) return EXDEV;
    // vfs_link()
    if (old->is_dir()) return EPERM;
    if (old->inode->links == 0 && !old->inode->linkable) return ENOENT;
    kstd::Result<Node*> made = fs.link(p.dir, p.name, p.len, old);
    return made.ok() ? 0 : made.error_code();
}

namespace {
// The node a path names, pinned for a call that takes the tree's mutex itself.
template <typename Call>
int with_node(RamFs& fs, Node* base, const char* path, size_t len, bool follow, Call call) {
    Node* node = nullptr;
    {
        LockGuard guard(fs.mutex());
        Lookup l = fs.lookup(base, path, len, follow);
        if (l.error != 0) return l.error;
        node = l.node;
        fs.pin(node);
    }
    int e = call(node);
    LockGuard guard(fs.mutex());
    fs.unpin(node);
    return e;
}
}  // namespace

int chmod(RamFs& fs, Node* base, const char* path, size_t len, uint32_t mode) {
    return with_node(fs, base, path, len, true, [&](Node* node) { return chmod(fs, node, mode); });
}

int utimens(RamFs& fs, Node* base, const char* path, size_t len, bool follow, int64_t atime_ns, int64_t mtime_ns) {
    return with_node(fs, base, path, len, follow, [&](Node* node) { return utimens(fs, node, atime_ns, mtime_ns); });
}

int chmod(RamFs& fs, Node* node, uint32_t mode) {
    LockGuard guard(fs.mutex());
    node->inode->mode = (node->inode->mode & kS_IFMT) | (mode & kPermMask);
    node->inode->touch_ctime();
    return 0;
}

int chown(RamFs& fs, Node* base, const char* path, size_t len, bool follow, uint32_t uid, uint32_t gid) {
    return with_node(fs, base, path, len, follow, [&](Node* node) { return chown(fs, node, uid, gid); });
}

int chown(RamFs& fs, Node* node, uint32_t uid, uint32_t gid) {
    constexpr uint32_t kUnchanged = 0xffffffff, kSuid = 04000, kSgid = 02000, kGroupExec = 010;
    LockGuard guard(fs.mutex());
    if (node->inode->dev == kProcDev) return EPERM;
    Inode& inode = *node->inode;
    if (uid != kUnchanged) inode.uid = uid;
    if (gid != kUnchanged) inode.gid = gid;
    if (!inode.is_dir()) {
        inode.mode &= ~kSuid;
        if ((inode.mode & kGroupExec) != 0) inode.mode &= ~kSgid;
    }
    inode.touch_ctime();
    return 0;
}

int truncate(RamFs& fs, Node* base, const char* path, size_t len, int64_t length) {
    if (length < 0) return EINVAL;
    LockGuard guard(fs.mutex());
    Lookup l = fs.lookup(base, path, len, true);
    if (l.error != 0) return l.error;
    if (l.node->is_dir()) return EISDIR;
    if (l.node->is_generated()) return EACCES;
    if (!l.node->is_regular()) return EINVAL;
    l.node->inode->truncate(static_cast<uint64_t>(length), fs.budget());
    return 0;
}

int truncate(RamFs& fs, Node* node, int64_t length) {
    if (length < 0) return EINVAL;
    if (!node->is_regular() || node->is_generated()) return EINVAL;
    node->inode->truncate(static_cast<uint64_t>(length), fs.budget());
    return 0;
}

int extend(RamFs&, Node* node, int64_t length) {
    if (length < 0) return EFBIG;
    node->inode->extend(static_cast<uint64_t>(length));
    return 0;
}

int utimens(RamFs&, Node* node, int64_t atime_ns, int64_t mtime_ns) {
    Inode& inode = *node->inode;
    LockGuard guard(inode.lock);
    int64_t now = now_ns();
    if (atime_ns != kUtimeOmit) inode.atime_ns = atime_ns == kUtimeNow ? now : atime_ns;
    if (mtime_ns != kUtimeOmit) inode.mtime_ns = mtime_ns == kUtimeNow ? now : mtime_ns;
    inode.ctime_ns = now;
    return 0;
}

}  // namespace pollux::fs
