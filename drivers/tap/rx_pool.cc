// RxPool: see rx_pool.h for the locking and lifetime rules.
#include "rx_pool.h"

#include <cstdio>
#include <cstdlib>
#include <new>

namespace pollux::tap {

struct RxPool::RxSlot {
    net::RxBuf rx;  // first: release() gets &rx back and finds the slot by casting
    RxPool* pool;
    uint32_t index;
    bool lent;  // guarded by pool->lock_; catches a second release of one buffer
};

namespace {

constexpr size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

constexpr size_t kLine = 64;
constexpr size_t kHeaderBytes = round_up(sizeof(RxPool::RxSlot), kLine);

}  // namespace

RxPool::RxPool(uint32_t buffers, uint32_t buffer_bytes, size_t stride)
    : capacity_(buffers), buffer_bytes_(buffer_bytes), stride_(stride) {}

RxPool::~RxPool() {
    std::free(slots_);
    delete[] free_;
}

RxPool* RxPool::create(uint32_t buffers, uint32_t buffer_bytes) {
    if (buffers == 0 || buffer_bytes == 0) return nullptr;
    size_t stride = kHeaderBytes + round_up(buffer_bytes, kLine);
    auto* pool = new (std::nothrow) RxPool(buffers, buffer_bytes, stride);
    if (pool == nullptr) return nullptr;
    // Large enough that malloc maps it: pages nobody receives into are never touched.
    pool->slots_ = static_cast<unsigned char*>(std::aligned_alloc(kLine, stride * buffers));
    pool->free_ = new (std::nothrow) uint32_t[buffers];
    if (pool->slots_ == nullptr || pool->free_ == nullptr) {
        delete pool;
        return nullptr;
    }
    LockGuard guard(pool->lock_);
    for (uint32_t i = 0; i < buffers; ++i) {
        auto* s = new (pool->slots_ + i * stride) RxSlot{};
        s->pool = pool;
        s->index = i;
        s->rx.driver_private = s;
        // Highest index first on the stack so the first buffers handed out are the lowest.
        pool->free_[i] = buffers - 1 - i;
    }
    pool->nfree_ = buffers;
    return pool;
}

RxPool::RxSlot* RxPool::slot(uint32_t index) const {
    return std::launder(reinterpret_cast<RxSlot*>(slots_ + index * stride_));
}

net::RxBuf* RxPool::take() {
    RxSlot* s = nullptr;
    bool low;
    {
        LockGuard guard(lock_);
        if (nfree_ == 0) return nullptr;
        s = slot(free_[--nfree_]);
        s->lent = true;
        low = nfree_ < capacity_ / 4;  // under the lock take() holds anyway, not a second one
    }
    // The stack may have written anywhere in the header while it held the buffer.
    s->rx.data = reinterpret_cast<uint8_t*>(s) + kHeaderBytes;
    s->rx.len = 0;
    s->rx.napi_id = 0;
    // Below a quarter of the pool free, the stack is asked to copy the frame and give the buffer
    // straight back (RxBuf::copy_now).
    s->rx.copy_now = low;
    s->rx.release = &RxPool::put;
    s->rx.driver_private = s;
    return &s->rx;
}

void RxPool::put(net::RxBuf* buf) {
    auto* s = reinterpret_cast<RxSlot*>(buf);
    s->pool->give_back(s);
}

void RxPool::give_back(RxSlot* s) {
    bool last = false;
    {
        LockGuard guard(lock_);
        if (!s->lent) {
            // A double release would put one buffer on the free list twice and hand the same
            // memory to two frames later: stop here, where the bug is.
            fprintf(stderr, "pollux-tap: RxBuf %p released twice\n", static_cast<void*>(s));
            abort();
        }
        s->lent = false;
        free_[nfree_++] = s->index;
        last = closed_ && nfree_ == capacity_;
    }
    if (last) delete this;
}

void RxPool::close() {
    bool last = false;
    {
        LockGuard guard(lock_);
        closed_ = true;
        last = nfree_ == capacity_;
    }
    if (last) delete this;
}

uint32_t RxPool::free_count() const {
    LockGuard guard(lock_);
    return nfree_;
}

}  // namespace pollux::tap
