// What AF_UNIX stream and datagram sockets share: the queued chunk (UnixSkb), its accounting
// against the sender's send buffer, and the wake-ups, after net/core/sock.c and skbuff.c.
// Internal to eventpoll/unix_*.cc; the locking is unix_stream.h's.
#pragma once

#include <cstddef>
#include <cstdint>

#include "eventpoll/unix_stream.h"

namespace pollux::unix_skb {

inline constexpr PollMask kReadable = abi::kEPOLLIN | abi::kEPOLLRDNORM;
inline constexpr PollMask kWritable = abi::kEPOLLOUT | abi::kEPOLLWRNORM | abi::kEPOLLWRBAND;

// Linear head limits of the skbs Linux allocates: a stream chunk's head is at most
// SKB_MAX_HEAD(0), a datagram's SKB_MAX_ALLOC (the rest of each goes in whole pages).
inline constexpr size_t kStreamMaxHead = 3776;
inline constexpr size_t kDgramMaxHead = 16064;

// One queued chunk (stream) or datagram: payload bytes follow the header.
struct UnixSkb {
    kstd::ListNode node;       // on the receiver's receive_queue
    UnixSock* owner;           // the sender, charged truesize
    uint32_t len;
    uint32_t consumed = 0;     // changed by the iolock holder under the receiver's lock
    uint32_t truesize;
    bool pinned = false;       // queued on another pair's sock: holds a reference on owner's pair

    UnixSkb(UnixSock& sk, uint32_t size, uint32_t charge) : owner(&sk), len(size), truesize(charge) {}
    char* data() { return reinterpret_cast<char*>(this + 1); }
    uint32_t unread() const { return len - consumed; }
    static UnixSkb* from(kstd::ListNode* node) { return kstd::container_of(node, &UnixSkb::node); }
};

// The skb truesize Linux 6.x (x86_64) charges for `size` bytes with heads up to max_head.
uint32_t truesize(size_t size, size_t max_head);
// sock_alloc_send_pskb()'s allocation, charging the sender (skb_set_owner_w()).
UnixSkb* alloc_skb(UnixSock& sk, size_t size, size_t max_head);
// kfree_skb() -> sock_wfree(): uncharges the sender and tells it about the room.
void free_skb(UnixSkb* skb);
// unix_writable(): a quarter of the send buffer, counting the refcount's 1.
bool writable(const UnixSock& sk);
// unix_write_space(), from sock_wfree() and a new SO_SNDBUF: wakes writers while writable.
void write_space(UnixSock& sk);
void data_ready(UnixSock& sk);    // sock_def_readable()
void state_change(UnixSock& sk);  // sock_def_wakeup()
// sock_error(): takes the pending error, if any.
int sock_error(UnixSock& sk);
UnixSkb* queue_head(UnixSock& sk) REQUIRES(sk.lock);
UnixSkb* queue_next(UnixSock& sk, UnixSkb* skb) REQUIRES(sk.lock);
// Unlinks the head skb, if any.
UnixSkb* dequeue(UnixSock& sk);
// sock_alloc_send_pskb()'s checks and wait for room: 0 when a chunk may be allocated, else
// the errno (the pending error, EPIPE once shut for sending, EAGAIN). EINTR when the caller
// has sent something (a signal then ends the call short), else ERESTARTSYS.
int wait_for_wmem(UnixSock& sk, bool nonblock, bool may_interrupt);

}  // namespace pollux::unix_skb
