// UnixDgramSocket: AF_UNIX SOCK_DGRAM and SOCK_SEQPACKET socketpair ends, after
// net/unix/af_unix.c (6.18): unix_dgram_sendmsg(), unix_seqpacket_sendmsg(),
// unix_dgram_recvmsg(), unix_dgram_poll(). The sock, its queue and the locking are
// unix_stream.h's; each queued UnixSkb is one whole datagram. Behaviour measured on Linux
// 6.18 and pinned by tests/conformance/socketpair_dgram.cc: neither type raises SIGPIPE; a
// SEQPACKET peer's close is EOF and EPIPE as on a stream, a DGRAM peer's close is noticed only
// by the next send (ECONNREFUSED, which disconnects and drops what was queued for us).
#include <linux/errno.h>

#include <cstring>

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

bool seqpacket(const UnixSock& sk) { return sk.type == abi::kSOCK_SEQPACKET; }

// unix_dgram_disconnected() after the peer was found dead: we are no longer connected, and
// whatever was queued for us is dropped ("messages are lost").
void disconnect(UnixSock& sk) {
    {
        LockGuard guard(sk.lock);
        sk.state.store(UnixSock::unconnected, std::memory_order_release);
    }
    while (UnixSkb* skb = dequeue(sk)) free_skb(skb);
    sk.peer_wait.wake_up_all(0);
}

}  // namespace

UnixDgramSocket::UnixDgramSocket(UnixSock& sk, int flags) : Socket(FileKind::unix_stream, flags), sk_(sk) {}

kstd::Result<size_t> UnixDgramSocket::sendmsg(IoIter& from, int flags, const SockAddr* to) {
    if ((flags & abi::kMSG_OOB) != 0) return kstd::err(EOPNOTSUPP);
    if (seqpacket(sk_)) {
        // unix_seqpacket_sendmsg(): a pending error, then the connection; a name is ignored.
        if (int error = sock_error(sk_)) return kstd::err(error);
        if (sk_.state.load(std::memory_order_acquire) != UnixSock::connected) return kstd::err(ENOTCONN);
        to = nullptr;
    }
    // unix_find_other() for a destination: no datagram socket can hold a name yet, so the send
    // fails (ECONNREFUSED, ENOENT, EPROTOTYPE, EINVAL), here before the size and room checks
    // that Linux makes first.
    if (to != nullptr && to->len != 0) return kstd::err(unix_find_dgram_peer(*to, sk_.type));
    if (sk_.state.load(std::memory_order_acquire) != UnixSock::connected) return kstd::err(ENOTCONN);
    size_t len = from.remaining();
    if (len > static_cast<size_t>(sk_.sndbuf.load(std::memory_order_relaxed) - 32)) return kstd::err(EMSGSIZE);
    // sock_alloc_send_pskb(): the sender's error, SEND_SHUTDOWN (EPIPE) and room come first.
    if (int error = unix_skb::wait_for_wmem(sk_, (flags & abi::kMSG_DONTWAIT) != 0, false)) return kstd::err(error);
    UnixSkb* skb = alloc_skb(sk_, len, kDgramMaxHead);
    if (skb == nullptr) return kstd::err(ENOMEM);
    if (from.copy_in(skb->data(), len) < len) {
        free_skb(skb);
        return kstd::err(EFAULT);
    }
    UnixSock& other = *sk_.peer;
    other.lock.lock();
    if (other.dead.load(std::memory_order_relaxed)) {
        other.lock.unlock();
        free_skb(skb);
        if (seqpacket(sk_)) return kstd::err(EPIPE);
        disconnect(sk_);
        return kstd::err(ECONNREFUSED);
    }
    if ((other.shutdown.load(std::memory_order_relaxed) & UnixSock::RCV_SHUTDOWN) != 0) {
        other.lock.unlock();
        free_skb(skb);
        return kstd::err(EPIPE);
    }
    // A pair's peer is always connected back to us, so Linux's receive-queue limit
    // (unix_recvq_full(), for senders the receiver is not connected to) never applies.
    kstd::list_add_tail(&skb->node, &other.receive_queue);
    other.qlen.fetch_add(1, std::memory_order_release);
    other.lock.unlock();
    data_ready(other);
    return len;
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
    if (!peek) free_skb(skb);  // a failed copy loses the datagram, as on Linux
    if (copied < size) return kstd::err(EFAULT);
    return (flags & abi::kMSG_TRUNC) != 0 ? whole : size;
}

kstd::Result<void> UnixDgramSocket::shutdown(int how) { return unix_shutdown(sk_, how); }

kstd::Result<void> UnixDgramSocket::getname(SockAddr& out, bool peer) { return unix_getname(sk_, out, peer); }

// unix_listen(): a DGRAM socket has no listen (sock_no_listen); a SEQPACKET one would need a
// name first, and a pair's ends have none. unix_accept() wants a listener.
kstd::Result<void> UnixDgramSocket::listen(int) { return kstd::err(seqpacket(sk_) ? EINVAL : EOPNOTSUPP); }
kstd::Result<FileRef> UnixDgramSocket::accept(int, bool) { return kstd::err(seqpacket(sk_) ? EINVAL : EOPNOTSUPP); }

kstd::Result<void> UnixDgramSocket::setsockopt(int level, int name, const void* val, unsigned len) {
    return unix_setsockopt(sk_, level, name, val, len);
}

kstd::Result<void> UnixDgramSocket::getsockopt(int level, int name, void* val, unsigned* len) {
    return unix_getsockopt(sk_, level, name, val, len);
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
    if (seqpacket(sk_) && sk_.state.load(std::memory_order_acquire) == UnixSock::unconnected) mask |= abi::kEPOLLHUP;
    if (unix_skb::writable(sk_)) mask |= kWritable;
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

void UnixDgramSocket::release() { unix_release_sock(sk_, false); }

}  // namespace pollux
