// Printer: appends formatted text to a caller's buffer, truncating safely.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace pollux {

class Printer {
public:
    Printer(char* buf, size_t capacity) : buf_(buf), capacity_(capacity) {
        if (capacity_ > 0) buf_[0] = '\0';
    }
    void print(const char* fmt, ...) __attribute__((format(printf, 2, 3)));
    size_t length() const { return length_; }  // what was (or would have been) written
    bool truncated() const { return length_ >= capacity_; }

private:
    char* buf_;
    size_t capacity_;
    size_t length_ = 0;
};

}  // namespace pollux
