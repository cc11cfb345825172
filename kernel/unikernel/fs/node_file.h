// The open files of the tree's nodes (eventpoll Files, so the fd table, dup, close and fcntl
// treat them like any other): regular files, directories, and the base of /dev's devices.
//
// A NodeFile pins its Node (fs/ramfs.h) from open to release: a file unlinked while open stays
// readable and writable through it, a removed directory stays listable (as empty, ENOENT).
// Regular files and directories keep a position under pos_lock_ (Linux's f_pos_lock: two
// threads reading one description get distinct bytes); it is taken before the tree's mutex
// and the inode's lock. None can be watched by epoll (EPERM, as Linux's regular files);
// poll() and select() see them always ready.
#pragma once

#include <cstddef>
#include <cstdint>

#include "eventpoll/file.h"
#include "fs/ramfs.h"
#include "kernel/mutex.h"
#include "kstd/result.h"

namespace pollux::fs {

class NodeFile : public File {
public:
    Node* node() const { return node_; }
    Inode& inode() const { return *node_->inode; }
    bool can_poll() const override { return false; }
    PollMask poll(PollTable* pt) override;
    const void* lock_key() const override { return node_->inode; }
    // pwrite(2) at pos (>= 0) without moving the position; only with FMODE_PWRITE.
    virtual kstd::Result<size_t> write_at(IoIter& from, int64_t pos);

protected:
    // Takes over a pin the caller holds on node.
    NodeFile(FileKind kind, uint8_t mode, int flags, RamFs& fs, Node* node)
        : File(kind, mode, flags), fs_(fs), node_(node) {}
    void release() override;

    RamFs& fs_;
    Node* node_;
    Mutex pos_lock_;
    int64_t pos_ GUARDED_BY(pos_lock_) = 0;
};

// Linux's FMODE_PWRITE (pwrite()/pwritev() allowed), beside eventpoll's FMODE_PREAD.
inline constexpr uint8_t FMODE_PWRITE = 16;

// A regular file's bytes: the inode's; for a generated node (/proc), a snapshot rendered at
// open, owned by this description. A generated file seeks like Linux's seq_file: SEEK_SET and
// SEEK_CUR only.
class RegularFile final : public NodeFile {
public:
    RegularFile(RamFs& fs, Node* node, uint8_t mode, int flags, char* snapshot, uint64_t snapshot_size);
    bool can_read() const override { return true; }
    bool can_write() const override { return (mode() & FMODE_WRITE) != 0; }
    kstd::Result<size_t> read(IoIter& to, bool nonblock) override;
    kstd::Result<size_t> read_at(IoIter& to, int64_t pos) override;
    kstd::Result<size_t> write(IoIter& from, bool nonblock) override;
    kstd::Result<size_t> write_at(IoIter& from, int64_t pos) override;
    kstd::Result<int64_t> llseek(int64_t offset, int whence) override;

protected:
    void release() override;

private:
    kstd::Result<size_t> read_from(IoIter& to, int64_t pos);

    char* snapshot_;  // a generated file's text
    uint64_t snapshot_size_;
};

// A directory: read() is EISDIR; getdents64 lists ".", "..", then the children in the order
// they were made, the position counting entries and a cursor in the child list marking the
// place (Linux's dcache_readdir): entries made or removed while listing may or may not be
// seen, every other one is seen once.
class DirectoryFile final : public NodeFile {
public:
    DirectoryFile(RamFs& fs, Node* node, uint8_t mode, int flags);
    bool can_read() const override { return true; }
    kstd::Result<size_t> read(IoIter& to, bool nonblock) override;
    kstd::Result<size_t> read_at(IoIter& to, int64_t pos) override;
    kstd::Result<int64_t> llseek(int64_t offset, int whence) override;
    // linux_dirent64 records into buf: the bytes written, 0 at the end, EINVAL when not even
    // the next record fits, ENOENT once the directory was removed.
    kstd::Result<size_t> getdents64(void* buf, size_t cap);

protected:
    void release() override;

private:
    Node cursor_;  // in node_'s child list while pos_ > 2, after the entries already listed
};

// The node behind an open file, or null when the file is not one of the tree's.
Node* node_of(File& file);
// The same, /dev's devices included: for what any inode has (stat, attributes, mmap's checks).
Node* inode_node_of(File& file);

}  // namespace pollux::fs
