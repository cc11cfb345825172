#include "fs/vfs.h"

#include <linux/errno.h>

#include <cstring>
#include <new>

#include "eventpoll/linux_abi.h"
#include "fs/devices.h"
#include "kernel/spin_lock.h"

namespace pollux::fs {
namespace {

constexpr uint32_t kBlockSize = 4096;
constexpr int kR_OK = 4, kW_OK = 2, kX_OK = 1;

// A generated file's text, rendered once for this open. The counters may move between the
// sizing call and the real one: some slack, and the text is whatever fit.
char* render_snapshot(const Inode& inode, uint64_t& size) {
    char probe[1];
    long want = inode.render(inode.render_key, probe, sizeof probe);
    if (want < 0) return nullptr;
    size_t cap = static_cast<size_t>(want) + 256;
    char* text = new (std::nothrow) char[cap];
    if (text == nullptr) return nullptr;
    long got = inode.render(inode.render_key, text, cap);
    size = got < 0 ? 0 : static_cast<uint64_t>(got) < cap ? static_cast<uint64_t>(got) : cap - 1;
    return text;
}

// do_dentry_open(): what F_GETFL reports afterwards (x86_64 forces O_LARGEFILE).
int file_flags(int flags) {
    return (flags & ~(abi::kO_CREAT | abi::kO_EXCL | abi::kO_NOCTTY | abi::kO_TRUNC | abi::kO_CLOEXEC)) |
           abi::kO_LARGEFILE;
}

// OPEN_FMODE(): O_RDONLY reads, O_WRONLY writes, O_RDWR both, and 3 (O_ACCMODE) neither.
uint8_t access_fmode(int acc) {
    return uint8_t((acc == abi::kO_RDONLY || acc == abi::kO_RDWR ? FMODE_READ : 0) |
                   (acc == abi::kO_WRONLY || acc == abi::kO_RDWR ? FMODE_WRITE : 0));
}

// What the tree's lock decided, the file made outside it (rendering /proc calls the netstack).
kstd::Result<File*> make_file(RamFs& fs, Node* node, uint8_t mode, int flags) EXCLUDES(fs.mutex()) {
    File* f = nullptr;
    if (node->is_dir()) {
        f = new (std::nothrow) DirectoryFile(fs, node, mode, flags);
    } else {
        char* snapshot = nullptr;
        uint64_t size = 0;
        if (node->is_generated() && (flags & abi::kO_PATH) == 0) snapshot = render_snapshot(*node->inode, size);
        if (node->is_generated() && (flags & abi::kO_PATH) == 0 && snapshot == nullptr) {
            f = nullptr;
        } else {
            f = new (std::nothrow) RegularFile(fs, node, mode, flags, snapshot, size);
            if (f == nullptr) delete[] snapshot;
        }
    }
    if (f == nullptr) {
        LockGuard guard(fs.mutex());
        fs.unpin(node);
        return kstd::err(ENOMEM);
    }
    return f;
}

}  // namespace

void stat_node(const Node& node, NodeStat& st) {
    Inode& inode = *node.inode;
    st = NodeStat{};
    st.dev = inode.dev;
    st.ino = inode.ino;
    st.nlink = node.nlink();
    st.mode = inode.mode;
    st.uid = inode.uid;
    st.gid = inode.gid;
    st.blksize = kBlockSize;
    st.rdev = inode.rdev;
    LockGuard guard(inode.lock);
    // A generated file is sized 0, as Linux's /proc files are: its length is known only once
    // rendered. A directory's size is 0 too (ramfs does not count its entries' bytes).
    st.size = inode.is_dir() || inode.is_generated() ? 0 : static_cast<int64_t>(inode.size);
    // In 512-byte units, whole pages of what is stored: the sparse end takes none (tmpfs).
    uint64_t stored = inode.is_regular() ? inode.len : static_cast<uint64_t>(st.size);
    st.blocks = (stored + kBlockSize - 1) / kBlockSize * (kBlockSize / 512);
    st.atime = inode.atime_ns / 1000000000;
    st.atime_nsec = static_cast<uint32_t>(inode.atime_ns % 1000000000);
    st.mtime = inode.mtime_ns / 1000000000;
    st.mtime_nsec = static_cast<uint32_t>(inode.mtime_ns % 1000000000);
    st.ctime = inode.ctime_ns / 1000000000;
    st.ctime_nsec = static_cast<uint32_t>(inode.ctime_ns % 1000000000);
}

int stat(RamFs& fs, Node* base, const char* path, size_t len, bool follow, NodeStat& st) {
    LockGuard guard(fs.mutex());
    Lookup l = fs.lookup(base, path, len, follow);
    if (l.error != 0) return l.error;
    stat_node(*l.node, st);
    return 0;
}

namespace {

// What open() decided under the tree's mutex: a pinned node and its file's mode and flags, or
// a device's file made already.
struct Opened {
    Node* node = nullptr;
    uint8_t fmode = 0;
    int flags = 0;
    File* device = nullptr;
};

int open_node(RamFs& fs, Node* base, const char* path, size_t len, int flags, uint32_t mode, Opened& out)
    REQUIRES(fs.mutex()) {
    // build_open_flags()
    const int acc = flags & abi::kO_ACCMODE;
    const bool tmpfile = (flags & abi::kO_TMPFILE) == abi::kO_TMPFILE;
    if (tmpfile && ((flags & abi::kO_CREAT) != 0 || (acc != abi::kO_WRONLY && acc != abi::kO_RDWR)))
        return EINVAL;
    if ((flags & abi::kO_CREAT) != 0 && (flags & abi::kO_DIRECTORY) != 0 && !tmpfile) return EINVAL;
    const bool o_path = (flags & abi::kO_PATH) != 0;
    if (o_path) flags &= abi::kO_PATH | abi::kO_DIRECTORY | abi::kO_NOFOLLOW;
    // O_TRUNC asks for write access too; O_ACCMODE (3) asks for both.
    const bool write = acc != abi::kO_RDONLY || (flags & abi::kO_TRUNC) != 0;
    const bool create = (flags & abi::kO_CREAT) != 0;
    const bool excl = create && (flags & abi::kO_EXCL) != 0;
    const bool follow = (flags & abi::kO_NOFOLLOW) == 0 && !excl;
    const uint32_t perm = mode & ~fs.umask() & kPermMask;

    if (tmpfile) {
        // An unnamed file in a directory, freed at its last close unless linkat() names it.
        Lookup l = fs.lookup(base, path, len, true);
        if (l.error != 0) return l.error;
        if (!l.node->is_dir()) return ENOTDIR;
        if (l.node->inode->dev == kProcDev) return EPERM;
        kstd::Result<Node*> made = fs.create_unnamed(kS_IFREG | perm, l.node->inode->dev);
        if (!made.ok()) return made.error_code();
        out = Opened{made.value(), uint8_t(access_fmode(acc) | FMODE_PREAD | FMODE_PWRITE), file_flags(flags), nullptr};
        return 0;
    }
    Lookup l = fs.lookup(base, path, len, follow);
    bool created = false;
    if (l.error == ENOENT && create && l.parent != nullptr) {
        if (l.trailing_slash) return EISDIR;
        // procfs's lookup of a missing name fails: nothing is made there.
        if (l.parent->inode->dev == kProcDev) return ENOENT;
        kstd::Result<Node*> made = fs.create(l.parent, l.name, l.name_len, kS_IFREG | perm);
        if (!made.ok()) return made.error_code();
        l.node = made.value();
        l.error = 0;
        created = true;
    }
    if (l.error != 0) return l.error;
    Node* node = l.node;
    // do_open()
    if (excl && !created) return EEXIST;
    if (create && node->is_dir()) return EISDIR;
    if ((flags & abi::kO_DIRECTORY) != 0 && !node->is_dir()) return ENOTDIR;
    // may_open(): a symlink reached here was not to be followed.
    if (node->is_symlink()) return ELOOP;
    if (o_path) {
        fs.pin(node);
        out = Opened{node, 0, flags, nullptr};
        return 0;
    }
    if (node->is_socket()) return ENXIO;  // a socket inode's bad_sock_fops
    if (node->is_chardev()) {
        // A device's writes are the device's business (may_open() applies EROFS to regular
        // files, directories and links only).
        if ((flags & abi::kO_DIRECT) != 0) return EINVAL;
        kstd::Result<File*> device = open_device(fs, node, access_fmode(acc) | FMODE_PWRITE, file_flags(flags));
        if (!device.ok()) return device.error_code();
        out.device = device.value();
        return 0;
    }
    if (node->is_dir() && write) return EISDIR;
    // /proc's files are 0444 and refuse writing as the hosted runtime does (EACCES).
    if (write && node->is_generated()) return EACCES;
    if ((flags & abi::kO_DIRECT) != 0) return EINVAL;  // ramfs has no direct I/O
    // handle_truncate(): Linux truncates even with O_RDONLY | O_TRUNC.
    if ((flags & abi::kO_TRUNC) != 0 && node->is_regular() && !created) node->inode->truncate(0, fs.budget());
    fs.pin(node);
    out = Opened{node, uint8_t(access_fmode(acc) | FMODE_PREAD | FMODE_PWRITE), file_flags(flags), nullptr};
    return 0;
}

}  // namespace

kstd::Result<File*> open(RamFs& fs, Node* base, const char* path, size_t len, int flags, uint32_t mode) {
    Opened opened;
    int error = 0;
    {
        LockGuard guard(fs.mutex());
        error = open_node(fs, base, path, len, flags, mode, opened);
    }
    if (error != 0) return kstd::err(error);
    if (opened.device != nullptr) return opened.device;
    // Outside the tree's mutex: rendering /proc's text calls into the netstack.
    return make_file(fs, opened.node, opened.fmode, opened.flags);
}

int access(RamFs& fs, Node* base, const char* path, size_t len, int mode, bool follow) {
    if ((mode & ~(kR_OK | kW_OK | kX_OK)) != 0) return -EINVAL;
    LockGuard guard(fs.mutex());
    Lookup l = fs.lookup(base, path, len, follow);
    if (l.error != 0) return -l.error;
    return access(fs, *l.node, mode);
}

int access(RamFs&, const Node& n, int mode) {
    if ((mode & ~(kR_OK | kW_OK | kX_OK)) != 0) return -EINVAL;
    if ((mode & kW_OK) != 0 && n.is_generated()) return -EACCES;
    // Root may execute a file with any x bit, and search any directory.
    if ((mode & kX_OK) != 0 && !n.is_dir() && (n.inode->mode & 0111) == 0) return -EACCES;
    return 0;
}

long readlink(RamFs& fs, Node* base, const char* path, size_t len, char* buf, size_t bufsiz) {
    LockGuard guard(fs.mutex());
    Lookup l = fs.lookup(base, path, len, false);
    if (l.error != 0) return -l.error;
    if (!l.node->is_symlink()) return -EINVAL;
    uint64_t size = l.node->inode->target_len();
    size_t n = size < bufsiz ? static_cast<size_t>(size) : bufsiz;
    memcpy(buf, l.node->inode->target(), n);
    return static_cast<long>(n);
}

long path_of(const RamFs& fs, const Node* dir, char* buf, size_t size) {
    const Node* root = fs.root();
    size_t len = 1;  // the NUL
    for (const Node* n = dir; n != root; n = n->parent) len += 1 + n->name_len;
    if (dir == root) len = 2;
    if (len > size) return -ERANGE;
    size_t at = len - 1;
    buf[at] = '\0';
    for (const Node* n = dir; n != root; n = n->parent) {
        at -= n->name_len;
        memcpy(buf + at, n->name, n->name_len);
        buf[--at] = '/';
    }
    if (dir == root) buf[0] = '/';
    return static_cast<long>(len);
}

long getcwd(RamFs& fs, char* buf, size_t size) {
    LockGuard guard(fs.mutex());
    const Node* dir = fs.cwd();
    // A removed working directory (or one of its ancestors): getcwd(2)'s ENOENT.
    for (const Node* n = dir; n != fs.root(); n = n->parent)
        if (!n->linked()) return -ENOENT;
    return path_of(fs, dir, buf, size);
}

int chdir(RamFs& fs, Node* base, const char* path, size_t len) {
    LockGuard guard(fs.mutex());
    Lookup l = fs.lookup(base, path, len, true);
    if (l.error != 0) return l.error;
    if (!l.node->is_dir()) return ENOTDIR;
    fs.set_cwd(l.node);
    return 0;
}

int fchdir(RamFs& fs, Node* dir) {
    if (!dir->is_dir()) return ENOTDIR;
    LockGuard guard(fs.mutex());
    fs.set_cwd(dir);
    return 0;
}

bool mount_proc(RamFs& fs, Renderer render, const char* exe) {
    Node* root = fs.root();
    Node* old = nullptr;
    {
        LockGuard guard(fs.mutex());
        old = root->child("proc", 4);
    }
    if (old != nullptr) fs.detach(old);
    Node* proc = fs.make_dir(root, "proc", 0555, kProcDev);
    if (proc == nullptr) return false;
    Node* pid = fs.make_dir(proc, "1", 0555, kProcDev);
    Node* net = pid != nullptr ? fs.make_dir(pid, "net", 0555, kProcDev) : nullptr;
    bool ok = net != nullptr && fs.make_symlink(proc, "self", "1", kProcDev) != nullptr &&
              fs.make_symlink(proc, "net", "self/net", kProcDev) != nullptr &&
              fs.make_generated(net, "snmp", render, "/proc/net/snmp", kProcDev) != nullptr &&
              fs.make_generated(net, "dev", render, "/proc/net/dev", kProcDev) != nullptr;
    if (ok && exe != nullptr && exe[0] != '\0') ok = fs.make_symlink(pid, "exe", exe, kProcDev) != nullptr;
    return ok;
}

bool mount_tmp(RamFs& fs) {
    {
        LockGuard guard(fs.mutex());
        if (fs.root()->child("tmp", 3) != nullptr) return true;  // the archive's own, whatever it is
    }
    return fs.make_dir(fs.root(), "tmp", 01777, RamFs::kRootDev) != nullptr;
}

}  // namespace pollux::fs
