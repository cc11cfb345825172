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
// include/uapi/linux/fs.h: linux_dirent64's d_type
constexpr uint8_t kDT_DIR = 4, kDT_REG = 8, kDT_LNK = 10;
constexpr int kR_OK = 4, kW_OK = 2, kX_OK = 1;

constexpr uint8_t kDT_CHR = 2;
uint8_t dirent_type(const Node& n) {
    return n.is_dir() ? kDT_DIR : n.is_symlink() ? kDT_LNK : n.is_chardev() ? kDT_CHR : kDT_REG;
}

}  // namespace

void stat_node(const Node& node, NodeStat& st) {
    st = NodeStat{};
    st.dev = node.dev;
    st.ino = node.ino;
    st.nlink = node.nlink();
    st.mode = node.mode;
    st.uid = node.uid;
    st.gid = node.gid;
    // A generated file is sized 0, as Linux's /proc files are: its length is known only once
    // rendered. A directory's size is 0 too (ramfs does not count its entries' bytes).
    st.size = node.is_dir() || node.is_generated() ? 0 : static_cast<int64_t>(node.size);
    // In 512-byte units, whole pages: what Linux's ramfs (the initramfs) reports.
    st.blocks = (static_cast<uint64_t>(st.size) + kBlockSize - 1) / kBlockSize * (kBlockSize / 512);
    st.blksize = kBlockSize;
    st.mtime = node.mtime;
    st.rdev = node.rdev;
}

PollMask NodeFile::poll(PollTable*) {
    // DEFAULT_POLLMASK: a file without a poll operation is always ready both ways.
    return abi::kEPOLLIN | abi::kEPOLLOUT | abi::kEPOLLRDNORM | abi::kEPOLLWRNORM;
}

RegularFile::RegularFile(Node* node, uint8_t mode, int flags, const uint8_t* data, uint64_t size, char* owned)
    : NodeFile(FileKind::regular, mode, flags, node), data_(data), size_(size), owned_(owned) {}

void RegularFile::release() {
    delete[] owned_;
    owned_ = nullptr;
}

kstd::Result<size_t> RegularFile::copy_from(IoIter& to, int64_t pos) {
    if (static_cast<uint64_t>(pos) >= size_) return size_t{0};
    uint64_t avail = size_ - static_cast<uint64_t>(pos);
    size_t n = to.copy_out(data_ + pos, avail < to.remaining() ? static_cast<size_t>(avail) : to.remaining());
    if (n == 0 && to.faulted()) return kstd::err(EFAULT);
    return n;
}

kstd::Result<size_t> RegularFile::read(IoIter& to, bool) {
    LockGuard guard(pos_lock_);
    kstd::Result<size_t> r = copy_from(to, pos_);
    if (r.ok()) pos_ += static_cast<int64_t>(r.value());
    return r;
}

kstd::Result<size_t> RegularFile::read_at(IoIter& to, int64_t pos) { return copy_from(to, pos); }

// generic_file_llseek_size() with Linux's MAX_LFS_FILESIZE, or seq_lseek() for /proc.
kstd::Result<int64_t> RegularFile::llseek(int64_t offset, int whence) {
    LockGuard guard(pos_lock_);
    const bool seq = node_->is_generated();
    const int64_t eof = static_cast<int64_t>(size_);
    int64_t base = 0;
    switch (whence) {
    case abi::kSEEK_SET:
        break;
    case abi::kSEEK_CUR:
        base = pos_;
        break;
    case abi::kSEEK_END:
        if (seq) return kstd::err(EINVAL);
        base = eof;
        break;
    case abi::kSEEK_DATA:
    case abi::kSEEK_HOLE:
        // One extent of data, then the implicit hole at the end of file.
        if (seq) return kstd::err(EINVAL);
        if (offset < 0 || offset >= eof) return kstd::err(ENXIO);
        pos_ = whence == abi::kSEEK_DATA ? offset : eof;
        return pos_;
    default:
        return kstd::err(EINVAL);
    }
    int64_t to;
    if (__builtin_add_overflow(base, offset, &to) || to < 0) return kstd::err(EINVAL);
    pos_ = to;
    return to;
}

kstd::Result<size_t> DirectoryFile::read(IoIter&, bool) { return kstd::err(EISDIR); }
kstd::Result<size_t> DirectoryFile::read_at(IoIter&, int64_t) { return kstd::err(EISDIR); }

// dcache_dir_lseek(): SEEK_SET and SEEK_CUR to any non-negative entry number.
kstd::Result<int64_t> DirectoryFile::llseek(int64_t offset, int whence) {
    LockGuard guard(pos_lock_);
    int64_t to = offset;
    if (whence == abi::kSEEK_CUR) {
        if (__builtin_add_overflow(pos_, offset, &to)) return kstd::err(EINVAL);
    } else if (whence != abi::kSEEK_SET) {
        return kstd::err(EINVAL);
    }
    if (to < 0) return kstd::err(EINVAL);
    pos_ = to;
    return to;
}

kstd::Result<size_t> DirectoryFile::getdents64(void* buf, size_t cap) {
    LockGuard guard(pos_lock_);
    char* out = static_cast<char*>(buf);
    size_t used = 0;
    int64_t pos = pos_;
    bool full = false;
    // struct linux_dirent64 { u64 d_ino; s64 d_off; u16 d_reclen; u8 d_type; char d_name[]; },
    // each record padded to 8 bytes; d_off is the position after the entry.
    auto emit = [&](uint64_t ino, const char* name, size_t len, uint8_t type) {
        size_t reclen = (19 + len + 1 + 7) & ~size_t{7};
        if (reclen > cap - used) {
            full = true;
            return false;
        }
        char* rec = out + used;
        int64_t next = pos + 1;
        auto reclen16 = static_cast<uint16_t>(reclen);
        memcpy(rec, &ino, 8);
        memcpy(rec + 8, &next, 8);
        memcpy(rec + 16, &reclen16, 2);
        rec[18] = static_cast<char>(type);
        memcpy(rec + 19, name, len);
        memset(rec + 19 + len, 0, reclen - 19 - len);
        used += reclen;
        pos = next;
        return true;
    };
    bool more = true;
    if (pos == 0) more = emit(node_->ino, ".", 1, kDT_DIR);
    if (more && pos == 1) more = emit(node_->parent->ino, "..", 2, kDT_DIR);
    if (more) {
        Node* child = node_->first_child;
        for (int64_t i = 2; child != nullptr && i < pos; ++i) child = child->next_sibling;
        for (; child != nullptr; child = child->next_sibling)
            if (!emit(child->ino, child->name, child->name_len, dirent_type(*child))) break;
    }
    pos_ = pos;
    if (used == 0 && full) return kstd::err(EINVAL);
    return used;
}

Node* node_of(File& file) {
    if (file.kind() != FileKind::regular && file.kind() != FileKind::directory) return nullptr;
    return static_cast<NodeFile&>(file).node();
}

namespace {

// A generated file's text, rendered once for this open. The counters may move between the
// sizing call and the real one: some slack, and the text is whatever fit.
char* render_snapshot(const Node& node, uint64_t& size) {
    char probe[1];
    long want = node.render(node.render_key, probe, sizeof probe);
    if (want < 0) return nullptr;
    size_t cap = static_cast<size_t>(want) + 256;
    char* text = new (std::nothrow) char[cap];
    if (text == nullptr) return nullptr;
    long got = node.render(node.render_key, text, cap);
    size = got < 0 ? 0 : static_cast<uint64_t>(got) < cap ? static_cast<uint64_t>(got) : cap - 1;
    return text;
}

}  // namespace

kstd::Result<File*> open(const RamFs& fs, Node* base, const char* path, size_t len, int flags) {
    // build_open_flags()
    if ((flags & abi::kO_TMPFILE) == abi::kO_TMPFILE) {
        // An unnamed file in a directory: creation on a read-only mount.
        if ((flags & abi::kO_ACCMODE) == abi::kO_RDONLY) return kstd::err(EINVAL);
        Lookup l = fs.lookup(base, path, len, true);
        if (l.error != 0) return kstd::err(l.error);
        if (!l.node->is_dir()) return kstd::err(ENOTDIR);
        return kstd::err(EROFS);
    }
    if ((flags & abi::kO_CREAT) != 0 && (flags & abi::kO_DIRECTORY) != 0) return kstd::err(EINVAL);
    const bool o_path = (flags & abi::kO_PATH) != 0;
    if (o_path) flags &= abi::kO_PATH | abi::kO_DIRECTORY | abi::kO_NOFOLLOW;
    const int acc = flags & abi::kO_ACCMODE;
    // O_TRUNC asks for write access too; O_ACCMODE (3) asks for both.
    const bool write = acc != abi::kO_RDONLY || (flags & abi::kO_TRUNC) != 0;
    const bool create = (flags & abi::kO_CREAT) != 0;
    const bool excl = create && (flags & abi::kO_EXCL) != 0;
    const bool follow = (flags & abi::kO_NOFOLLOW) == 0 && !excl;

    Lookup l = fs.lookup(base, path, len, follow);
    if (l.error == ENOENT && create && l.parent != nullptr) return kstd::err(l.trailing_slash ? EISDIR : EROFS);
    if (l.error != 0) return kstd::err(l.error);
    Node* node = l.node;
    // do_open()
    if (excl) return kstd::err(EEXIST);
    if (create && node->is_dir()) return kstd::err(EISDIR);
    if ((flags & abi::kO_DIRECTORY) != 0 && !node->is_dir()) return kstd::err(ENOTDIR);
    // may_open(): a symlink reached here was not to be followed.
    if (node->is_symlink()) return kstd::err(ELOOP);
    if (o_path) {
        File* f = node->is_dir() ? static_cast<File*>(new (std::nothrow) DirectoryFile(node, 0, flags))
                                 : new (std::nothrow) RegularFile(node, 0, flags, nullptr, 0, nullptr);
        if (f == nullptr) return kstd::err(ENOMEM);
        return f;
    }
    if (node->is_chardev()) {
        // A device's writes are the device's business, read-only mount or not (may_open()
        // applies EROFS to regular files, directories and links only).
        if ((flags & abi::kO_DIRECT) != 0) return kstd::err(EINVAL);
        uint8_t dmode = uint8_t((acc != abi::kO_WRONLY ? FMODE_READ : 0) | (acc != abi::kO_RDONLY ? FMODE_WRITE : 0));
        int dflags = (flags & ~(abi::kO_CREAT | abi::kO_EXCL | abi::kO_NOCTTY | abi::kO_TRUNC | abi::kO_CLOEXEC)) |
                     abi::kO_LARGEFILE;
        return open_device(node, dmode, dflags);
    }
    if (node->is_dir() && write) return kstd::err(EISDIR);
    // inode_permission(): on a read-only mount a write is EROFS. /proc's files are 0444 and
    // refuse it as the hosted runtime does (EACCES).
    if (write) return kstd::err(node->is_generated() ? EACCES : EROFS);
    if ((flags & abi::kO_DIRECT) != 0) return kstd::err(EINVAL);  // ramfs has no direct I/O

    // do_dentry_open(): what F_GETFL reports afterwards (x86_64 forces O_LARGEFILE).
    int f_flags = (flags & ~(abi::kO_CREAT | abi::kO_EXCL | abi::kO_NOCTTY | abi::kO_TRUNC | abi::kO_CLOEXEC)) |
                  abi::kO_LARGEFILE;
    uint8_t mode = FMODE_READ | FMODE_PREAD;
    if (node->is_dir()) {
        File* f = new (std::nothrow) DirectoryFile(node, mode, f_flags);
        if (f == nullptr) return kstd::err(ENOMEM);
        return f;
    }
    const uint8_t* data = node->data;
    uint64_t size = node->size;
    char* owned = nullptr;
    if (node->is_generated()) {
        owned = render_snapshot(*node, size);
        if (owned == nullptr) return kstd::err(ENOMEM);
        data = reinterpret_cast<const uint8_t*>(owned);
    }
    File* f = new (std::nothrow) RegularFile(node, mode, f_flags, data, size, owned);
    if (f == nullptr) {
        delete[] owned;
        return kstd::err(ENOMEM);
    }
    return f;
}

int access(const RamFs& fs, Node* base, const char* path, size_t len, int mode, bool follow) {
    if ((mode & ~(kR_OK | kW_OK | kX_OK)) != 0) return -EINVAL;
    Lookup l = fs.lookup(base, path, len, follow);
    if (l.error != 0) return -l.error;
    return access(*l.node, mode);
}

int access(const Node& n, int mode) {
    if ((mode & ~(kR_OK | kW_OK | kX_OK)) != 0) return -EINVAL;
    // sb_permission(): writing to a regular file, directory or symlink of a read-only mount.
    if ((mode & kW_OK) != 0) return n.is_generated() ? -EACCES : -EROFS;
    // Root may execute a file with any x bit, and search any directory.
    if ((mode & kX_OK) != 0 && !n.is_dir() && (n.mode & 0111) == 0) return -EACCES;
    return 0;
}

long readlink(const RamFs& fs, Node* base, const char* path, size_t len, char* buf, size_t bufsiz) {
    Lookup l = fs.lookup(base, path, len, false);
    if (l.error != 0) return -l.error;
    if (!l.node->is_symlink()) return -EINVAL;
    size_t n = l.node->size < bufsiz ? static_cast<size_t>(l.node->size) : bufsiz;
    memcpy(buf, l.node->data, n);
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

bool mount_proc(RamFs& fs, Renderer render, const char* exe) {
    Node* root = fs.root();
    if (Node* old = root->child("proc", 4)) fs.detach(old);
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

}  // namespace pollux::fs
