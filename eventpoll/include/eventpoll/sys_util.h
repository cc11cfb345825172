// Helpers shared by the sys_* files: the syscall edge's conversions.
#pragma once

#include "eventpoll/io_iter.h"
#include "kstd/result.h"

namespace pollux {

inline long result_of(const kstd::Result<size_t>& r) { return r.ok() ? static_cast<long>(r.value()) : -r.error_code(); }
inline long result_of(const kstd::Result<void>& r) { return r.ok() ? 0 : -r.error_code(); }

// import_iovec(): at most UIO_MAXIOV segments into out (room for kUIO_MAXIOV), no negative
// lengths, the total clamped to MAX_RW_COUNT. Returns the total or -errno.
long import_iovec(const IoVec* iov, int iovcnt, IoVec* out);

}  // namespace pollux
