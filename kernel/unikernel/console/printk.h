// Formatted kernel output, printf-style without libc: %d %i %u %x %X %p %s %c %% with the
// flags '-', '0' and '#', a width, and the length modifiers l, ll, z. Lines go to COM1 whole.
#pragma once

#include <cstdarg>
#include <cstddef>

// Linux's message levels: a format may start with one of these; a line is shown when its
// level is below the console level (loglevel=N on the command line, `quiet` = 4). A line
// without one has level 4 (Linux's default_message_loglevel).
#define KERN_SOH "\001"
#define KERN_EMERG KERN_SOH "0"
#define KERN_ERR KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE KERN_SOH "5"
#define KERN_INFO KERN_SOH "6"
#define KERN_DEBUG KERN_SOH "7"

namespace pollux {

constexpr int kDefaultConsoleLoglevel = 8;  // everything
void set_console_loglevel(int level);
// Linux's printk.time: each line starts with "[seconds.microseconds] " since reset (0 until the
// TSC's frequency is known).
void set_printk_time(bool on);

void printk(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintk(const char* fmt, va_list ap);
// Like snprintf: always NUL-terminates (when size > 0), returns the length it wanted.
int ksnprintf(char* buf, size_t size, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
int kvsnprintf(char* buf, size_t size, const char* fmt, va_list ap);

}  // namespace pollux
