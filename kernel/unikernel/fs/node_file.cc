#include "fs/node_file.h"

#include <linux/errno.h>

#include <cstring>

#include "eventpoll/linux_abi.h"
#include "kernel/spin_lock.h"

namespace pollux::fs {
namespace {

// include/uapi/linux/fs.h: linux_dirent64's d_type
constexpr uint8_t kDT_CHR = 2, kDT_DIR = 4, kDT_REG = 8, kDT_LNK = 10, kDT_SOCK = 12;
uint8_t dirent_type(const Node& n) {
    if (n.is_dir()) return kDT_DIR;
    if (n.is_symlink()) return kDT_LNK;
    if (n.is_chardev()) return kDT_CHR;
    return n.is_socket() ? kDT_SOCK : kDT_REG;
}

uint64_t size_of(Inode& inode) {
    LockGuard guard(inode.lock);
    return inode.size;
}

}  // namespace

PollMask NodeFile::poll(PollTable*) {
    // DEFAULT_POLLMASK: a file without a poll operation is always ready both ways.
    return abi::kEPOLLIN | abi::kEPOLLOUT | abi::kEPOLLRDNORM | abi::kEPOLLWRNORM;
}

kstd::Result<size_t> NodeFile::write_at(IoIter&, int64_t) { return kstd::err(EINVAL); }

void NodeFile::release() {
    LockGuard guard(fs_.mutex());
    fs_.unpin(node_);
}

RegularFile::RegularFile(RamFs& fs, Node* node, uint8_t mode, int flags, char* snapshot, uint64_t snapshot_size)
    : NodeFile(FileKind::regular, mode, flags, fs, node), snapshot_(snapshot), snapshot_size_(snapshot_size) {}

void RegularFile::release() {
    delete[] snapshot_;
    snapshot_ = nullptr;
    NodeFile::release();
}

kstd::Result<size_t> RegularFile::read_from(IoIter& to, int64_t pos) {
    if (!node_->is_generated()) return inode().read(to, static_cast<uint64_t>(pos));
    if (static_cast<uint64_t>(pos) >= snapshot_size_) return size_t{0};
    uint64_t avail = snapshot_size_ - static_cast<uint64_t>(pos);
    size_t n = to.copy_out(snapshot_ + pos, avail < to.remaining() ? static_cast<size_t>(avail) : to.remaining());
    if (n == 0 && to.faulted()) return kstd::err(EFAULT);
    return n;
}

kstd::Result<size_t> RegularFile::read(IoIter& to, bool) {
    LockGuard guard(pos_lock_);
    kstd::Result<size_t> r = read_from(to, pos_);
    if (r.ok()) pos_ += static_cast<int64_t>(r.value());
    return r;
}

kstd::Result<size_t> RegularFile::read_at(IoIter& to, int64_t pos) { return read_from(to, pos); }

kstd::Result<size_t> RegularFile::write(IoIter& from, bool) {
    LockGuard guard(pos_lock_);
    int64_t pos = pos_;
    kstd::Result<size_t> r = inode().write(from, &pos, (flags() & abi::kO_APPEND) != 0, fs_.budget());
    if (r.ok()) pos_ = pos;
    return r;
}

// Linux's pwrite() on an O_APPEND file appends (a bug the man page keeps documenting).
kstd::Result<size_t> RegularFile::write_at(IoIter& from, int64_t pos) {
    return inode().write(from, &pos, (flags() & abi::kO_APPEND) != 0, fs_.budget());
}

// generic_file_llseek_size() with Linux's MAX_LFS_FILESIZE, or seq_lseek() for /proc.
kstd::Result<int64_t> RegularFile::llseek(int64_t offset, int whence) {
    LockGuard guard(pos_lock_);
    const bool seq = node_->is_generated();
    const int64_t eof = seq ? static_cast<int64_t>(snapshot_size_) : static_cast<int64_t>(size_of(inode()));
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

DirectoryFile::DirectoryFile(RamFs& fs, Node* node, uint8_t mode, int flags)
    : NodeFile(FileKind::directory, mode, flags, fs, node) {
    cursor_.cursor = true;
}

void DirectoryFile::release() {
    LockGuard guard(fs_.mutex());
    fs_.remove_cursor(&cursor_);
    fs_.unpin(node_);
}

kstd::Result<size_t> DirectoryFile::read(IoIter&, bool) { return kstd::err(EISDIR); }
kstd::Result<size_t> DirectoryFile::read_at(IoIter&, int64_t) { return kstd::err(EISDIR); }

// dcache_dir_lseek(): SEEK_SET and SEEK_CUR to any non-negative entry number; the cursor goes
// after that many children, and stays where it is for the position it has.
kstd::Result<int64_t> DirectoryFile::llseek(int64_t offset, int whence) {
    LockGuard guard(pos_lock_);
    int64_t to = offset;
    if (whence == abi::kSEEK_CUR) {
        if (__builtin_add_overflow(pos_, offset, &to)) return kstd::err(EINVAL);
    } else if (whence != abi::kSEEK_SET) {
        return kstd::err(EINVAL);
    }
    if (to < 0) return kstd::err(EINVAL);
    // telldir()'s lseek(fd, 0, SEEK_CUR) must not move the cursor: recounting from the start
    // would skip what was removed before it meanwhile.
    if (to == pos_) return to;
    LockGuard tree(fs_.mutex());
    fs_.remove_cursor(&cursor_);
    if (to > 2) {
        Node* after = nullptr;
        for (int64_t i = 2; i < to; ++i) {
            Node* next = after != nullptr ? Node::next_name(after) : node_->first_name();
            if (next == nullptr) break;
            after = next;
        }
        fs_.place_cursor(node_, &cursor_, after);
    }
    pos_ = to;
    return to;
}

kstd::Result<size_t> DirectoryFile::getdents64(void* buf, size_t cap) {
    LockGuard guard(pos_lock_);
    LockGuard tree(fs_.mutex());
    // iterate_dir(): a removed directory lists nothing at all.
    if (!node_->linked()) return kstd::err(ENOENT);
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
    if (pos == 0) more = emit(node_->inode->ino, ".", 1, kDT_DIR);
    if (more && pos == 1) more = emit(node_->parent->inode->ino, "..", 2, kDT_DIR);
    if (more) {
        Node* last = nullptr;
        Node* child = pos > 2 && cursor_.parent != nullptr ? Node::next_name(&cursor_) : node_->first_name();
        for (; child != nullptr; child = Node::next_name(child)) {
            if (!emit(child->inode->ino, child->name, child->name_len, dirent_type(*child))) break;
            last = child;
        }
        if (last != nullptr) fs_.place_cursor(node_, &cursor_, last);
    }
    pos_ = pos;
    if (used == 0 && full) return kstd::err(EINVAL);
    return used;
}

Node* node_of(File& file) {
    if (file.kind() != FileKind::regular && file.kind() != FileKind::directory) return nullptr;
    return static_cast<NodeFile&>(file).node();
}

Node* inode_node_of(File& file) {
    if (file.kind() == FileKind::device) return static_cast<NodeFile&>(file).node();
    return node_of(file);
}

}  // namespace pollux::fs
