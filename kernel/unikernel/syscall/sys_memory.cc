// Memory: brk, mmap and friends over user/address_space. A file mapping is a copy of the
// file's bytes in anonymous pages (copy_file below): private mappings are exactly that on
// Linux until written; shared ones only while neither side writes, so a writable shared
// mapping is refused.
#include <linux/errno.h>
#include <linux/mman.h>

#include <cstring>
#include <new>

#include "eventpoll/fd_table.h"
#include "fs/node_file.h"
#include "mm/page_table.h"
#include "syscall/syscall.h"
#include "user/address_space.h"

namespace pollux::sys {
namespace {

constexpr uint64_t kPage = 4096;
constexpr int kProtMask = PROT_READ | PROT_WRITE | PROT_EXEC;
constexpr uint32_t kDevZero = (1u << 8) | 5;  // /dev/zero's (major << 8) | minor

// What an fd maps as: the regular file to copy from, or anonymous memory (/dev/zero, as
// mmap_zero() makes it). do_mmap()'s checks in its order: EACCES for a writable shared mapping
// of a file not open for writing, or without read access; then ENODEV for what has no mmap
// (pipes, sockets, directories, /proc's generated files).
struct FileSource {
    int error = 0;
    FileRef file;            // the file itself: its inode is read under its own lock
    fs::Inode* inode = nullptr;  // null: anonymous
};

// After the descriptor and the length have been checked (EBADF, then ENOMEM and EOVERFLOW).
void check_source(FileSource& src, int prot, uint64_t flags) {
    bool shared = (flags & MAP_TYPE) == MAP_SHARED;
    if ((shared && (prot & PROT_WRITE) && (src.file->mode() & FMODE_WRITE) == 0) ||
        (src.file->mode() & FMODE_READ) == 0) {
        src.error = -EACCES;
        return;
    }
    fs::Node* node = fs::inode_node_of(*src.file);
    fs::Inode* inode = node != nullptr ? node->inode : nullptr;
    bool zero = inode != nullptr && inode->is_chardev() && inode->rdev == kDevZero;
    if (inode == nullptr || (!zero && (!inode->is_regular() || inode->is_generated()))) {
        src.error = -ENODEV;
        return;
    }
    // The one case a copy cannot keep: writes through the mapping reaching the file, and the
    // file's writes reaching the mapping (tmpfs's page cache shares the pages).
    if (!zero && shared && (prot & PROT_WRITE)) {
        src.error = -ENODEV;
        return;
    }
    if (!zero) src.inode = inode;
}

// Fills [addr, addr + len) with the file's bytes from offset on (zeros past its end: Linux
// gives SIGBUS for pages wholly past it, which programs do not rely on).
int64_t copy_file(fs::Inode& inode, uint64_t addr, uint64_t len, uint64_t offset) {
    constexpr size_t kChunk = 64 * 1024;
    uint8_t* buf = new (std::nothrow) uint8_t[kChunk];
    if (buf == nullptr) return -ENOMEM;
    int64_t r = 0;
    for (uint64_t done = 0; done < len;) {
        IoVec seg{buf, len - done < kChunk ? size_t(len - done) : kChunk};
        IoIter it(&seg, 1);
        kstd::Result<size_t> got = inode.read(it, offset + done);
        if (!got.ok()) {
            r = -got.error().code;
            break;
        }
        if (got.value() == 0) break;  // the rest stays zero-filled
        if (!user::copy_in(addr + done, buf, got.value())) {
            r = -ENOMEM;
            break;
        }
        done += got.value();
    }
    delete[] buf;
    return r;
}

}  // namespace

int64_t sys_brk(const Args& a) { return int64_t(user::brk(a.a0)); }

int64_t sys_mmap(const Args& a) {
    uint64_t addr = a.a0, len = a.a1, flags = a.a3;
    int prot = int(a.a2);
    bool fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE);
    // Only a fixed address must be page-aligned; a hint is rounded, as Linux does.
    if (len == 0 || (fixed && addr % kPage) || (prot & ~kProtMask)) return -EINVAL;
    if ((flags & MAP_TYPE) != MAP_PRIVATE && (flags & MAP_TYPE) != MAP_SHARED) return -EINVAL;
    uint64_t offset = a.a5;
    FileSource src;
    if (!(flags & MAP_ANONYMOUS)) {
        if (offset % kPage) return -EINVAL;
        src.file = FdTable::instance().get(int(a.a4));
        if (!src.file || (src.file->flags() & abi::kO_PATH) != 0) return -EBADF;
        uint64_t pages = user::page_up(len);
        if (pages == 0) return -ENOMEM;
        if (offset + pages < offset) return -EOVERFLOW;
        check_source(src, prot, flags);
        if (src.error) return src.error;
    }
    // One process: a shared anonymous mapping behaves as a private one.
    len = user::page_up(len);
    if (!len) return -ENOMEM;  // rounding overflowed, as Linux says
    if (!fixed) {
        // The hint is taken when that range is free (Go reserves its heap at 0xc000000000 and
        // tries 127 other hints before it takes any address).
        addr = user::place(addr, len);
        if (!addr) return -ENOMEM;
    } else if ((flags & MAP_FIXED_NOREPLACE) && addr + len > addr && !user::unmapped(addr, len)) {
        return -EEXIST;
    }
    int r = user::map_anonymous(addr, len, prot);
    if (r < 0) return r;
    if (src.inode != nullptr) {
        if (int64_t e = copy_file(*src.inode, addr, len, offset); e < 0) {
            user::unmap(addr, len);
            return e;
        }
    }
    return int64_t(addr);
}

int64_t sys_munmap(const Args& a) {
    // Linux's checks (__do_munmap): a range past user space is EINVAL, not a long walk.
    if (a.a0 % kPage || a.a1 == 0 || a.a0 > mm::kUserTop || a.a1 > mm::kUserTop - a.a0) return -EINVAL;
    user::unmap(a.a0, a.a1);
    return 0;
}

int64_t sys_mprotect(const Args& a) {
    if (a.a0 % kPage || (a.a2 & ~uint64_t(kProtMask))) return -EINVAL;
    if (a.a1 == 0) return 0;
    return user::protect(a.a0, a.a1, int(a.a2));
}

// mremap(2): in place when shrinking or when the pages after it are free, else moved
// (MREMAP_MAYMOVE) by copying, which is what glibc's realloc of a large block needs.
int64_t sys_mremap(const Args& a) {
    uint64_t old_addr = a.a0, old_len = user::page_up(a.a1), new_len = user::page_up(a.a2), flags = a.a3;
    if (old_addr % kPage || new_len == 0 || (flags & ~uint64_t(MREMAP_MAYMOVE))) return -EINVAL;
    uint64_t start, end;
    int prot;
    if (!user::area_at(old_addr, start, end, prot) || !user::accessible(old_addr, old_len, 0)) return -EFAULT;
    if (new_len <= old_len) {
        if (new_len < old_len) user::unmap(old_addr + new_len, old_len - new_len);
        return int64_t(old_addr);
    }
    if (!(flags & MREMAP_MAYMOVE)) return -ENOMEM;
    uint64_t to = user::find_free(new_len);
    if (!to) return -ENOMEM;
    int r = user::map_anonymous(to, new_len, prot | PROT_READ | PROT_WRITE);
    if (r < 0) return r;
    memcpy(reinterpret_cast<void*>(to), reinterpret_cast<const void*>(old_addr), old_len);
    if (!(prot & PROT_WRITE)) user::protect(to, new_len, prot);
    user::unmap(old_addr, old_len);
    return int64_t(to);
}

// madvise(2) as Linux 6.1's mm/madvise.c checks it: the advice first, then the range; advice
// for a range with holes is applied to what is mapped and fails with ENOMEM.
int64_t sys_madvise(const Args& a) {
    uint64_t start = a.a0, len_in = a.a1;
    int advice = int(a.a2);
    switch (advice) {
    case MADV_NORMAL:
    case MADV_RANDOM:
    case MADV_SEQUENTIAL:
    case MADV_WILLNEED:
    case MADV_COLD:
    case MADV_PAGEOUT:
    case MADV_DONTFORK:
    case MADV_DOFORK:
    case MADV_WIPEONFORK:
    case MADV_KEEPONFORK:
    case MADV_DONTDUMP:
    case MADV_DODUMP:
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
    case MADV_FREE:
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE: break;
    // Answered as a Linux built without the feature answers: no transparent huge pages (so
    // /sys/kernel/mm/transparent_hugepage/ is absent too, and Go never asks), no KSM, no
    // memory-failure injection. MADV_REMOVE needs a shared mapping with a file behind it, and
    // anonymous shared mappings are private ones here.
    default: return -EINVAL;
    }
    if (start % kPage) return -EINVAL;
    uint64_t len = user::page_up(len_in);
    if (len_in && !len) return -EINVAL;
    if (start + len < start) return -EINVAL;
    if (!len) return 0;
    switch (advice) {
    // No reclaim to wait for: MADV_FREE's pages go at once, and read as zeros as they may on
    // Linux once reclaimed. The area stays; only the frames go.
    case MADV_DONTNEED:
    case MADV_DONTNEED_LOCKED:
    case MADV_FREE: return user::discard(start, len);
    case MADV_POPULATE_READ:
    case MADV_POPULATE_WRITE: return user::populate(start, len, advice == MADV_POPULATE_WRITE);
    default:
        // Hints about paging, forking and core dumps: no swap, no fork and no dumps here, so
        // there is nothing they would change; Linux's answer for a range with holes stays.
        return user::accessible(start, len, 0) ? 0 : -ENOMEM;
    }
}

}  // namespace pollux::sys
