// Anonymous memory: brk, mmap and friends over user/address_space. File mappings need files,
// which this kernel does not have yet: mmap of an fd fails with ENODEV.
#include <linux/errno.h>
#include <linux/mman.h>

#include <cstring>

#include "syscall/syscall.h"
#include "user/address_space.h"

namespace pollux::sys {
namespace {

constexpr uint64_t kPage = 4096;
constexpr int kProtMask = PROT_READ | PROT_WRITE | PROT_EXEC;

}  // namespace

int64_t sys_brk(const Args& a) { return int64_t(user::brk(a.a0)); }

int64_t sys_mmap(const Args& a) {
    uint64_t addr = a.a0, len = a.a1, flags = a.a3;
    int prot = int(a.a2);
    if (len == 0 || addr % kPage || (prot & ~kProtMask)) return -EINVAL;
    if (!(flags & MAP_ANONYMOUS)) return -ENODEV;
    if ((flags & MAP_TYPE) != MAP_PRIVATE && (flags & MAP_TYPE) != MAP_SHARED) return -EINVAL;
    // One process: a shared anonymous mapping behaves as a private one.
    len = user::page_up(len);
    if (!(flags & (MAP_FIXED | MAP_FIXED_NOREPLACE))) {
        addr = user::find_free(len);
        if (!addr) return -ENOMEM;
    } else if (flags & MAP_FIXED_NOREPLACE) {
        uint64_t s, e;
        int p;
        for (uint64_t va = addr; va < addr + len; va += kPage)
            if (user::area_at(va, s, e, p)) return -EEXIST;
    }
    int r = user::map_anonymous(addr, len, prot);
    return r < 0 ? r : int64_t(addr);
}

int64_t sys_munmap(const Args& a) {
    if (a.a0 % kPage || a.a1 == 0) return -EINVAL;
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

// Advice only: MADV_DONTNEED would have to zero the pages; glibc's free uses it on thread
// stacks and arenas and never reads the old contents back, but be exact anyway.
int64_t sys_madvise(const Args& a) {
    if (a.a0 % kPage) return -EINVAL;
    if (a.a2 == MADV_DONTNEED) {
        uint64_t start, end;
        int prot;
        if (!user::area_at(a.a0, start, end, prot)) return -ENOMEM;
        uint64_t len = user::page_up(a.a1);
        user::unmap(a.a0, len);
        user::map_anonymous(a.a0, len, prot);
    }
    return 0;
}

}  // namespace pollux::sys
