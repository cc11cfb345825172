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

// stderr for the portable code's diagnostics (the lwIP port's), which only ever writes there:
// every stream is the console. printk emits whole lines, so a diagnostic written in pieces
// (fputs then vfprintf) is buffered here up to its newline.
namespace {
char line[256];
size_t line_len = 0;

void put(const char* s) {
    for (; *s; ++s) {
        if (line_len + 1 < sizeof(line)) line[line_len++] = *s;
        if (*s == '\n' || line_len + 1 == sizeof(line)) {
            line[line_len] = '\0';
            pollux::printk("%s", line);
            line_len = 0;
        }
    }
}
}  // namespace

extern "C" {

struct _IO_FILE;
_IO_FILE* stderr = nullptr;

int fputs(const char* s, _IO_FILE*) {
    put(s);
    return 0;
}

int vfprintf(_IO_FILE*, const char* fmt, va_list ap) {
    char buf[256];
    int n = pollux::kvsnprintf(buf, sizeof(buf), fmt, ap);
    put(buf);
    return n;
}

int fprintf(_IO_FILE* f, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vfprintf(f, fmt, ap);
    va_end(ap);
    return n;
}

}  // extern "C"
