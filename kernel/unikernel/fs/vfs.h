// The file calls over the tree (fs/ramfs.h), as Linux answers them for a process running as
// root on its initramfs rootfs (tmpfs): open, stat, access, readlink, the working directory,
// the calls that add, remove and move names (fs/vfs_names.cc), and the kernel's /proc, which
// stays read-only.
//
// Each call takes the tree's mutex itself. `base` is the directory a relative path starts
// from: a node the caller keeps pinned (an open directory's), or null for the working
// directory. Paths are the caller's bytes, not NUL-terminated.
//
// Portable: pointers are the caller's to check. The unikernel's syscall layer
// (syscall/sys_fs*.cc) checks the application's memory first; hosted, the unit tests call
// these directly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fs/node_file.h"
#include "fs/ramfs.h"
#include "kstd/result.h"

namespace pollux::fs {

// The fields of struct stat a node has; the syscall layer lays them out.
struct NodeStat {
    uint64_t dev = 0, ino = 0, nlink = 0, blocks = 0;
    int64_t size = 0, atime = 0, mtime = 0, ctime = 0;
    uint32_t atime_nsec = 0, mtime_nsec = 0, ctime_nsec = 0;
    uint32_t mode = 0, uid = 0, gid = 0, blksize = 0;
    uint32_t rdev = 0;
};
// Under the tree's mutex, or with node pinned.
void stat_node(const Node& node, NodeStat& st);
// stat(2)/lstat(2) of a path: 0 or an errno.
int stat(RamFs& fs, Node* base, const char* path, size_t len, bool follow, NodeStat& st);

// openat(2): the lookup, then Linux's checks (build_open_flags, do_open, may_open): creating
// a file (mode & ~umask) in a directory, truncating, O_TMPFILE; a directory opened for writing
// is EISDIR, /proc's files refuse writing (EACCES). The returned File carries one reference;
// O_CLOEXEC is the caller's (the fd table's).
kstd::Result<File*> open(RamFs& fs, Node* base, const char* path, size_t len, int flags, uint32_t mode = 0);
// faccessat2(2) as root: F_OK/R_OK/W_OK succeed (W_OK of /proc's files is EACCES), X_OK needs
// an x bit or a directory. 0 or -errno.
int access(RamFs& fs, Node* base, const char* path, size_t len, int mode, bool follow);
int access(RamFs& fs, const Node& node, int mode);
// readlinkat(2): up to bufsiz bytes of the target, no NUL; the count or -errno.
long readlink(RamFs& fs, Node* base, const char* path, size_t len, char* buf, size_t bufsiz);
// getcwd(2): the working directory's absolute path, NUL-terminated; the length with the NUL,
// -ERANGE, or -ENOENT when it was removed.
long getcwd(RamFs& fs, char* buf, size_t size);
// A directory's absolute path, as getcwd gives it; under the tree's mutex.
long path_of(const RamFs& fs, const Node* dir, char* buf, size_t size);
// chdir(2) and fchdir(2) (dir pinned by the caller): 0 or an errno.
int chdir(RamFs& fs, Node* base, const char* path, size_t len);
int fchdir(RamFs& fs, Node* dir);

// fs/vfs_names.cc: the calls that change names, each 0 or an errno in Linux's order of checks.
int mkdir(RamFs& fs, Node* base, const char* path, size_t len, uint32_t mode);
// unlinkat(2): rmdir when dir.
int unlink(RamFs& fs, Node* base, const char* path, size_t len, bool dir);
// renameat2(2) with RENAME_NOREPLACE and RENAME_EXCHANGE (RENAME_WHITEOUT: EINVAL).
int rename(RamFs& fs, Node* old_base, const char* old_path, size_t old_len, Node* new_base, const char* new_path,
           size_t new_len, unsigned flags);
int symlink(RamFs& fs, const char* target, size_t target_len, Node* base, const char* path, size_t len);
// linkat(2): follow is AT_SYMLINK_FOLLOW. old_node (AT_EMPTY_PATH) names the file instead of
// the old path.
int link(RamFs& fs, Node* old_base, const char* old_path, size_t old_len, Node* new_base, const char* new_path,
         size_t new_len, bool follow, Node* old_node = nullptr);
// An AF_UNIX bind()'s node (unix_bind_bsd(): kern_path_create(), then vfs_mknod() of
// S_IFSOCK | (0777 & ~umask)); with create false, only the checks. EEXIST is EADDRINUSE.
int mknod_socket(RamFs& fs, const char* path, size_t len, bool create, uint64_t* ino);
// connect()'s unix_find_bsd(): the node a path names, symlinks followed; ECONNREFUSED when it
// is not a socket.
int find_socket(RamFs& fs, const char* path, size_t len, uint64_t* ino);
// fchmodat(2) (a symlink is followed), fchmod(2) of a pinned node.
int chmod(RamFs& fs, Node* base, const char* path, size_t len, uint32_t mode);
int chmod(RamFs& fs, Node* node, uint32_t mode);
// fchownat(2) and fchown(2) as root: -1 (0xffffffff) leaves an id; a non-directory loses its
// set-user-ID bit, and its set-group-ID bit when group-executable (notify_change()).
int chown(RamFs& fs, Node* base, const char* path, size_t len, bool follow, uint32_t uid, uint32_t gid);
int chown(RamFs& fs, Node* node, uint32_t uid, uint32_t gid);
// truncate(2) of a path, and the size change ftruncate(2) makes of an open file's inode.
int truncate(RamFs& fs, Node* base, const char* path, size_t len, int64_t length);
int truncate(RamFs& fs, Node* node, int64_t length);
// fallocate(2)'s growth: the size becomes length when that is more (EFBIG past the limit).
int extend(RamFs& fs, Node* node, int64_t length);
// utimensat(2)'s two times (nanoseconds since the epoch, or kUtimeNow / kUtimeOmit).
inline constexpr int64_t kUtimeNow = -1, kUtimeOmit = -2;
int utimens(RamFs& fs, Node* node, int64_t atime_ns, int64_t mtime_ns);
int utimens(RamFs& fs, Node* base, const char* path, size_t len, bool follow, int64_t atime_ns, int64_t mtime_ns);

// The kernel's /proc over whatever the archive had there (a mount hides it): /proc/1/net/snmp
// and /proc/1/net/dev rendered by `render` at open, /proc/1/exe -> exe (when not null),
// /proc/self -> 1 and /proc/net -> self/net as on Linux. False when memory ran out.
inline constexpr uint32_t kProcDev = 4;
bool mount_proc(RamFs& fs, Renderer render, const char* exe);
// /tmp (01777), unless the archive has one, as Unikraft and OSv give their applications.
bool mount_tmp(RamFs& fs);

}  // namespace pollux::fs
