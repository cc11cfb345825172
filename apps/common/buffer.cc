#include "buffer.h"

#include <string.h>

#include <algorithm>

namespace apps {

void Buffer::consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
}

void Buffer::append(std::string_view bytes) {
    if (bytes.empty()) return;
    memcpy(prepare(bytes.size()), bytes.data(), bytes.size());
    commit(bytes.size());
}

char* Buffer::prepare(size_t n) {
    if (storage_.size() - end_ < n) {
        // Slide the data to the front before growing: a pipelining client keeps a short tail.
        if (begin_ > 0) {
            memmove(storage_.data(), storage_.data() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        if (storage_.size() - end_ < n) storage_.resize(std::max(storage_.size() * 2, end_ + n));
    }
    return storage_.data() + end_;
}

}  // namespace apps
