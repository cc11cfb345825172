// Memory residency: mlock, mlock2, munlock, mlockall, munlockall, msync and mincore, with the
// checks of Linux 6.1's mm/mlock.c, mm/msync.c and mm/mincore.c. There is no swap and no page
// cache to write back: a page, once backed, stays until unmapped or discarded, so locking only
// checks its arguments and that the range is mapped (the first touch of a locked page still
// faults it in: nothing is populated ahead). msync has nothing to write: a file mapping is a
// private copy of the file's bytes here (sys_memory.cc), never written back to the file.
#include <linux/errno.h>
#include <linux/mman.h>

#include "mm/direct_map.h"
#include "mm/page_table.h"
#include "sched/irq_guard.h"
#include "syscall/syscall.h"
#include "user/address_space.h"
#include "user/user_access.h"

namespace pollux::sys {
namespace {

using mm::kPageSize;
using user::page_down;
using user::page_up;

// apply_vma_lock_flags() over the page-aligned range: EINVAL when it wraps, ENOMEM when a part
// of it is not mapped (whatever the protection: PROT_NONE areas lock as well).
int64_t lock_range(uint64_t start, uint64_t len_in) {
    uint64_t len = page_up(len_in + (start % kPageSize));  // PAGE_ALIGN(len + offset)
    start = page_down(start);
    uint64_t end = start + len;
    if (end < start) return -EINVAL;
    if (end == start) return 0;
    return user::accessible(start, len, 0) ? 0 : -ENOMEM;
}

}  // namespace

int64_t sys_mlock(const Args& a) { return lock_range(a.a0, a.a1); }

int64_t sys_mlock2(const Args& a) {
    if (a.a2 & ~uint64_t(MLOCK_ONFAULT)) return -EINVAL;
    return lock_range(a.a0, a.a1);
}

int64_t sys_munlock(const Args& a) { return lock_range(a.a0, a.a1); }

int64_t sys_mlockall(const Args& a) {
    uint64_t flags = a.a0;
    if (!flags || (flags & ~uint64_t(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT) return -EINVAL;
    return 0;
}

int64_t sys_munlockall(const Args&) { return 0; }

// msync(2): the flags and the alignment, then ENOMEM for holes in the range (Linux goes on
// past them and still says ENOMEM). Not modelled: MS_INVALIDATE's EBUSY on a locked area.
int64_t sys_msync(const Args& a) {
    uint64_t start = a.a0, flags = a.a2;
    if (flags & ~uint64_t(MS_ASYNC | MS_INVALIDATE | MS_SYNC)) return -EINVAL;
    if (start % kPageSize) return -EINVAL;
    if ((flags & MS_ASYNC) && (flags & MS_SYNC)) return -EINVAL;
    uint64_t len = page_up(a.a1);
    uint64_t end = start + len;
    if (end < start) return -ENOMEM;
    if (end == start) return 0;
    return user::accessible(start, len, 0) ? 0 : -ENOMEM;
}

// mincore(2): one byte per page, 1 where the page is backed (a frame present in the page
// table), 0 where it has never been touched, as Linux reports an untouched anonymous page.
// Pages are written out up to the first hole, which is ENOMEM, as do_mincore() does.
int64_t sys_mincore(const Args& a) {
    uint64_t start = a.a0, len = a.a1, vec = a.a2;
    if (start % kPageSize) return -EINVAL;
    if (len > mm::kUserTop || start > mm::kUserTop - len) return -ENOMEM;  // !access_ok()
    uint64_t pages = len / kPageSize + (len % kPageSize != 0);
    if (pages && !user::writable(vec, pages)) return -EFAULT;
    for (uint64_t i = 0; i < pages; ++i) {
        uint64_t va = start + i * kPageSize;
        uint8_t resident;
        {
            sched::IrqGuard guard;
            uint64_t area_start, area_end;
            int prot;
            if (!user::area_at(va, area_start, area_end, prot)) return -ENOMEM;
            uint64_t* pte = mm::user_pte(va, false);
            resident = pte != nullptr && (*pte & mm::kPtePresent) != 0;
        }
        if (!user::put(vec + i, resident)) return -EFAULT;
    }
    return 0;
}

}  // namespace pollux::sys
