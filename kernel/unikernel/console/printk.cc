#include "console/printk.h"

#include <cstdint>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "console/serial.h"

namespace pollux {
namespace {

struct Sink {
    char* buf;
    size_t size;
    size_t len = 0;
    void put(char c) {
        if (len + 1 < size) buf[len] = c;
        ++len;
    }
};

void put_padded(Sink& out, const char* s, size_t n, int width, bool left, char pad) {
    int fill = width > int(n) ? width - int(n) : 0;
    if (!left)
        while (fill-- > 0) out.put(pad);
    for (size_t i = 0; i < n; ++i) out.put(s[i]);
    if (left)
        while (fill-- > 0) out.put(' ');
}

void put_number(Sink& out, uint64_t v, bool negative, unsigned base, bool upper, int width, bool left,
                char pad) {
    char digits[24];
    const char* set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    size_t n = 0;
    do {
        digits[n++] = set[v % base];
        v /= base;
    } while (v);
    char text[26];
    size_t len = 0;
    if (negative) {
        if (pad == '0') {  // the sign goes before zero padding: -0042
            out.put('-');
            --width;
        } else {
            text[len++] = '-';
        }
    }
    while (n) text[len++] = digits[--n];
    put_padded(out, text, len, width, left, pad);
}

}  // namespace

int kvsnprintf(char* buf, size_t size, const char* fmt, va_list ap) {
    Sink out{buf, size};
    for (const char* p = fmt; *p; ++p) {
        if (*p != '%') {
            out.put(*p);
            continue;
        }
        ++p;
        bool left = false, alt = false;
        char pad = ' ';
        for (;; ++p) {
            if (*p == '-') left = true;
            else if (*p == '#') alt = true;
            else if (*p == '0') pad = '0';
            else break;
        }
        int width = 0;
        while (*p >= '0' && *p <= '9') width = width * 10 + (*p++ - '0');
        int longs = 0;
        while (*p == 'l' || *p == 'z') {
            longs += *p == 'z' ? 2 : 1;
            ++p;
        }
        switch (*p) {
        case 'd':
        case 'i': {
            int64_t v = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
            uint64_t mag = v < 0 ? uint64_t(0) - uint64_t(v) : uint64_t(v);
            put_number(out, mag, v < 0, 10, false, width, left, pad);
            break;
        }
        case 'u':
        case 'x':
        case 'X': {
            uint64_t v = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            if (alt && *p != 'u') {
                out.put('0');
                out.put('x');
                width -= 2;
            }
            put_number(out, v, false, *p == 'u' ? 10 : 16, *p == 'X', width, left, pad);
            break;
        }
        case 'p':
            out.put('0');
            out.put('x');
            put_number(out, uintptr_t(va_arg(ap, void*)), false, 16, false, 16, false, '0');
            break;
        case 's': {
            const char* s = va_arg(ap, const char*);
            if (!s) s = "(null)";
            size_t n = 0;
            while (s[n]) ++n;
            put_padded(out, s, n, width, left, ' ');
            break;
        }
        case 'c': {
            char c = char(va_arg(ap, int));
            put_padded(out, &c, 1, width, left, ' ');
            break;
        }
        case '%': out.put('%'); break;
        case '\0': --p; break;  // a lone '%' at the end
        default:
            out.put('%');
            out.put(*p);
        }
    }
    if (size) buf[out.len < size ? out.len : size - 1] = '\0';
    return int(out.len);
}

int ksnprintf(char* buf, size_t size, const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

namespace {
int console_loglevel = kDefaultConsoleLoglevel;
constexpr int kDefaultMessageLevel = 4;
bool printk_time = false;
bool at_line_start = true;  // a stamp goes only where a line begins
}  // namespace

void set_console_loglevel(int level) { console_loglevel = level; }
void set_printk_time(bool on) { printk_time = on; }

void vprintk(const char* fmt, va_list ap) {
    int level = kDefaultMessageLevel;
    if (fmt[0] == KERN_SOH[0] && fmt[1] >= '0' && fmt[1] <= '7') {
        level = fmt[1] - '0';
        fmt += 2;
    }
    if (level >= console_loglevel) return;
    // Formatting into a buffer first keeps each call one write: no half lines interleaved
    // with an interrupt handler's output. Longer lines are cut.
    char line[512];
    size_t stamp = 0;
    if (printk_time && at_line_start) {
        uint64_t us = tsc::hz() ? tsc::ticks_to_ns(cpu::rdtsc()) / 1000 : 0;
        stamp = size_t(ksnprintf(line, sizeof line, "[%5lu.%06lu] ", us / 1'000'000, us % 1'000'000));
    }
    int n = kvsnprintf(line + stamp, sizeof line - stamp, fmt, ap);
    size_t len = stamp + (size_t(n) < sizeof line - stamp ? size_t(n) : sizeof line - stamp - 1);
    if (len > stamp) at_line_start = line[len - 1] == '\n';
    console::serial_write(line, len);
}

void printk(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

}  // namespace pollux
