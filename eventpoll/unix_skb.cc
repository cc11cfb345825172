// UnixSkb accounting and the AF_UNIX wake-ups: see unix_skb.h.
#include "unix_skb.h"

#include <linux/errno.h>

#include <new>

#include "eventpoll/wait_event.h"

namespace pollux::unix_skb {

// Measured with SIOCOUTQ on Linux: 1 byte costs 768. Up to max_head bytes sit in a kmalloc'ed
// head that also holds the 320-byte skb_shared_info and is rounded up to a kmalloc size class
// (512 and up, powers of two), the rest in whole pages, plus the 256-byte sk_buff itself.
uint32_t truesize(size_t size, size_t max_head) {
    auto page_align = [](size_t n) { return (n + 4095) & ~size_t{4095}; };
    size_t data_len = size > max_head ? page_align(size - max_head) : 0;
    if (data_len > size) data_len = size;
    size_t head = ((size - data_len + 63) & ~size_t{63}) + 320;
    size_t slab = 512;
    while (slab < head) slab *= 2;
    return static_cast<uint32_t>(slab + 256 + page_align(data_len));
}

UnixSkb* alloc_skb(UnixSock& sk, size_t size, size_t max_head) {
    void* mem = ::operator new(sizeof(UnixSkb) + size, std::nothrow);
    if (mem == nullptr) return nullptr;
    UnixSkb* skb = new (mem) UnixSkb(sk, static_cast<uint32_t>(size), truesize(size, max_head));
    sk.wmem_alloc.fetch_add(skb->truesize, std::memory_order_relaxed);
    return skb;
}

bool writable(const UnixSock& sk) {
    return sk.wmem_alloc.load(std::memory_order_acquire) * 4 <= sk.sndbuf.load(std::memory_order_relaxed);
}

// The wakers below always take the queue's lock, where Linux first peeks without it
// (skwq_has_sleeper()): wait_event() has no barrier between queueing and testing that would
// make the peek safe, and the lock orders the state change before any later test.

void write_space(UnixSock& sk) {
    if (writable(sk)) sk.wq.wake_up(kWritable, 1, 1);
}

void data_ready(UnixSock& sk) { sk.wq.wake_up(kReadable | abi::kEPOLLPRI | abi::kEPOLLRDBAND, 1, 1); }

// Shutdown and close wake everyone with a null key.
void state_change(UnixSock& sk) { sk.wq.wake_up_all(0); }

void free_skb(UnixSkb* skb) {
    UnixSock& owner = *skb->owner;
    uint32_t size = skb->truesize;
    bool pinned = skb->pinned;
    skb->~UnixSkb();
    ::operator delete(skb);
    owner.wmem_alloc.fetch_sub(size, std::memory_order_acq_rel);
    write_space(owner);
    if (pinned) owner.owner->put();
}

int sock_error(UnixSock& sk) {
    if (sk.err.load(std::memory_order_relaxed) == 0) return 0;
    return sk.err.exchange(0, std::memory_order_acq_rel);
}

UnixSkb* queue_head(UnixSock& sk) {
    return sk.receive_queue.empty() ? nullptr : UnixSkb::from(sk.receive_queue.next);
}

UnixSkb* queue_next(UnixSock& sk, UnixSkb* skb) {
    return skb->node.next == &sk.receive_queue ? nullptr : UnixSkb::from(skb->node.next);
}

UnixSkb* dequeue(UnixSock& sk) {
    LockGuard guard(sk.lock);
    UnixSkb* skb = queue_head(sk);
    if (skb != nullptr) {
        kstd::list_del_init(&skb->node);
        sk.qlen.fetch_sub(1, std::memory_order_release);
    }
    return skb;
}

int wait_for_wmem(UnixSock& sk, bool nonblock, bool may_interrupt) {
    auto room = [&sk] { return sk.wmem_alloc.load(std::memory_order_acquire) - 1 < sk.sndbuf.load(std::memory_order_relaxed); };
    bool interrupted = false;
    for (;;) {
        if (int error = sock_error(sk)) return error;
        if ((sk.shutdown.load(std::memory_order_acquire) & UnixSock::SEND_SHUTDOWN) != 0) return EPIPE;
        if (room()) return 0;
        if (nonblock) return EAGAIN;
        if (interrupted) return may_interrupt ? EINTR : abi::kERESTARTSYS;
        // sock_wait_for_wmem(): room, shutdown or an error ends the wait.
        int waited = wait_event(sk.wq, [&] {
            return room() || (sk.shutdown.load(std::memory_order_acquire) & UnixSock::SEND_SHUTDOWN) != 0 ||
                   sk.err.load(std::memory_order_acquire) != 0;
        }, 0);
        interrupted = waited == -EINTR;
    }
}

}  // namespace pollux::unix_skb
