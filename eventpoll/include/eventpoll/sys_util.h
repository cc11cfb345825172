// Helpers shared by the sys_* files: the syscall edge's conversions.
#pragma once

#include <new>

#include "eventpoll/io_iter.h"
#include "eventpoll/linux_abi.h"
#include "kstd/result.h"

namespace pollux {

inline long result_of(const kstd::Result<size_t>& r) { return r.ok() ? static_cast<long>(r.value()) : -r.error_code(); }
inline long result_of(const kstd::Result<void>& r) { return r.ok() ? 0 : -r.error_code(); }

// import_iovec(): at most UIO_MAXIOV segments into out (room for iovcnt of them), no negative
// lengths, the total clamped to MAX_RW_COUNT. Returns the total or -errno.
long import_iovec(const IoVec* iov, int iovcnt, IoVec* out);

// Where import_iovec() puts the segments: Linux's iovstack, UIO_FASTIOV of them on the stack
// and more from the heap. UIO_MAXIOV segments are 16 KiB, a unikernel thread's whole kernel
// stack. A count import_iovec() refuses (negative, over UIO_MAXIOV) allocates nothing.
class IovecBuffer {
public:
    static constexpr int kFast = 8;  // UIO_FASTIOV
    explicit IovecBuffer(int iovcnt)
        : segs_(iovcnt > kFast && iovcnt <= abi::kUIO_MAXIOV ? new (std::nothrow) IoVec[iovcnt] : fast_) {}
    ~IovecBuffer() {
        if (segs_ != fast_) delete[] segs_;
    }
    IovecBuffer(const IovecBuffer&) = delete;
    IovecBuffer& operator=(const IovecBuffer&) = delete;
    // Null when the heap had no room (the call fails with ENOMEM).
    IoVec* get() { return segs_; }

private:
    IoVec fast_[kFast];
    IoVec* segs_;
};

}  // namespace pollux
