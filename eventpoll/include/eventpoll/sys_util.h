// Helpers shared by the sys_* files: the syscall edge's conversions.
#pragma once

#include <new>

#include "eventpoll/io_iter.h"
#include "kstd/result.h"

namespace pollux {

inline long result_of(const kstd::Result<size_t>& r) { return r.ok() ? static_cast<long>(r.value()) : -r.error_code(); }
inline long result_of(const kstd::Result<void>& r) { return r.ok() ? 0 : -r.error_code(); }

// import_iovec(): at most UIO_MAXIOV segments into out (room for kUIO_MAXIOV), no negative
// lengths, the total clamped to MAX_RW_COUNT. Returns the total or -errno.
long import_iovec(const IoVec* iov, int iovcnt, IoVec* out);

// Room for an imported iovec: UIO_FASTIOV entries inline, more from the heap, as Linux's
// import_iovec() does. A kernel stack is 16 KiB in the unikernel: UIO_MAXIOV entries (16 KiB)
// on it would overflow it.
class IovecBuffer {
public:
    IovecBuffer() = default;
    ~IovecBuffer() { delete[] heap_; }
    IovecBuffer(const IovecBuffer&) = delete;
    IovecBuffer& operator=(const IovecBuffer&) = delete;
    // Room for count entries (count <= UIO_MAXIOV), or null when the heap has none (ENOMEM).
    IoVec* get(size_t count) {
        if (count <= kFast) return fast_;
        heap_ = new (std::nothrow) IoVec[count];
        return heap_;
    }

private:
    static constexpr size_t kFast = 8;  // UIO_FASTIOV
    IoVec fast_[kFast];
    IoVec* heap_ = nullptr;
};

}  // namespace pollux
