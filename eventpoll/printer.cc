#include "eventpoll/printer.h"

#include <cstdio>

namespace pollux {

void Printer::print(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    size_t room = length_ < capacity_ ? capacity_ - length_ : 0;
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start() above initialises it; the analyzer loses track
    int n = vsnprintf(room > 0 ? buf_ + length_ : nullptr, room, fmt, args);
    va_end(args);
    if (n > 0) length_ += static_cast<size_t>(n);
}

}  // namespace pollux
