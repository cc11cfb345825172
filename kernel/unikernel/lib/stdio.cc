// snprintf/vsnprintf for code written against libc (the core's fdinfo printer, lwIP's
// diagnostics), over the kernel's formatter: the same conversions as printk, no floating point.
#include <cstdarg>
#include <cstddef>

#include "console/printk.h"

extern "C" {

int vsnprintf(char* buf, size_t size, const char* fmt, va_list ap) { return pollux::kvsnprintf(buf, size, fmt, ap); }

int snprintf(char* buf, size_t size, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = pollux::kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

}  // extern "C"
