// VirtioNet: the receive side, the interrupt and the NAPI poll.
#include "drivers/virtio/virtio_net.h"
#include "virtio_net_slots.h"

namespace pollux::virtio {

namespace {

constexpr uint32_t kEthHeader = 14;

}  // namespace

bool VirtioNet::interrupt() {
    // On a shared line the ISR read is what lowers it (4.1.4.5.1); with MSI-X there is nothing
    // to acknowledge and reading it would only cost an exit.
    if (isr_ack_ && transport_.ack_interrupt() == 0) return false;
    napi_.schedule();
    return true;
}

void VirtioNet::napi_irq(net::Napi& napi, bool enable) {
    auto* dev = static_cast<VirtioNet*>(napi.owner());
    if (enable) {
        dev->rx_.enable_interrupts();  // the poll re-checks the ring after complete()
    } else {
        dev->rx_.disable_interrupts();
    }
}

int VirtioNet::napi_poll(net::Napi& napi, int budget) {
    auto* dev = static_cast<VirtioNet*>(napi.owner());
    napi.polls.fetch_add(1, std::memory_order_relaxed);
    dev->reclaim_tx();
    int done = dev->receive_burst(budget);
    dev->refill_rx();
    if (done < budget) {
        napi.complete();
        // enable_interrupts() ended in a full barrier, so this read sees any entry the device
        // added before it could see the re-enable; such an entry raises no interrupt.
        if (dev->rx_.has_used()) napi.schedule();
    }
    return done;
}

void VirtioNet::post_rx(RxSlot* slot) {
    Virtqueue::Buffer b{slot->addr, kBufferBytes, true};
    rx_.add(&b, 1, slot);  // cannot fail: the ring has a descriptor for every slot
    rx_posted_.fetch_add(1, std::memory_order_relaxed);
}

void VirtioNet::refill_rx() {
    RxSlot* slot = returned_.exchange(nullptr, std::memory_order_acquire);
    while (slot != nullptr) {
        RxSlot* next = slot->next_returned;
        post_rx(slot);
        slot = next;
    }
    if (rx_.kick_prepare()) transport_.notify(kNetQueueRx);
}

void VirtioNet::rx_release(net::RxBuf* buf) {
    auto* slot = static_cast<RxSlot*>(buf->driver_private);
    VirtioNet* dev = slot->dev;
    RxSlot* head = dev->returned_.load(std::memory_order_relaxed);
    do {
        slot->next_returned = head;
    } while (!dev->returned_.compare_exchange_weak(head, slot, std::memory_order_release, std::memory_order_relaxed));
    // An empty ring raises no interrupt, so nothing would ever repost this buffer: poll now.
    if (dev->rx_posted_.load(std::memory_order_acquire) == 0) dev->napi_.schedule();
}

// Every completion counts against the budget, dropped or delivered.
int VirtioNet::receive_burst(int budget) {
    net::RxSink* sink = sink_.load(std::memory_order_acquire);
    bool merged = (features_ & feature(kNetFeatMrgRxbuf)) != 0;
    int done = 0;
    while (done < budget) {
        uint32_t len = 0;
        auto* slot = static_cast<RxSlot*>(rx_.pop_used(&len));
        if (slot == nullptr) break;
        rx_posted_.fetch_sub(1, std::memory_order_relaxed);
        ++done;
        const auto* hdr = reinterpret_cast<const VirtioNetHdr*>(slot->mem);
        bool rest_of_merged = rx_skip_ > 0;
        if (rest_of_merged) {
            --rx_skip_;
        } else if (merged && hdr->num_buffers > 1) {
            rx_skip_ = uint32_t(hdr->num_buffers - 1);
        }
        if (rest_of_merged || (merged && hdr->num_buffers > 1) || sink == nullptr ||
            len < header_bytes_ + kEthHeader || len > kBufferBytes) {
            if (!rest_of_merged) live_.rx_dropped.fetch_add(1, std::memory_order_relaxed);
            post_rx(slot);
            continue;
        }
        slot->buf.data = slot->mem + header_bytes_;
        slot->buf.len = len - header_bytes_;
        slot->buf.napi_id = napi_.id();
        // Below a quarter of the ring posted, the stack copies the frame and gives the buffer
        // straight back (RxBuf::copy_now, as the TAP and DPDK pools do). Otherwise socket
        // queues can hold every buffer (a TCP window is more segments than the ring): an app
        // that stops reading until it may write then waits for an ACK no empty ring receives.
        slot->buf.copy_now = rx_posted_.load(std::memory_order_relaxed) < uint32_t(rx_.size()) / 4;
        live_.rx_packets.fetch_add(1, std::memory_order_relaxed);
        live_.rx_bytes.fetch_add(slot->buf.len, std::memory_order_relaxed);
        sink->receive(&slot->buf);
    }
    return done;
}

}  // namespace pollux::virtio
