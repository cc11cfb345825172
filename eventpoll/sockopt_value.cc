#include "eventpoll/sockopt_value.h"

#include <linux/errno.h>

#include <cstring>

namespace pollux {

kstd::Result<int> get_int(const void* val, unsigned len) {
    if (len < sizeof(int)) return kstd::err(EINVAL);
    if (val == nullptr) return kstd::err(EFAULT);
    int v;
    std::memcpy(&v, val, sizeof(v));
    return v;
}

kstd::Result<void> put_opt(void* val, unsigned* len, const void* v, unsigned lv) {
    int ulen;
    std::memcpy(&ulen, len, sizeof(ulen));
    if (ulen < 0) return kstd::err(EINVAL);
    unsigned n = static_cast<unsigned>(ulen) < lv ? static_cast<unsigned>(ulen) : lv;
    if (n != 0) {
        if (val == nullptr) return kstd::err(EFAULT);
        std::memcpy(val, v, n);
    }
    std::memcpy(len, &n, sizeof(n));
    return {};
}

kstd::Result<void> put_int(void* val, unsigned* len, int v) { return put_opt(val, len, &v, sizeof(v)); }

}  // namespace pollux
