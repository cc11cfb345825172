// A byte queue for a connection's input or output: append at the end, consume from the front,
// and hand the free tail to read() without zero-filling it.
#pragma once

#include <stddef.h>

#include <string_view>
#include <vector>

namespace apps {

class Buffer {
public:
    std::string_view view() const { return {storage_.data() + begin_, end_ - begin_}; }
    size_t size() const { return end_ - begin_; }
    bool empty() const { return begin_ == end_; }

    void consume(size_t n);
    void clear() { begin_ = end_ = 0; }
    void append(std::string_view bytes);
    // At least n writable bytes after the data; commit(k) makes the first k of them data.
    char* prepare(size_t n);
    void commit(size_t n) { end_ += n; }

private:
    std::vector<char> storage_;
    size_t begin_ = 0;
    size_t end_ = 0;
};

}  // namespace apps
