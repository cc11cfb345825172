// FakeDevice: the device side of one split virtqueue, in plain memory, for the unit tests.
// Device addresses are host pointers (HeapDma). It follows the spec's device rules for
// notification suppression (2.6.7.1, 2.6.10) so the tests can ask "would it interrupt / would
// it want a kick" exactly as QEMU decides.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "drivers/virtio/dma.h"
#include "drivers/virtio/spec.h"
#include "drivers/virtio/virtqueue.h"

namespace pollux::virtio::testing {

class HeapDma final : public Dma {
public:
    ~HeapDma() {
        for (void* p : blocks_) std::free(p);
    }
    void* alloc(size_t bytes, size_t align) override {
        size_t rounded = (bytes + align - 1) / align * align;
        void* p = std::aligned_alloc(align, rounded);
        if (p != nullptr) std::memset(p, 0, rounded);
        blocks_.push_back(p);
        return p;
    }
    uint64_t device_address(const void* p) override { return reinterpret_cast<uintptr_t>(p); }

private:
    std::vector<void*> blocks_;
};

struct Chain {
    uint16_t head;
    std::vector<VirtqDesc> descs;
};

class FakeDevice {
public:
    void attach(const Virtqueue& q, bool event_idx) {
        size_ = q.size();
        desc_ = reinterpret_cast<VirtqDesc*>(q.desc_address());
        avail_ = reinterpret_cast<volatile uint16_t*>(q.avail_address());
        used_ = reinterpret_cast<volatile uint16_t*>(q.used_address());
        event_idx_ = event_idx;
    }
    // Takes the next available chain, if any.
    bool take(Chain* out) {
        if (avail_[1] == last_avail_) return false;
        out->head = avail_[2 + (last_avail_ % size_)];
        out->descs.clear();
        uint16_t i = out->head;
        for (;;) {
            out->descs.push_back(desc_[i]);
            if ((desc_[i].flags & kDescNext) == 0) break;
            i = desc_[i].next;
        }
        ++last_avail_;
        return true;
    }
    // Completes a chain; true when the driver asked for an interrupt for it.
    bool complete(uint16_t head, uint32_t len) {
        auto* ring = reinterpret_cast<volatile VirtqUsedElem*>(used_ + 2);
        uint16_t old_idx = used_[1];
        ring[old_idx % size_].id = head;
        ring[old_idx % size_].len = len;
        used_[1] = uint16_t(old_idx + 1);
        if (event_idx_) return need_event(avail_[2 + size_], uint16_t(old_idx + 1), old_idx);
        return (avail_[0] & kAvailNoInterrupt) == 0;
    }
    // Under EVENT_IDX: ask for a kick at the next available entry (what QEMU does before it
    // stops polling a queue).
    void want_kick() { used_[2 + 4 * size_] = last_avail_; }
    void set_no_notify(bool on) { used_[0] = on ? kUsedNoNotify : 0; }
    uint16_t last_avail() const { return last_avail_; }

private:
    uint16_t size_ = 0;
    VirtqDesc* desc_ = nullptr;
    volatile uint16_t* avail_ = nullptr;
    volatile uint16_t* used_ = nullptr;
    uint16_t last_avail_ = 0;
    bool event_idx_ = false;
};

}  // namespace pollux::virtio::testing
