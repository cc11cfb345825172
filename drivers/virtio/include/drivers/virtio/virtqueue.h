// Virtqueue: one split virtqueue (virtio 1.1, 2.6), transport-neutral.
//
// Memory: one Dma allocation holds the descriptor table, the available ring (with used_event)
// and, from the next 4 KiB boundary, the used ring (with avail_event): the legacy layout
// (2.6.2), so the same queue also serves a legacy transport. The per-descriptor tokens follow.
//
// Ownership: free descriptors are chained through their `next` fields from free_head_; a chain
// is the driver's from pop_used() back to the free list, the device's between add() and its
// used entry. Shadow indices (avail_idx_, last_used_) are the driver's own; the shared ones are
// read and written through volatile pointers with the barriers of barriers.h.
//
// Locking: none. One caller at a time (the stack's lock or the NAPI poll); the interrupt side
// only calls disable_interrupts(), which touches avail->flags / used_event and nothing else.
#pragma once

#include <cstdint>

#include "drivers/virtio/dma.h"
#include "drivers/virtio/spec.h"

namespace pollux::virtio {

class Virtqueue {
public:
    struct Buffer {
        uint64_t addr;  // device address
        uint32_t len;
        bool device_writes;
    };

    // size: a power of two the device accepts. False when memory is short.
    bool init(Dma& dma, uint16_t index, uint16_t size, bool event_idx);

    uint16_t index() const { return index_; }
    uint16_t size() const { return size_; }
    uint16_t free_descriptors() const { return num_free_; }
    uint64_t desc_address() const { return desc_addr_; }
    uint64_t avail_address() const { return desc_addr_ + avail_offset_; }
    uint64_t used_address() const { return desc_addr_ + used_offset_; }

    // Chains the buffers (the device reads all `device_writes == false` ones before any it
    // writes, 2.6.4.2) and makes the chain available. token (non-null) comes back from
    // pop_used(). False, with nothing changed, when fewer than `count` descriptors are free.
    bool add(const Buffer* buffers, int count, void* token);
    // After a batch of add()s: whether the device asked to be notified about it (2.6.10).
    // Counts the batch as notified either way.
    bool kick_prepare();

    // The next completed chain's token and the bytes the device wrote, or null.
    void* pop_used(uint32_t* len);
    bool has_used() const;

    // Asks the device not to interrupt: avail->flags, or under EVENT_IDX a used_event half the
    // index space away.
    void disable_interrupts();
    // Asks for an interrupt at the next used entry; true when entries arrived before the
    // request was visible (the caller must poll again: no interrupt will come for them).
    bool enable_interrupts();

private:
    volatile uint16_t* avail_flags() const { return avail_; }
    volatile uint16_t* avail_idx() const { return avail_ + 1; }
    volatile uint16_t* avail_ring() const { return avail_ + 2; }
    volatile uint16_t* used_event() const { return avail_ + 2 + size_; }
    volatile uint16_t* used_flags() const { return reinterpret_cast<volatile uint16_t*>(used_); }
    volatile uint16_t* used_idx() const { return reinterpret_cast<volatile uint16_t*>(used_) + 1; }
    volatile VirtqUsedElem* used_ring() const { return reinterpret_cast<volatile VirtqUsedElem*>(used_ + 4); }
    volatile uint16_t* avail_event() const {
        return reinterpret_cast<volatile uint16_t*>(used_ + 4 + 8 * uint32_t{size_});
    }

    VirtqDesc* desc_ = nullptr;
    volatile uint16_t* avail_ = nullptr;
    volatile uint8_t* used_ = nullptr;
    void** tokens_ = nullptr;
    uint64_t desc_addr_ = 0;
    uint32_t avail_offset_ = 0, used_offset_ = 0;
    uint16_t index_ = 0, size_ = 0;
    uint16_t free_head_ = 0, num_free_ = 0;
    uint16_t avail_idx_ = 0;     // shadow of avail->idx
    uint16_t kicked_idx_ = 0;    // avail_idx_ at the last kick_prepare()
    uint16_t last_used_ = 0;     // next used entry to consume
    bool event_idx_ = false;
};

}  // namespace pollux::virtio
