// Helpers shared by the sys_* files: the syscall edge's conversions.
#pragma once

#include <new>

#include "eventpoll/io_iter.h"
#include "eventpoll/linux_abi.h"
#include "kstd/result.h"

namespace pollux {

inline long result_of(const kstd::Result<size_t>& r) { return r.ok() ? static_cast<long>(r.value()) : -r.error_code(); }
inline long result_of(const kstd::Result<void>& r) { return r.ok() ? 0 : -r.error_code(); }

// import_iovec(): at most UIO_MAXIOV segments into out (room for kUIO_MAXIOV), no negative
// lengths, the total clamped to MAX_RW_COUNT. Returns the total or -errno.
long import_iovec(const IoVec* iov, int iovcnt, IoVec* out);

// Room for import_iovec's copy: a few segments on the stack, more on the heap, as Linux's
// iovec_from_user does with UIO_FASTIOV. All UIO_MAXIOV on the stack would be 16 KiB, a whole
// unikernel thread stack. get() returns null when the heap has no room (-ENOMEM); a count
// import_iovec will reject gets the stack room.
class IovecBuffer {
public:
    IovecBuffer() = default;
    IovecBuffer(const IovecBuffer&) = delete;
    IovecBuffer& operator=(const IovecBuffer&) = delete;
    ~IovecBuffer() { delete[] heap_; }
    IoVec* get(long count) {
        if (count <= kFast || count > abi::kUIO_MAXIOV) return fast_;
        heap_ = new (std::nothrow) IoVec[static_cast<size_t>(count)];
        return heap_;
    }

private:
    static constexpr long kFast = 8;  // UIO_FASTIOV
    IoVec fast_[kFast];
    IoVec* heap_ = nullptr;
};

}  // namespace pollux
