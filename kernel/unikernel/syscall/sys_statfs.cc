// statfs(2) and fstatfs(2): the file system a path or descriptor lives on, as Linux reports
// each. The archive's tree is a tmpfs (shmem_statfs(): 4 KiB blocks, the size limit in blocks
// and what the files' buffers leave of it; no inode limit, reported as 0), /proc is procfs,
// /dev (and the console, ttyS0) devtmpfs, itself a tmpfs; sockets, pipes and the anonymous
// inodes (epoll, eventfd, timerfd, signalfd) are on their pseudo file systems, which report
// simple_statfs()'s magic, block size and name length only.
#include <linux/errno.h>
#include <linux/magic.h>

#include <cstring>

#include "eventpoll/fd_table.h"
#include "fs/devices.h"
#include "fs/node_file.h"
#include "fs/root_fs.h"
#include "fs/vfs.h"
#include "mm/direct_map.h"
#include "syscall/syscall.h"
#include "syscall/user_path.h"
#include "user/user_access.h"

namespace pollux::sys {
namespace {

// struct statfs on x86_64 (asm-generic/statfs.h, __statfs_word = long).
struct StatFs {
    int64_t f_type, f_bsize;
    uint64_t f_blocks, f_bfree, f_bavail, f_files, f_ffree;
    int32_t f_fsid[2];
    int64_t f_namelen, f_frsize, f_flags;
    int64_t f_spare[4];
};
static_assert(sizeof(StatFs) == 120);

constexpr int64_t kPage = int64_t(mm::kPageSize);
constexpr int64_t kNameMax = 255;
// ST_* of statfs's f_flags (include/linux/statfs.h): what each mount's options give.
constexpr int64_t kStNoSuid = 0x2, kStNoDev = 0x4, kStNoExec = 0x8, kStValid = 0x20, kStRelatime = 0x1000;

StatFs pseudo(int64_t magic, int64_t flags) {
    StatFs s{};
    s.f_type = magic;
    s.f_bsize = s.f_frsize = kPage;
    s.f_namelen = kNameMax;
    s.f_flags = flags | kStValid;
    return s;
}

// The tree's node on device dev.
using fs::kDevDev;

StatFs of_tree(uint32_t dev) {
    if (dev == fs::kProcDev) return pseudo(PROC_SUPER_MAGIC, kStNoSuid | kStNoDev | kStNoExec | kStRelatime);
    if (dev == kDevDev) return pseudo(TMPFS_MAGIC, kStNoSuid | kStRelatime);
    StatFs s = pseudo(TMPFS_MAGIC, kStRelatime);
    fs::ByteBudget& budget = fs::root_fs().budget();
    if (budget.limit() != 0) {
        uint64_t blocks = budget.limit() / kPage;
        uint64_t used = (budget.used() + kPage - 1) / kPage;
        s.f_blocks = blocks;
        s.f_bfree = s.f_bavail = used < blocks ? blocks - used : 0;
    }
    s.f_fsid[0] = int32_t(dev);
    return s;
}

StatFs of_file(File& file) {
    if (fs::Node* node = fs::inode_node_of(file)) return of_tree(node->inode->dev);
    switch (file.kind()) {
    case FileKind::inet:
    case FileKind::unix_stream:
        return pseudo(SOCKFS_MAGIC, 0);
    case FileKind::pipe:
        return pseudo(PIPEFS_MAGIC, 0);
    case FileKind::other:
        return of_tree(kDevDev);  // the console: /dev/ttyS0
    default:
        return pseudo(ANON_INODE_FS_MAGIC, 0);
    }
}

int64_t copy_out(uint64_t buf, const StatFs& s) { return user::put(buf, s) ? 0 : -EFAULT; }

}  // namespace

int64_t sys_statfs(const Args& a) {
    UserPath path(a.a0);
    if (int e = path.error()) return -e;
    fs::NodeStat st;
    if (int e = fs::stat(tree(), nullptr, path.str(), path.len(), /*follow=*/true, st)) return -e;
    return copy_out(a.a1, of_tree(uint32_t(st.dev)));
}

int64_t sys_fstatfs(const Args& a) {
    FileRef file = FdTable::instance().get(int(a.a0));
    if (!file) return -EBADF;
    return copy_out(a.a1, of_file(*file));
}

}  // namespace pollux::sys
