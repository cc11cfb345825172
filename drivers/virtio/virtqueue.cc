// Virtqueue: the split ring's driver side. The notification-suppression logic follows the
// spec's pseudo-code (2.6.7.2, 2.6.10.1, 2.6.13) and Linux's virtio_ring.c
// (virtqueue_kick_prepare_split, virtqueue_enable_cb_prepare_split).
#include "drivers/virtio/virtqueue.h"

#include "drivers/virtio/barriers.h"

namespace pollux::virtio {

namespace {

constexpr uint32_t kLegacyAlign = 4096;  // 2.6.2: the used ring starts on its own page

constexpr uint32_t align_up(uint32_t v, uint32_t a) { return (v + a - 1) & ~(a - 1); }

}  // namespace

bool Virtqueue::init(Dma& dma, uint16_t index, uint16_t size, bool event_idx) {
    if (size == 0 || size > kMaxQueueSize || (size & (size - 1)) != 0) return false;
    avail_offset_ = uint32_t{size} * sizeof(VirtqDesc);
    used_offset_ = align_up(avail_offset_ + uint32_t(avail_bytes(size)), kLegacyAlign);
    uint32_t tokens_offset = align_up(used_offset_ + uint32_t(used_bytes(size)), alignof(void*));
    uint32_t total = tokens_offset + uint32_t{size} * uint32_t(sizeof(void*));
    auto* base = static_cast<uint8_t*>(dma.alloc(total, kLegacyAlign));
    if (base == nullptr) return false;
    desc_ = reinterpret_cast<VirtqDesc*>(base);
    avail_ = reinterpret_cast<volatile uint16_t*>(base + avail_offset_);
    used_ = base + used_offset_;
    tokens_ = reinterpret_cast<void**>(base + tokens_offset);
    desc_addr_ = dma.device_address(base);
    index_ = index;
    size_ = size;
    event_idx_ = event_idx;
    for (uint16_t i = 0; i + 1 < size; ++i) desc_[i].next = uint16_t(i + 1);
    free_head_ = 0;
    num_free_ = size;
    avail_idx_ = kicked_idx_ = last_used_ = 0;
    return true;
}

bool Virtqueue::add(const Buffer* buffers, int count, void* token) {
    if (count <= 0 || count > num_free_ || token == nullptr) return false;
    uint16_t head = free_head_, cur = head;
    for (int i = 0; i < count; ++i) {
        VirtqDesc& d = desc_[cur];
        d.addr = buffers[i].addr;
        d.len = buffers[i].len;
        d.flags = uint16_t((buffers[i].device_writes ? kDescWrite : 0) | (i + 1 < count ? kDescNext : 0));
        // A free descriptor's next already names the following free one, so the chain's links
        // are the free list's; only the last one's next is left pointing at the new free head.
        if (i + 1 < count) cur = d.next;
    }
    free_head_ = desc_[cur].next;
    num_free_ = uint16_t(num_free_ - count);
    tokens_[head] = token;
    avail_ring()[avail_idx_ & (size_ - 1)] = head;
    wmb();  // the descriptors and the ring entry before the index that hands them over
    *avail_idx() = ++avail_idx_;
    return true;
}

bool Virtqueue::kick_prepare() {
    // The index store above and the device's avail_event / flags below are a store then a load:
    // without a full barrier we could read a stale avail_event, skip the kick, and the device
    // (which read our old index before going to sleep) would never look again: a stalled queue.
    mb();
    uint16_t old_idx = kicked_idx_, new_idx = avail_idx_;
    kicked_idx_ = new_idx;
    if (old_idx == new_idx) return false;
    if (event_idx_) return need_event(*avail_event(), new_idx, old_idx);
    return (*used_flags() & kUsedNoNotify) == 0;
}

bool Virtqueue::has_used() const { return *used_idx() != last_used_; }

void* Virtqueue::pop_used(uint32_t* len) {
    if (!has_used()) return nullptr;
    rmb();  // the used index before the element it publishes
    volatile VirtqUsedElem& elem = used_ring()[last_used_ & (size_ - 1)];
    uint32_t id = elem.id;
    if (len != nullptr) *len = elem.len;
    if (id >= size_ || tokens_[id] == nullptr) return nullptr;  // a broken device; leave the entry
    ++last_used_;
    void* token = tokens_[id];
    tokens_[id] = nullptr;
    uint16_t tail = uint16_t(id), count = 1;
    while ((desc_[tail].flags & kDescNext) != 0 && count < size_) {
        tail = desc_[tail].next;
        ++count;
    }
    desc_[tail].next = free_head_;
    free_head_ = uint16_t(id);
    num_free_ = uint16_t(num_free_ + count);
    return token;
}

void Virtqueue::disable_interrupts() {
    // Under EVENT_IDX the device ignores the flag (2.6.7), and a used_event it already passed
    // stays passed until the index wraps: half the index space away is the farthest point.
    *avail_flags() = kAvailNoInterrupt;
    if (event_idx_) *used_event() = uint16_t(last_used_ + 0x8000);
}

bool Virtqueue::enable_interrupts() {
    *avail_flags() = 0;
    if (event_idx_) *used_event() = last_used_;
    // The race virtio requires us to close (2.6.7.2): the device may have added entries after
    // our last look and before it could see the request, and then it owes us no interrupt.
    // Store (flags / used_event) then load (used->idx): a full barrier.
    mb();
    return has_used();
}

}  // namespace pollux::virtio
