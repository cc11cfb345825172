// IoIter: walks a caller's iovec array while a file copies data in or out.
//
// Linux copies with copy_to_user()/copy_from_user() and returns EFAULT only when nothing was
// copied; a segment with a null base is our stand-in for an unmapped user address, so
// read(fd, NULL, n) behaves as on Linux: EAGAIN or 0 when there is nothing to copy, EFAULT
// when there is.
#pragma once

#include <cstddef>
#include <cstring>

namespace pollux {

struct IoVec {  // layout of struct iovec
    void* base;
    size_t len;
};

class IoIter {
public:
    IoIter(const IoVec* segs, size_t count) : segs_(segs), count_(count) {
        for (size_t i = 0; i < count; ++i) remaining_ += segs[i].len;
    }

    size_t remaining() const { return remaining_; }
    bool faulted() const { return faulted_; }

    // Copies up to n bytes from src into the caller's buffers; returns bytes copied.
    size_t copy_out(const void* src, size_t n) {
        return walk(n, [&](void* user, size_t done, size_t len) {
            std::memcpy(user, static_cast<const char*>(src) + done, len);
        });
    }
    // Copies up to n bytes from the caller's buffers into dst; returns bytes copied.
    size_t copy_in(void* dst, size_t n) {
        return walk(n, [&](void* user, size_t done, size_t len) {
            std::memcpy(static_cast<char*>(dst) + done, user, len);
        });
    }

    // The next contiguous stretch of the caller's buffers, at most max bytes, without moving past
    // it: lets a protocol copy straight from the caller's memory (tcp_write() copies once).
    // Returns 0 at the end or at a fault (then faulted() is true).
    size_t peek(size_t max, void** ptr) {
        while (seg_ < count_ && segs_[seg_].len == offset_) {
            ++seg_;
            offset_ = 0;
        }
        if (seg_ == count_ || max == 0) return 0;
        const IoVec& seg = segs_[seg_];
        if (seg.base == nullptr) {
            faulted_ = true;
            return 0;
        }
        *ptr = static_cast<char*>(seg.base) + offset_;
        size_t len = seg.len - offset_;
        return len < max ? len : max;
    }
    // Moves past n bytes that peek() handed out.
    void advance(size_t n) {
        offset_ += n;
        remaining_ -= n;
    }

private:
    template <typename Copy>
    size_t walk(size_t n, Copy copy) {
        size_t done = 0;
        while (done < n && seg_ < count_) {
            const IoVec& seg = segs_[seg_];
            size_t len = seg.len - offset_;
            if (len == 0) {
                ++seg_;
                offset_ = 0;
                continue;
            }
            if (seg.base == nullptr) {
                faulted_ = true;
                break;
            }
            if (len > n - done) len = n - done;
            copy(static_cast<char*>(seg.base) + offset_, done, len);
            done += len;
            offset_ += len;
            remaining_ -= len;
        }
        return done;
    }

    const IoVec* segs_;
    size_t count_;
    size_t seg_ = 0;
    size_t offset_ = 0;
    size_t remaining_ = 0;
    bool faulted_ = false;
};

}  // namespace pollux
