#include "fs/inode.h"

#include <linux/errno.h>

#include <cstring>
#include <new>

#include "kernel/platform.h"
#include "kernel/spin_lock.h"

namespace pollux::fs {
namespace {

// The smallest buffer a written file gets: a log written a line at a time does not reallocate
// for every line.
constexpr uint64_t kMinBuffer = 64;
const uint8_t kZeros[256] = {};

}  // namespace

int64_t now_ns() { return static_cast<int64_t>(platform::realtime_ns()); }

bool ByteBudget::charge(uint64_t bytes) {
    uint64_t used = used_.load(std::memory_order_relaxed);
    do {
        if (limit_ != 0 && (bytes > limit_ || used > limit_ - bytes)) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
}

void Inode::set_contents(const uint8_t* bytes, uint64_t length, uint8_t* owned, int64_t time_ns) {
    data = bytes;
    len = size = length;
    buf = owned;
    cap = owned != nullptr ? length : 0;
    atime_ns = mtime_ns = ctime_ns = time_ns;
}

void Inode::free_contents(ByteBudget& budget) {
    if (buf != nullptr && is_regular()) budget.refund(cap);
    delete[] buf;
    buf = nullptr;
    data = nullptr;
    cap = len = 0;
}

void Inode::touch_mtime() {
    LockGuard guard(lock);
    mtime_ns = ctime_ns = now_ns();
}

void Inode::touch_ctime() {
    LockGuard guard(lock);
    ctime_ns = now_ns();
}

kstd::Result<size_t> Inode::read(IoIter& to, uint64_t pos) {
    LockGuard guard(lock);
    if (pos >= size) return size_t{0};
    uint64_t want = size - pos < to.remaining() ? size - pos : to.remaining();
    size_t total = 0;
    if (pos < len) {
        uint64_t n = len - pos < want ? len - pos : want;
        total = to.copy_out(data + pos, static_cast<size_t>(n));
        if (total < n) return total == 0 && to.faulted() ? kstd::Result<size_t>(kstd::err(EFAULT)) : total;
    }
    // The sparse end: a hole reads as zeros.
    while (total < want) {
        size_t n = want - total < sizeof kZeros ? static_cast<size_t>(want - total) : sizeof kZeros;
        size_t copied = to.copy_out(kZeros, n);
        total += copied;
        if (copied < n) break;
    }
    if (total == 0 && to.faulted()) return kstd::err(EFAULT);
    return total;
}

kstd::Result<size_t> Inode::write(IoIter& from, int64_t* pos, bool append, ByteBudget& budget) {
    LockGuard guard(lock);
    uint64_t start = append ? size : static_cast<uint64_t>(*pos);
    uint64_t count = from.remaining();
    if (count == 0) return size_t{0};
    // generic_write_check_limits(): EFBIG at the limit, a short write up to it.
    if (start >= static_cast<uint64_t>(kMaxFileSize)) return kstd::err(EFBIG);
    if (count > static_cast<uint64_t>(kMaxFileSize) - start) count = static_cast<uint64_t>(kMaxFileSize) - start;
    uint64_t end = start + count;
    if (buf == nullptr || end > cap) {
        // Geometric growth; when that does not fit, exactly what this write needs.
        uint64_t need = end > len ? end : len;
        uint64_t want = cap * 2 > need ? cap * 2 : need;
        if (want < kMinBuffer) want = kMinBuffer;
        // The budget is charged the growth only: the old buffer's bytes are already on it.
        const uint64_t have = buf != nullptr ? cap : 0;
        uint8_t* grown = nullptr;
        for (uint64_t size_try : {want, need}) {
            if (size_try > SIZE_MAX || !budget.charge(size_try - have)) continue;
            grown = new (std::nothrow) uint8_t[static_cast<size_t>(size_try)];
            if (grown != nullptr) {
                want = size_try;
                break;
            }
            budget.refund(size_try - have);
        }
        if (grown == nullptr) return kstd::err(ENOSPC);
        if (len != 0) memcpy(grown, data, static_cast<size_t>(len));
        delete[] buf;
        buf = grown;
        data = grown;
        cap = want;
    }
    if (start > len) memset(buf + len, 0, static_cast<size_t>(start - len));
    size_t copied = from.copy_in(buf + start, static_cast<size_t>(count));
    if (start > len) len = start;  // the zeros written above are data now
    if (copied == 0 && from.faulted()) return kstd::err(EFAULT);
    if (start + copied > len) len = start + copied;
    if (len > size) size = len;
    mtime_ns = ctime_ns = now_ns();
    *pos = static_cast<int64_t>(start + copied);
    return copied;
}

void Inode::extend(uint64_t length) {
    LockGuard guard(lock);
    if (length <= size) return;
    size = length;
    mtime_ns = ctime_ns = now_ns();
}

void Inode::truncate(uint64_t length, ByteBudget& budget) {
    LockGuard guard(lock);
    if (length < len) len = length;
    size = length;
    if (len == 0 && buf != nullptr) {
        // Emptied: the buffer goes back (a log rotated by truncation must not pin its peak).
        budget.refund(cap);
        delete[] buf;
        buf = nullptr;
        cap = 0;
        data = nullptr;
    }
    mtime_ns = ctime_ns = now_ns();
}

}  // namespace pollux::fs
