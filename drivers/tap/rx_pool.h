// RxPool: the TAP driver's receive buffers, lent to the stack zero-copy.
//
// One allocation holds every buffer; each is an RxSlot header (the RxBuf the stack sees) with
// its data right behind it. The free list is a stack of slot indices.
//
// Locking: `lock_` guards the free list, each slot's `lent` mark and `closed_`. take() runs in
// the device's NAPI poll (one caller at a time); put() is RxBuf::release and may run on any
// thread, at any time, even after the device is gone.
//
// Lifetime: the device owns one reference, each lent buffer another, counted implicitly as
// "closed_ and every slot home": whoever makes that true (close() or the last put()) frees the
// pool. No separate atomic refcount is needed because both facts change under `lock_`.
#pragma once

#include <cstddef>
#include <cstdint>

#include "drivers/net_device.h"
#include "kernel/spin_lock.h"

namespace pollux::tap {

class RxPool {
public:
    // Null when memory is short. `buffer_bytes` is the data room of each buffer.
    static RxPool* create(uint32_t buffers, uint32_t buffer_bytes);

    // A buffer with `data` set and `len` = 0, or null when every buffer is lent out.
    net::RxBuf* take() EXCLUDES(lock_);
    // Gives a buffer back; also the RxBuf::release hook.
    static void put(net::RxBuf* buf);
    // The owner lets go; the memory goes once the last lent buffer is back.
    void close() EXCLUDES(lock_);

    uint32_t buffer_bytes() const { return buffer_bytes_; }
    uint32_t capacity() const { return capacity_; }
    uint32_t free_count() const EXCLUDES(lock_);

    RxPool(const RxPool&) = delete;
    RxPool& operator=(const RxPool&) = delete;

    struct RxSlot;  // the header in front of each buffer's data (rx_pool.cc)

private:
    RxPool(uint32_t buffers, uint32_t buffer_bytes, size_t stride);
    ~RxPool();
    RxSlot* slot(uint32_t index) const;
    void give_back(RxSlot* s) EXCLUDES(lock_);

    const uint32_t capacity_;
    const uint32_t buffer_bytes_;
    const size_t stride_;  // header + data, a multiple of 64 so every data area is line-aligned
    unsigned char* slots_ = nullptr;
    mutable SpinLock lock_;
    uint32_t* free_ PT_GUARDED_BY(lock_) = nullptr;  // indices of the slots at home
    uint32_t nfree_ GUARDED_BY(lock_) = 0;
    bool closed_ GUARDED_BY(lock_) = false;
};

}  // namespace pollux::tap
