// Formatted kernel output, printf-style without libc: %d %i %u %x %X %p %s %c %% with the
// flags '-', '0' and '#', a width, and the length modifiers l, ll, z. Lines go to COM1 whole.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace pollux {

void printk(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintk(const char* fmt, va_list ap);
// Like snprintf: always NUL-terminates (when size > 0), returns the length it wanted.
int ksnprintf(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
int kvsnprintf(char* buf, size_t size, const char* fmt, va_list ap);

}  // namespace pollux
