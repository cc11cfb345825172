// The file calls over the read-only tree (fs/ramfs.h), as Linux answers them for a read-only
// mount and a process running as root: open files (eventpoll Files, so the fd table, dup,
// close and fcntl treat them like any other), stat, access, readlink, getdents64, getcwd, and
// the kernel's /proc.
//
// Portable: pointers are the caller's to check. The unikernel's syscall layer
// (syscall/sys_fs.cc) checks the application's memory first; hosted, the unit tests call these
// directly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "eventpoll/file.h"
#include "fs/ramfs.h"
#include "kernel/mutex.h"
#include "kstd/result.h"

namespace pollux::fs {

// The fields of struct stat a node has; the syscall layer lays them out.
struct NodeStat {
    uint64_t dev = 0, ino = 0, nlink = 0, blocks = 0;
    int64_t size = 0, mtime = 0;
    uint32_t mode = 0, uid = 0, gid = 0, blksize = 0;
    uint32_t rdev = 0;
};
void stat_node(const Node& node, NodeStat& st);

// An open file description of a node. Regular files and directories keep a position under
// pos_lock_ (Linux's f_pos_lock: two threads reading one description get distinct bytes).
// Neither can be watched by epoll (EPERM, as Linux's regular files); poll() and select()
// see them always ready.
class NodeFile : public File {
public:
    Node* node() const { return node_; }
    bool can_poll() const override { return false; }
    PollMask poll(PollTable* pt) override;

protected:
    NodeFile(FileKind kind, uint8_t mode, int flags, Node* node) : File(kind, mode, flags), node_(node) {}
    Node* node_;
    Mutex pos_lock_;
    int64_t pos_ GUARDED_BY(pos_lock_) = 0;
};

// A regular file's bytes: the node's, in the archive; for a generated node (/proc), a
// snapshot rendered at open, owned by this description. A generated file seeks like Linux's
// seq_file: SEEK_SET and SEEK_CUR only.
class RegularFile final : public NodeFile {
public:
    RegularFile(Node* node, uint8_t mode, int flags, const uint8_t* data, uint64_t size, char* owned);
    bool can_read() const override { return true; }
    kstd::Result<size_t> read(IoIter& to, bool nonblock) override;
    kstd::Result<size_t> read_at(IoIter& to, int64_t pos) override;
    kstd::Result<int64_t> llseek(int64_t offset, int whence) override;

protected:
    void release() override;

private:
    kstd::Result<size_t> copy_from(IoIter& to, int64_t pos);

    const uint8_t* data_;
    uint64_t size_;
    char* owned_;
};

// A directory: read() is EISDIR; getdents64 lists ".", ".." and then the children in archive
// order, the position counting entries (what dcache_readdir does for Linux's ramfs).
class DirectoryFile final : public NodeFile {
public:
    DirectoryFile(Node* node, uint8_t mode, int flags) : NodeFile(FileKind::directory, mode, flags, node) {}
    bool can_read() const override { return true; }
    kstd::Result<size_t> read(IoIter& to, bool nonblock) override;
    kstd::Result<size_t> read_at(IoIter& to, int64_t pos) override;
    kstd::Result<int64_t> llseek(int64_t offset, int whence) override;
    // linux_dirent64 records into buf: the bytes written, 0 at the end, EINVAL when not even
    // the next record fits.
    kstd::Result<size_t> getdents64(void* buf, size_t cap);
};

// The node behind an open file, or null when the file is not one of the tree's.
Node* node_of(File& file);

// openat(2) with `base` as the directory a relative path starts from: the lookup, then
// Linux's checks (build_open_flags, do_open, may_open) on a read-only mount: creating a file
// or opening a regular one for writing (or O_TRUNC) is EROFS, a directory is EISDIR. The
// returned File carries one reference; O_CLOEXEC is the caller's (the fd table's).
kstd::Result<File*> open(const RamFs& fs, Node* base, const char* path, size_t len, int flags);
// faccessat2(2) as root: F_OK/R_OK succeed, W_OK is EROFS, X_OK needs an x bit or a directory.
// 0 or -errno.
int access(const RamFs& fs, Node* base, const char* path, size_t len, int mode, bool follow);
int access(const Node& node, int mode);
// readlinkat(2): up to bufsiz bytes of the target, no NUL; the count or -errno.
long readlink(const RamFs& fs, Node* base, const char* path, size_t len, char* buf, size_t bufsiz);
// getcwd(2): dir's absolute path, NUL-terminated; the length with the NUL, or -ERANGE.
long path_of(const RamFs& fs, const Node* dir, char* buf, size_t size);

// The kernel's /proc over whatever the archive had there (a mount hides it): /proc/1/net/snmp
// and /proc/1/net/dev rendered by `render` at open, /proc/1/exe -> exe (when not null),
// /proc/self -> 1 and /proc/net -> self/net as on Linux. False when memory ran out.
inline constexpr uint32_t kProcDev = 4;
bool mount_proc(RamFs& fs, Renderer render, const char* exe);

}  // namespace pollux::fs
