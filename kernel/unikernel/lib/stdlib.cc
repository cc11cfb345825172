// The few <stdlib.h> functions the portable code links against: lwIP's netif_find() calls
// atoi(), which glibc's header inlines into strtol(), and the lwIP port aborts on a failed
// assertion. Base detection and overflow clamping as the C standard asks.
#include <climits>

#include "panic/panic.h"

extern "C" {

long strtol(const char* __restrict s, char** __restrict end, int base) noexcept {
    const char* p = s;
    while (*p == ' ' || (*p >= '\t' && *p <= '\r')) ++p;
    bool neg = false;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = *p == '0' ? 8 : 10;
    }
    const char* digits = p;
    unsigned long limit = neg ? static_cast<unsigned long>(LONG_MAX) + 1 : LONG_MAX;
    unsigned long v = 0;
    bool overflow = false;
    for (;; ++p) {
        int d = *p >= '0' && *p <= '9' ? *p - '0'
                : *p >= 'a' && *p <= 'z' ? *p - 'a' + 10
                : *p >= 'A' && *p <= 'Z' ? *p - 'A' + 10
                                         : 99;
        if (d >= base) break;
        if (v > (limit - static_cast<unsigned long>(d)) / static_cast<unsigned long>(base)) overflow = true;
        else v = v * static_cast<unsigned long>(base) + static_cast<unsigned long>(d);
    }
    if (end) *end = const_cast<char*>(p == digits ? s : p);
    if (overflow) return neg ? LONG_MIN : LONG_MAX;
    return neg ? static_cast<long>(0 - v) : static_cast<long>(v);
}

[[noreturn]] void abort() noexcept { pollux::panic("abort() called"); }

}  // extern "C"
