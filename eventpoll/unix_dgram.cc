// UnixDgramSocket: AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET sockets (socketpair ends and named
// ones), after net/unix/af_unix.c (6.18): unix_dgram_sendmsg(), unix_seqpacket_sendmsg(),
// unix_dgram_recvmsg(), unix_dgram_poll(), unix_dgram_connect(). The sock, its queue and the
// locking are unix_stream.h's; each queued UnixSkb is one whole datagram. Behaviour measured on
// Linux 6.18 and pinned by tests/conformance/socketpair_dgram.cc and unix_named_dgram.cc:
// neither type raises SIGPIPE; a SEQPACKET peer's close is EOF and EPIPE as on a stream, a
// DGRAM peer's close is noticed only by the next send (ECONNREFUSED, which disconnects and
// drops what was queued for us).
#include <linux/errno.h>

#include <atomic>
#include <cstring>
#include <new>

#include "eventpoll/unix_stream.h"
#include "eventpoll/wait_event.h"
#include "unix_skb.h"

namespace pollux {

using unix_skb::alloc_skb;
using unix_skb::data_ready;
using unix_skb::dequeue;
using unix_skb::free_skb;
using unix_skb::kDgramMaxHead;
using unix_skb::kReadable;
using unix_skb::kWritable;
using unix_skb::queue_head;
using unix_skb::queue_next;
using unix_skb::sock_error;
using unix_skb::UnixSkb;

namespace {

// net.unix.max_dgram_qlen's default: a DGRAM receiver's queue limit (sk_max_ack_backlog).
constexpr uint32_t kMaxDgramQlen = 10;

bool seqpacket(const UnixSock& sk) { return sk.type == abi::kSOCK_SEQPACKET; }

// Points sk at new_peer (null: unconnected), holding the reference `pinned` says was taken for
// it, and lets go of the old peer as unix_dgram_connect() does: unix_dgram_disconnected()
// drops what was queued for us ("messages are lost") and, if the old peer was connected back
// to us and lives, tells it with ECONNRESET.
void set_peer(UnixSock& sk, UnixSock* new_peer, bool pinned) {
    UnixSock* old = nullptr;
    bool old_pinned = false;
    {
        LockGuard guard(sk.lock);
        if (sk.state.load(std::memory_order_relaxed) == UnixSock::connected) {
            old = sk.peer;
            old_pinned = sk.peer_pinned;
        }
        // Stored atomically: full_one_way_peer() reads another sock's peer without its lock.
        std::atomic_ref<UnixSock*>(sk.peer).store(new_peer, std::memory_order_relaxed);
        sk.peer_pinned = new_peer != nullptr && pinned;
        sk.state.store(new_peer != nullptr ? UnixSock::connected : UnixSock::unconnected, std::memory_order_release);
    }
    if (old != nullptr && old != new_peer) {
        unix_dgram_peer_wake_disconnect(sk, *old, true);
        if (sk.qlen.load(std::memory_order_acquire) != 0) {
            while (UnixSkb* skb = dequeue(sk)) free_skb(skb);
            sk.peer_wait.wake_up_all(0);
            bool reset = false;
            {
                LockGuard guard(old->lock);
                reset = !old->dead.load(std::memory_order_relaxed) &&
                        old->state.load(std::memory_order_relaxed) == UnixSock::connected && old->peer == &sk;
                if (reset) old->err.store(ECONNRESET, std::memory_order_release);
            }
            if (reset) old->wq.wake_up_all(abi::kEPOLLERR);  // sk_error_report()
        }
    }
    if (old_pinned && old != nullptr) old->owner->put();
}

// The peer a connected send goes to, with a reference on its pair if it is another pair's.
UnixSock* connected_peer(UnixSock& sk, bool& ref) {
    LockGuard guard(sk.lock);
    if (sk.state.load(std::memory_order_relaxed) != UnixSock::connected) return nullptr;
    ref = sk.peer_pinned;
    if (ref) sk.peer->owner->get();
    return sk.peer;
}

// unix_may_send(): a socket connected to a third party takes datagrams from nobody else.
bool may_send(const UnixSock& sk, const UnixSock& other) REQUIRES(other.lock) {
    return other.state.load(std::memory_order_relaxed) != UnixSock::connected || other.peer == &sk;
}

// unix_recvq_full(): more than max_dgram_qlen datagrams queued.
bool recvq_full(const UnixSock& other) { return other.qlen.load(std::memory_order_acquire) > kMaxDgramQlen; }

// unix_dgram_peer_wake_relay(): runs under the target's peer_wait.lock when the target's
// reader makes room (or the target goes away); takes the entry off and passes the wake-up on.
// (The walk of target->peer_wait that calls it holds the queue's lock.)
int peer_wake_relay(WaitQueueEntry& entry, unsigned, int, PollMask key) NO_THREAD_SAFETY_ANALYSIS {
    auto* sk = static_cast<UnixSock*>(entry.private_data);
    UnixSock* target = sk->peer_wake_target.load(std::memory_order_relaxed);
    target->peer_wait.remove_locked(entry);
    sk->peer_wake_target.store(nullptr, std::memory_order_relaxed);
    sk->wq.wake_up(key, 0);
    return 0;
}

// unix_dgram_peer_wake_connect(): queues sk's entry on other's peer_wait unless it is queued
// already; true if this call queued it.
bool peer_wake_connect(UnixSock& sk, UnixSock& other) {
    LockGuard guard(other.peer_wait.lock);
    if (sk.peer_wake_target.load(std::memory_order_relaxed) != nullptr) return false;
    sk.peer_wake_target.store(&other, std::memory_order_relaxed);
    other.peer_wait.add_locked(sk.peer_wake);
    return true;
}

// unix_dgram_peer_wake_me(): with sk connected to other, whose queue is full, true (not
// writable) with sk's entry left on other's queue for the wake-up that makes it writable; false
// if other has room after all, or is dead (the next send must find out, with ECONNREFUSED).
bool peer_wake_me(UnixSock& sk, UnixSock& other) {
    bool queued = peer_wake_connect(sk, other);
    if (recvq_full(other) && !other.dead.load(std::memory_order_acquire)) return true;
    if (queued) unix_dgram_peer_wake_disconnect(sk, other, false);
    return false;
}

// The connected peer, if another sock is connected to it without being its peer in turn and
// its queue is full: the case where a sender must wait for that receiver's reads.
UnixSock* full_one_way_peer(UnixSock& sk) REQUIRES(sk.lock) {
    if (sk.state.load(std::memory_order_relaxed) != UnixSock::connected) return nullptr;
    UnixSock* other = sk.peer;
    // other's peer without other's lock, as unix_peer(other) is read: two socks connected to
    // each other would take each other's locks in the opposite order.
    if (other == &sk || std::atomic_ref<UnixSock*>(other->peer).load(std::memory_order_relaxed) == &sk ||
        !recvq_full(*other))
        return nullptr;
    return other;
}

}  // namespace

void unix_dgram_peer_wake_disconnect(UnixSock& sk, UnixSock& other, bool wakeup) {
    {
        LockGuard guard(other.peer_wait.lock);
        if (sk.peer_wake_target.load(std::memory_order_relaxed) == &other) {
            other.peer_wait.remove_locked(sk.peer_wake);
            sk.peer_wake_target.store(nullptr, std::memory_order_relaxed);
        }
    }
    if (wakeup) sk.wq.wake_up(kWritable, 0);
}

UnixDgramSocket::UnixDgramSocket(UnixSock& sk, int flags) : UnixSocket(sk, flags) {
    sk.peer_wake.func = peer_wake_relay;
    sk.peer_wake.private_data = &sk;
}

// unix_dgram_sendmsg() (and unix_seqpacket_sendmsg() before it). Never a SIGPIPE.
kstd::Result<size_t> UnixDgramSocket::sendmsg(IoIter& from, int flags, const SockAddr* to) {
    if ((flags & abi::kMSG_OOB) != 0) return kstd::err(EOPNOTSUPP);
    if (seqpacket(sk_)) {
        // unix_seqpacket_sendmsg(): a pending error, then the connection; a name is ignored.
        if (int error = sock_error(sk_)) return kstd::err(error);
        if (sk_.state.load(std::memory_order_acquire) != UnixSock::connected) return kstd::err(ENOTCONN);
        to = nullptr;
    }
    bool named = to != nullptr && to->len != 0;
    UnixSock* other = nullptr;
    bool ref = false;  // a reference on other's pair to drop
    if (named) {
        if (int error = unix_find_bound(*to, sk_.type, &other)) return kstd::err(error);
        ref = true;
    } else {
        other = connected_peer(sk_, ref);
        if (other == nullptr) return kstd::err(ENOTCONN);
    }
    kstd::Result<size_t> result = send_to(*other, from, flags);
    if (ref) other->owner->put();
    return result;
}

kstd::Result<size_t> UnixDgramSocket::send_to(UnixSock& other, IoIter& from, int flags) {
    bool nonblock = (flags & abi::kMSG_DONTWAIT) != 0;
    size_t len = from.remaining();
    if (len > static_cast<size_t>(sk_.sndbuf.load(std::memory_order_relaxed) - 32)) return kstd::err(EMSGSIZE);
    // sock_alloc_send_pskb(): the sender's error, SEND_SHUTDOWN (EPIPE) and room come first.
    if (int error = unix_skb::wait_for_wmem(sk_, nonblock, false)) return kstd::err(error);
    UnixSkb* skb = alloc_skb(sk_, len, kDgramMaxHead);
    if (skb == nullptr) return kstd::err(ENOMEM);
    if (from.copy_in(skb->data(), len) < len) {
        free_skb(skb);
        return kstd::err(EFAULT);
    }
    for (;;) {
        other.lock.lock();
        int error = 0;
        bool wait = false, full = false;
        if (other.dead.load(std::memory_order_relaxed)) {
            error = seqpacket(sk_) ? EPIPE : ECONNREFUSED;
        } else if ((other.shutdown.load(std::memory_order_relaxed) & UnixSock::RCV_SHUTDOWN) != 0) {
            error = EPIPE;
        } else if (!seqpacket(sk_) && !may_send(sk_, other)) {
            error = EPERM;
        } else if (&other != &sk_ && other.peer != &sk_ && recvq_full(other)) {
            // A receiver not connected back to us takes max_dgram_qlen datagrams at a time.
            error = nonblock ? EAGAIN : 0;
            wait = !nonblock;
            full = true;
        } else {
            if (other.owner != sk_.owner) {
                sk_.owner->get();
                skb->pinned = true;
            }
            kstd::list_add_tail(&skb->node, &other.receive_queue);
            other.qlen.fetch_add(1, std::memory_order_release);
        }
        other.lock.unlock();
        if (!wait && error == 0) {
            data_ready(other);
            return len;
        }
        if (!wait) {
            if (full && other_is_peer(other) && !peer_wake_me(sk_, other)) continue;  // room meanwhile
            free_skb(skb);
            // The peer we were connected to is gone for good: unconnected from here.
            if (error == ECONNREFUSED && other_is_peer(other)) set_peer(sk_, nullptr, false);
            return kstd::err(error);
        }
        // unix_wait_for_peer(): room, or a receiver that is gone or shut down.
        int waited = wait_event(other.peer_wait, [&other] {
            return !recvq_full(other) || other.dead.load(std::memory_order_acquire) ||
                   (other.shutdown.load(std::memory_order_acquire) & UnixSock::RCV_SHUTDOWN) != 0;
        }, 0);
        if (waited == -EINTR) {
            free_skb(skb);
            return kstd::err(abi::kERESTARTSYS);
        }
    }
}

bool UnixDgramSocket::other_is_peer(const UnixSock& other) {
    LockGuard guard(sk_.lock);
    return sk_.state.load(std::memory_order_relaxed) == UnixSock::connected && sk_.peer == &other;
}

// unix_dgram_recvmsg() over __skb_recv_datagram(): one datagram per call, MSG_TRUNC in
// msg_flags when the buffer was short (and its full length returned for a MSG_TRUNC call).
kstd::Result<size_t> UnixDgramSocket::recvmsg(IoIter& to, int flags, SockAddr* from, int* msg_flags) {
    if ((flags & abi::kMSG_OOB) != 0) return kstd::err(EOPNOTSUPP);
    bool peek = (flags & abi::kMSG_PEEK) != 0;
    UnixSkb* skb = nullptr;
    for (;;) {
        // __skb_try_recv_datagram(): a pending error comes before any queued datagram.
        if (int error = sock_error(sk_)) return kstd::err(error);
        // The iolock keeps a peeked head queued (no other reader frees it) until copied.
        sk_.iolock.lock();
        {
            LockGuard guard(sk_.lock);
            skb = queue_head(sk_);
            if (skb != nullptr && !peek) {
                kstd::list_del_init(&skb->node);
                sk_.qlen.fetch_sub(1, std::memory_order_release);
            }
        }
        if (skb != nullptr) break;
        sk_.iolock.unlock();
        if (int error = sock_error(sk_)) return kstd::err(error);  // one that came meanwhile
        bool shut = (sk_.shutdown.load(std::memory_order_acquire) & UnixSock::RCV_SHUTDOWN) != 0;
        if ((flags & abi::kMSG_DONTWAIT) != 0) {
            // Only SEQPACKET turns a shut, empty queue into EOF without waiting.
            if (shut && seqpacket(sk_)) return size_t{0};
            return kstd::err(EAGAIN);
        }
        if (shut) return size_t{0};  // __skb_wait_for_more_packets(): shut down is EOF
        int waited = wait_event(sk_.wq, [this] {
            return sk_.qlen.load(std::memory_order_acquire) != 0 || sk_.err.load(std::memory_order_acquire) != 0 ||
                   (sk_.shutdown.load(std::memory_order_acquire) & UnixSock::RCV_SHUTDOWN) != 0;
        }, 0);
        if (waited == -EINTR) return kstd::err(abi::kERESTARTSYS);
    }
    if (from != nullptr) {
        // The sender's name if it has one (unix_copy_addr()); a pair's ends have none.
        unsigned len = skb->owner->addr_len.load(std::memory_order_acquire);
        std::memcpy(from->data, skb->owner->addr.bytes, len);
        from->len = len;
    }
    size_t size = to.remaining();
    if (size >= skb->len) size = skb->len;
    else *msg_flags |= abi::kMSG_TRUNC;
    size_t copied = to.copy_out(skb->data(), size);
    size_t whole = skb->len;
    sk_.iolock.unlock();
    if (!peek) {
        free_skb(skb);  // a failed copy loses the datagram, as on Linux
        // Senders waiting for room in our queue (named DGRAM only: a pair's peer never waits
        // there). The fence orders the dequeue before the peek, as waitqueue_active() wants;
        // a sender queues itself before it tests the queue's length.
        std::atomic_thread_fence(std::memory_order_seq_cst);
        if (sk_.peer_wait.active()) sk_.peer_wait.wake_up_all(kWritable);
    }
    if (copied < size) return kstd::err(EFAULT);
    return (flags & abi::kMSG_TRUNC) != 0 ? whole : size;
}

// unix_dgram_connect() for DGRAM (AF_UNSPEC disconnects), unix_stream_connect() for SEQPACKET.
kstd::Result<void> UnixDgramSocket::connect(const SockAddr& addr, bool nonblock) {
    if (seqpacket(sk_)) return unix_stream_connect(sk_, addr, nonblock);
    uint16_t family = abi::kAF_UNIX;
    if (addr.len >= sizeof(family)) std::memcpy(&family, addr.data, sizeof(family));
    if (addr.len >= sizeof(family) && family == abi::kAF_UNSPEC) {
        set_peer(sk_, nullptr, false);
        return {};
    }
    UnixSock* other = nullptr;
    if (int error = unix_find_bound(addr, sk_.type, &other)) return kstd::err(error);
    int error = 0;
    {
        LockGuard guard(other->lock);
        if (other->dead.load(std::memory_order_relaxed)) error = ECONNREFUSED;
        else if (!may_send(sk_, *other)) error = EPERM;
    }
    if (error != 0) {
        other->owner->put();
        return kstd::err(error);
    }
    set_peer(sk_, other, true);  // the reference unix_find_bound() took is the peer's pin
    return {};
}

// unix_dgram_poll().
PollMask UnixDgramSocket::poll(PollTable* pt) {
    poll_wait(*this, sk_.wq, pt);
    uint8_t shutdown = sk_.shutdown.load(std::memory_order_acquire);
    PollMask mask = 0;
    if (sk_.err.load(std::memory_order_acquire) != 0) mask |= abi::kEPOLLERR;
    if ((shutdown & UnixSock::RCV_SHUTDOWN) != 0) mask |= abi::kEPOLLRDHUP | kReadable;
    if (shutdown == UnixSock::SHUTDOWN_MASK) mask |= abi::kEPOLLHUP;
    if (sk_.qlen.load(std::memory_order_acquire) != 0) mask |= kReadable;
    uint8_t state = sk_.state.load(std::memory_order_acquire);
    if (seqpacket(sk_) && state == UnixSock::unconnected) mask |= abi::kEPOLLHUP;
    // A SEQPACKET listener's pending connections are readable; a listener is never writable.
    if (state == UnixSock::listening) return sk_.accept_len.load(std::memory_order_acquire) != 0 ? mask | kReadable : mask;
    if ((pt == nullptr || (pt->key & kWritable) != 0) && unix_skb::writable(sk_)) {
        // Not writable while our peer, not connected back to us, has a full queue; then our
        // entry waits on its peer_wait for the read that makes room (unix_dgram_peer_wake_me).
        UnixSock* full_peer = nullptr;
        {
            LockGuard guard(sk_.lock);
            full_peer = full_one_way_peer(sk_);
            // Under our lock the peer cannot change, and the pin keeps it alive.
            if (full_peer != nullptr && !peer_wake_me(sk_, *full_peer)) full_peer = nullptr;
        }
        if (full_peer == nullptr) mask |= kWritable;
    }
    return mask;
}

// unix_ioctl(): SIOCINQ is the next datagram's length for DGRAM (unix_inq_len()), every
// queued byte for SEQPACKET; SIOCOUTQ what we have in flight.
kstd::Result<long> UnixDgramSocket::ioctl(unsigned long cmd, uintptr_t arg) {
    constexpr unsigned long kSIOCOUTQ = 0x5411;
    long amount = 0;
    if (cmd == abi::kFIONREAD) {
        LockGuard guard(sk_.lock);
        for (UnixSkb* skb = queue_head(sk_); skb != nullptr; skb = queue_next(sk_, skb)) {
            amount += skb->len;
            if (!seqpacket(sk_)) break;
        }
    } else if (cmd == kSIOCOUTQ) {
        amount = sk_.wmem_alloc.load(std::memory_order_acquire) - 1;
    } else {
        return File::ioctl(cmd, arg);
    }
    if (arg == 0) return kstd::err(EFAULT);
    int value = static_cast<int>(amount);
    std::memcpy(reinterpret_cast<void*>(arg), &value, sizeof(value));
    return 0L;
}

}  // namespace pollux
