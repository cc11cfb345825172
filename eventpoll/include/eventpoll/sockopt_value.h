// Option values in and out of setsockopt/getsockopt, for every socket family.
#pragma once

#include "kstd/result.h"

namespace pollux {

// Reads an int option (optlen < sizeof(int): EINVAL).
kstd::Result<int> get_int(const void* val, unsigned len);
// Copies an option value out as sock_getsockopt() does: truncated to the caller's length,
// the length written back.
kstd::Result<void> put_opt(void* val, unsigned* len, const void* v, unsigned lv);
kstd::Result<void> put_int(void* val, unsigned* len, int v);

}  // namespace pollux
