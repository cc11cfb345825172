// Inode: one file of the tree (Linux's struct inode), whatever names it has. Names are Nodes
// (fs/ramfs.h): a regular file hard-linked under two names is one Inode under two Nodes.
//
// Contents: a regular file's bytes, or a symlink's target. An archive file's bytes stay in the
// archive (the boot module's memory, never freed); the first write copies them into a heap
// buffer of the inode's own (copy on write), which then grows geometrically. The file is
// sparse at its end only: data holds the first len bytes and [len, size) reads as zeros, so
// truncating up costs nothing and truncating down never copies. What the heap buffers hold is
// charged to a ByteBudget, tmpfs's size= limit: past it, or when the heap is out, a write
// fails with ENOSPC, as shmem's does.
//
// Locking: `lock` (Linux's i_rwsem) guards the contents and times; it nests inside the tree's
// mutex (RamFs::mutex) and inside a file's position lock, and nothing is taken under it.
// The attributes the tree's calls change (mode, links, subdirs) are guarded by the tree's mutex.
// Symlink targets and generated files never change once made, so they are read without a lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "eventpoll/io_iter.h"
#include "kernel/mutex.h"
#include "kstd/result.h"

namespace pollux::fs {

// st_mode's type bits and the permission bits a node keeps (<linux/stat.h>).
inline constexpr uint32_t kS_IFMT = 0170000;
inline constexpr uint32_t kS_IFDIR = 0040000;
inline constexpr uint32_t kS_IFCHR = 0020000;
inline constexpr uint32_t kS_IFREG = 0100000;
inline constexpr uint32_t kS_IFLNK = 0120000;
inline constexpr uint32_t kS_IFSOCK = 0140000;
inline constexpr uint32_t kPermMask = 07777;
// MAX_LFS_FILESIZE on 64-bit: a write or truncate past it is EFBIG.
inline constexpr int64_t kMaxFileSize = INT64_MAX;

// Renders a generated file's text into buf (NUL-terminated, truncated to cap) and returns its
// full length, as snprintf does; netstack's proc_net_render has this shape.
using Renderer = long (*)(const char* key, char* buf, size_t cap);

// The bytes every file's heap buffer holds, against a limit (0: none, as Linux's rootfs).
class ByteBudget {
public:
    void set_limit(uint64_t bytes) { limit_ = bytes; }
    uint64_t limit() const { return limit_; }
    uint64_t used() const { return used_.load(std::memory_order_relaxed); }
    bool charge(uint64_t bytes);
    void refund(uint64_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> used_{0};
    uint64_t limit_ = 0;
};

struct Inode {
    uint32_t mode = 0;  // type | permissions
    uint32_t uid = 0, gid = 0;
    uint64_t ino = 0;
    uint32_t dev = 0;   // st_dev: the archive's tree, /proc and /dev differ, as on Linux
    uint32_t rdev = 0;  // character devices: (major << 8) | minor
    // Regular files, symlinks, devices: how many names the tree has for it (st_nlink).
    uint32_t links = 0;
    uint32_t subdirs = 0;  // directories: how many children are directories (st_nlink = 2 + this)
    uint32_t nodes = 0;    // Nodes pointing here, named or not: freed when the last one goes
    bool linkable = false;  // an O_TMPFILE file: linkat() may name it although links is 0
    // Generated files: the text comes from render(render_key, ...) at open.
    Renderer render = nullptr;
    const char* render_key = nullptr;

    Mutex lock;
    int64_t atime_ns GUARDED_BY(lock) = 0;  // set by utimensat only: reads do not touch it (noatime)
    int64_t mtime_ns GUARDED_BY(lock) = 0;
    int64_t ctime_ns GUARDED_BY(lock) = 0;
    const uint8_t* data GUARDED_BY(lock) = nullptr;  // the first len bytes, or the symlink's target
    uint64_t len GUARDED_BY(lock) = 0;
    uint64_t size GUARDED_BY(lock) = 0;
    uint8_t* buf GUARDED_BY(lock) = nullptr;  // the heap buffer data points at once written, or null
    uint64_t cap GUARDED_BY(lock) = 0;

    Inode() = default;
    Inode(const Inode&) = delete;
    Inode& operator=(const Inode&) = delete;

    bool is_dir() const { return (mode & kS_IFMT) == kS_IFDIR; }
    bool is_regular() const { return (mode & kS_IFMT) == kS_IFREG; }
    bool is_symlink() const { return (mode & kS_IFMT) == kS_IFLNK; }
    bool is_chardev() const { return (mode & kS_IFMT) == kS_IFCHR; }
    bool is_socket() const { return (mode & kS_IFMT) == kS_IFSOCK; }
    bool is_generated() const { return render != nullptr; }

    // Copies [pos, size) out, zeros past len. The bytes copied (0 at or past the end).
    kstd::Result<size_t> read(IoIter& to, uint64_t pos);
    // Writes at pos, or at the end for append (*pos then says where); grows the buffer, copying
    // archive bytes first. ENOSPC when the budget or the heap has no room for the growth; EFBIG
    // past kMaxFileSize.
    kstd::Result<size_t> write(IoIter& from, int64_t* pos, bool append, ByteBudget& budget);
    // ftruncate(2)'s change of size: never allocates (the new bytes are the sparse end).
    void truncate(uint64_t length, ByteBudget& budget);
    // fallocate(2)'s growth: the size becomes length if that is more, nothing is allocated.
    void extend(uint64_t length);
    // The heap buffer, given back (the inode is being freed).
    void free_contents(ByteBudget& budget) NO_THREAD_SAFETY_ANALYSIS;
    // Before the application runs (the archive's files, the kernel's own nodes): no lock yet.
    void set_contents(const uint8_t* bytes, uint64_t length, uint8_t* owned, int64_t time_ns) NO_THREAD_SAFETY_ANALYSIS;
    // The symlink's target, which never changes.
    const char* target() const NO_THREAD_SAFETY_ANALYSIS { return reinterpret_cast<const char*>(data); }
    uint64_t target_len() const NO_THREAD_SAFETY_ANALYSIS { return size; }
    // mtime and ctime to now (a write, a truncate); ctime alone for a change of attributes.
    void touch_mtime();
    void touch_ctime();
};

int64_t now_ns();

}  // namespace pollux::fs
