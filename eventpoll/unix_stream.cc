// UnixStreamSocket: see eventpoll/include/eventpoll/unix_stream.h for the model and locking.
// Each function names the net/unix/af_unix.c (or net/socket.c, net/core/sock.c) function
// whose behaviour it copies. Not modelled: SCM rights/credentials, SO_* options (sndbuf is
// wmem_default), and MSG_OOB, which fails as on a kernel built without CONFIG_AF_UNIX_OOB.
#include "eventpoll/unix_stream.h"

#include <linux/errno.h>

#include <cstring>
#include <new>
#include <utility>

#include "eventpoll/fd_table.h"
#include "eventpoll/sys.h"
#include "eventpoll/wait_event.h"
#include "eventpoll/restart.h"
#include "kernel/platform.h"
#include "unix_skb.h"

namespace pollux {

using unix_skb::alloc_skb;
using unix_skb::data_ready;
using unix_skb::dequeue;
using unix_skb::free_skb;
using unix_skb::kReadable;
using unix_skb::kStreamMaxHead;
using unix_skb::kWritable;
using unix_skb::queue_head;
using unix_skb::queue_next;
using unix_skb::sock_error;
using unix_skb::state_change;
using unix_skb::UnixSkb;
using unix_skb::wait_for_wmem;
using unix_skb::writable;

namespace {

using abi::kAF_INET;
using abi::kAF_INET6;
using abi::kAF_NETLINK;
using abi::kAF_PACKET;
using abi::kMSG_OOB;
using abi::kMSG_PEEK;
using abi::kMSG_WAITALL;
using abi::kNPROTO;
using abi::kSOCK_MAX;
using abi::kSOCK_SEQPACKET;
using abi::kSOCK_TYPE_MASK;
constexpr unsigned long kSIOCOUTQ = 0x5411;  // TIOCOUTQ, include/uapi/asm-generic/sockios.h

// unix_stream_sendmsg() caps a chunk at sndbuf/2 - 64 and at SKB_MAX_HEAD(0) + UNIX_SKB_FRAGS_SZ
// (3776 + 32768 on x86_64); with the default send buffer the second cap is the smaller one.
constexpr size_t kMaxSkbPayload = 3776 + 32768;
static_assert(kMaxSkbPayload <= static_cast<size_t>(UnixSock::kSndBuf / 2 - 64));

kstd::Result<size_t> sent_or(size_t sent, int error) {
    if (sent != 0) return sent;
    return kstd::err(error);
}

}  // namespace

UnixStreamPair::UnixStreamPair() {
    for (UnixSock& sk : socks) sk.owner = this;
}

// No file is left to race with. A queued skb is left only on a sock that was never released
// (an embryo freed with its pair); a pinned one is another pair's to uncharge and unpin.
UnixStreamPair::~UnixStreamPair() NO_THREAD_SAFETY_ANALYSIS {
    for (UnixSock& sk : socks) {
        while (!sk.receive_queue.empty()) {
            UnixSkb* skb = UnixSkb::from(sk.receive_queue.next);
            kstd::list_del_init(&skb->node);
            if (skb->pinned) {
                free_skb(skb);
                continue;
            }
            skb->~UnixSkb();
            ::operator delete(skb);
        }
    }
}

// unix_stream_sendmsg().
kstd::Result<size_t> UnixStreamSocket::sendmsg(IoIter& from, int flags, const SockAddr* to) {
    if ((flags & kMSG_OOB) != 0) return kstd::err(EOPNOTSUPP);
    bool connected = sk_.state.load(std::memory_order_acquire) == UnixSock::connected;
    if (to != nullptr && to->len != 0) return kstd::err(connected ? EISCONN : EOPNOTSUPP);
    if (!connected) return kstd::err(ENOTCONN);
    bool nosignal = (flags & abi::kMSG_NOSIGNAL) != 0;
    if ((sk_.shutdown.load(std::memory_order_acquire) & UnixSock::SEND_SHUTDOWN) != 0) {
        if (!nosignal) platform::raise_sigpipe();
        return kstd::err(EPIPE);
    }
    UnixSock& other = *sk_.peer;
    size_t len = from.remaining();
    size_t sent = 0;
    // A smaller SO_SNDBUF makes smaller chunks, so that one always fits.
    size_t cap = static_cast<size_t>(sk_.sndbuf.load(std::memory_order_relaxed) / 2 - 64);
    if (cap > kMaxSkbPayload) cap = kMaxSkbPayload;
    while (sent < len) {
        size_t size = len - sent < cap ? len - sent : cap;
        if (int error = wait_for_wmem(sk_, (flags & abi::kMSG_DONTWAIT) != 0, sent != 0)) return sent_or(sent, error);
        UnixSkb* skb = alloc_skb(sk_, size, kStreamMaxHead);
        if (skb == nullptr) return sent_or(sent, ENOMEM);
        if (from.copy_in(skb->data(), size) < size) {
            free_skb(skb);
            return sent_or(sent, EFAULT);
        }
        other.lock.lock();
        if (other.dead.load(std::memory_order_relaxed) ||
            (other.shutdown.load(std::memory_order_relaxed) & UnixSock::RCV_SHUTDOWN) != 0) {
            other.lock.unlock();
            free_skb(skb);
            if (sent == 0 && !nosignal) platform::raise_sigpipe();
            return sent_or(sent, EPIPE);
        }
        kstd::list_add_tail(&skb->node, &other.receive_queue);
        other.qlen.fetch_add(1, std::memory_order_release);
        other.lock.unlock();
        data_ready(other);
        sent += size;
    }
    return sent;
}

// unix_stream_read_generic() with unix_stream_read_actor(). Returns what was copied; an
// error (or EOF's 0) only when nothing was.
kstd::Result<size_t> UnixStreamSocket::recvmsg(IoIter& to, int flags, SockAddr* from, int* /*msg_flags*/) {
    if ((flags & kMSG_OOB) != 0) return kstd::err(EOPNOTSUPP);
    if (from != nullptr) from->len = 0;  // a stream reports no sender: msg_namelen = 0
    if (sk_.state.load(std::memory_order_acquire) != UnixSock::connected) return kstd::err(EINVAL);
    size_t size = to.remaining();
    // sock_rcvlowat(): SO_RCVLOWAT is 1, MSG_WAITALL wants everything, and never 0 (so an
    // empty recv() on an empty queue waits or fails with EAGAIN, as on Linux).
    size_t target = (flags & kMSG_WAITALL) != 0 && size > 1 ? size : 1;
    size_t copied = 0;
    int error = 0;

    sk_.iolock.lock();
    for (;;) {
        sk_.lock.lock();
        UnixSkb* skb = queue_head(sk_);
        if (skb == nullptr) {
            // "POSIX 1003.1g mandates this order": enough copied, then the error, then EOF.
            bool stop = copied >= target;
            if (!stop) error = sock_error(sk_);
            stop = stop || error != 0 || (sk_.shutdown.load(std::memory_order_relaxed) & UnixSock::RCV_SHUTDOWN) != 0;
            sk_.lock.unlock();
            if (stop) break;
            if ((flags & abi::kMSG_DONTWAIT) != 0) {
                error = EAGAIN;
                break;
            }
            sk_.iolock.unlock();
            // unix_stream_data_wait(); woken readers all look (a non-exclusive wait).
            int waited = wait_event(sk_.wq, [this] {
                return sk_.qlen.load(std::memory_order_acquire) != 0 || sk_.err.load(std::memory_order_acquire) != 0 ||
                       (sk_.shutdown.load(std::memory_order_acquire) & UnixSock::RCV_SHUTDOWN) != 0;
            }, 0);
            // A signal ends a MSG_WAITALL read that has data; with none the call restarts.
            if (waited == -EINTR) return copied != 0 ? kstd::Result<size_t>(copied) : kstd::err(abi::kERESTARTSYS);
            sk_.iolock.lock();
            continue;
        }
        sk_.lock.unlock();

        if ((flags & kMSG_PEEK) != 0) {
            // Copy from successive skbs without consuming; a peek never waits for more.
            while (skb != nullptr && size != 0) {
                size_t chunk = skb->unread() < size ? skb->unread() : size;
                if (to.copy_out(skb->data() + skb->consumed, chunk) < chunk) {
                    if (copied == 0) error = EFAULT;
                    break;
                }
                copied += chunk;
                size -= chunk;
                LockGuard guard(sk_.lock);
                skb = queue_next(sk_, skb);
            }
            break;
        }

        size_t chunk = skb->unread() < size ? skb->unread() : size;
        if (to.copy_out(skb->data() + skb->consumed, chunk) < chunk) {
            if (copied == 0) error = EFAULT;  // the skb stays queued, unconsumed
            break;
        }
        copied += chunk;
        size -= chunk;
        bool used_up;
        {
            LockGuard guard(sk_.lock);
            skb->consumed += static_cast<uint32_t>(chunk);
            used_up = skb->unread() == 0;
            if (used_up) {
                kstd::list_del_init(&skb->node);
                sk_.qlen.fetch_sub(1, std::memory_order_release);
            }
        }
        if (!used_up) break;
        free_skb(skb);
        if (size == 0) break;
    }
    sk_.iolock.unlock();
    if (copied != 0) return copied;
    if (error != 0) return kstd::err(error);
    return size_t{0};
}

// unix_shutdown(): our bits, then, for a connection (not SOCK_DGRAM), the mirrored bits on
// the peer; each side's state change wakes its queue.
kstd::Result<void> unix_shutdown(UnixSock& sk, int how) {
    if (how < abi::kSHUT_RD || how > abi::kSHUT_RDWR) return kstd::err(EINVAL);
    uint8_t mode = static_cast<uint8_t>(how + 1);  // SHUT_RD -> RCV_SHUTDOWN, ...
    {
        LockGuard guard(sk.lock);
        sk.shutdown.fetch_or(mode, std::memory_order_acq_rel);
    }
    state_change(sk);
    // An unconnected socket or a listener has no peer to tell (no ENOTCONN: unix_shutdown()).
    if (sk.state.load(std::memory_order_acquire) != UnixSock::connected || sk.type == abi::kSOCK_DGRAM) return {};
    UnixSock& other = *sk.peer;
    uint8_t peer_mode = 0;
    if ((mode & UnixSock::RCV_SHUTDOWN) != 0) peer_mode |= UnixSock::SEND_SHUTDOWN;
    if ((mode & UnixSock::SEND_SHUTDOWN) != 0) peer_mode |= UnixSock::RCV_SHUTDOWN;
    {
        LockGuard guard(other.lock);
        other.shutdown.fetch_or(peer_mode, std::memory_order_acq_rel);
    }
    state_change(other);
    return {};
}

kstd::Result<void> UnixSocket::shutdown(int how) { return unix_shutdown(sk_, how); }

// unix_poll().
PollMask UnixStreamSocket::poll(PollTable* pt) {
    poll_wait(*this, sk_.wq, pt);
    uint8_t shutdown = sk_.shutdown.load(std::memory_order_acquire);
    PollMask mask = 0;
    if (sk_.err.load(std::memory_order_acquire) != 0) mask |= abi::kEPOLLERR;
    if (shutdown == UnixSock::SHUTDOWN_MASK) mask |= abi::kEPOLLHUP;
    if ((shutdown & UnixSock::RCV_SHUTDOWN) != 0) mask |= abi::kEPOLLRDHUP | kReadable;
    if (sk_.qlen.load(std::memory_order_acquire) != 0) mask |= kReadable;
    uint8_t state = sk_.state.load(std::memory_order_acquire);
    if (state == UnixSock::listening && sk_.accept_len.load(std::memory_order_acquire) != 0) mask |= kReadable;
    // TCP_CLOSE: a socket that never connected (a connected end reaches it only in release).
    if (state == UnixSock::unconnected) mask |= abi::kEPOLLHUP;
    if (state != UnixSock::listening && writable(sk_)) mask |= kWritable;  // a listener never is (6.18, measured)
    return mask;
}

// unix_getname(): the bound name, or just the family when unbound; a peer's needs a peer.
// The lock keeps a DGRAM peer (and the pin that keeps it alive) while its name is copied.
kstd::Result<void> unix_getname(UnixSock& self, SockAddr& out, bool peer) {
    LockGuard guard(self.lock);
    const UnixSock* sk = &self;
    if (peer) {
        if (self.state.load(std::memory_order_acquire) != UnixSock::connected) return kstd::err(ENOTCONN);
        sk = self.peer;
    }
    unsigned len = sk->addr_len.load(std::memory_order_acquire);
    if (len != 0) {
        std::memcpy(out.data, sk->addr.bytes, len);
        out.len = len;
        return {};
    }
    uint16_t family = abi::kAF_UNIX;
    std::memcpy(out.data, &family, sizeof(family));
    out.len = sizeof(family);
    return {};
}

kstd::Result<void> UnixSocket::getname(SockAddr& out, bool peer) { return unix_getname(sk_, out, peer); }

kstd::Result<void> UnixSocket::setsockopt(int level, int name, const void* val, unsigned len) {
    return unix_setsockopt(sk_, level, name, val, len);
}

kstd::Result<void> UnixSocket::getsockopt(int level, int name, void* val, unsigned* len) {
    return unix_getsockopt(sk_, level, name, val, len);
}

// unix_ioctl(): SIOCINQ (FIONREAD) counts unread bytes, SIOCOUTQ what we have in flight.
kstd::Result<long> UnixStreamSocket::ioctl(unsigned long cmd, uintptr_t arg) {
    long amount = 0;
    if (cmd == abi::kFIONREAD) {
        if (sk_.state.load(std::memory_order_acquire) == UnixSock::listening) return kstd::err(EINVAL);  // unix_inq_len()
        LockGuard guard(sk_.lock);
        for (UnixSkb* skb = queue_head(sk_); skb != nullptr; skb = queue_next(sk_, skb)) amount += skb->unread();
    } else if (cmd == kSIOCOUTQ) {
        amount = sk_.wmem_alloc.load(std::memory_order_acquire) - 1;  // sk_wmem_alloc_get()
    } else {
        return File::ioctl(cmd, arg);  // ENOTTY, as sock_do_ioctl() for other commands
    }
    if (arg == 0) return kstd::err(EFAULT);
    int value = static_cast<int>(amount);
    std::memcpy(reinterpret_cast<void*>(arg), &value, sizeof(value));
    return 0L;
}

FileRef unix_file(UnixSock& sk, int flags) {
    if (sk.type == abi::kSOCK_STREAM) return FileRef(new (std::nothrow) UnixStreamSocket(sk, flags));
    return FileRef(new (std::nothrow) UnixDgramSocket(sk, flags));
}

// unix_release_sock(): the name goes first (no new connect finds us), the peer can send no
// more, learns of unread data we drop or of a connection never accepted (ECONNRESET), and is
// woken; then our queue is purged, which uncharges (and wakes) the peer.
void unix_release_sock(UnixSock& sk, bool embryo) {
    unix_unbind(sk);
    uint8_t state;
    {
        LockGuard guard(sk.lock);
        sk.shutdown.store(UnixSock::SHUTDOWN_MASK, std::memory_order_release);
        sk.dead.store(true, std::memory_order_release);
        state = sk.state.load(std::memory_order_acquire);
    }
    if (state == UnixSock::listening) unix_drop_embryos(sk);
    // A datagram peer is not told: its next send finds us dead (unix_dgram_sendmsg()).
    if (state == UnixSock::connected && sk.type != abi::kSOCK_DGRAM) {
        UnixSock& other = *sk.peer;
        {
            LockGuard guard(other.lock);
            other.shutdown.store(UnixSock::SHUTDOWN_MASK, std::memory_order_release);
            if (embryo || sk.qlen.load(std::memory_order_acquire) != 0) other.err.store(ECONNRESET, std::memory_order_release);
        }
        state_change(other);
    }
    sk.peer_wait.wake_up_all(0);  // connect()s and senders waiting for room see us gone
    // Our entry off the queue of the peer we waited on for room (pinned until just below).
    if (UnixSock* target = sk.peer_wake_target.load(std::memory_order_acquire))
        unix_dgram_peer_wake_disconnect(sk, *target, false);
    while (UnixSkb* skb = dequeue(sk)) free_skb(skb);
    UnixSock* pinned_peer = nullptr;
    {
        LockGuard guard(sk.lock);
        if (sk.peer_pinned) pinned_peer = sk.peer;
        sk.peer_pinned = false;
    }
    if (pinned_peer != nullptr) pinned_peer->owner->put();
    sk.owner->put();
}

void UnixSocket::release() { unix_release_sock(sk_, false); }

namespace {

// __sock_create() and unix_create(): why no pair can be made, or 0. AF_UNIX refuses a
// protocol other than 0/PF_UNIX (EPROTONOSUPPORT), then a type it has no ops for
// (ESOCKTNOSUPPORT: SOCK_RDM and the rest; SOCK_RAW is SOCK_DGRAM). Families Linux has but cannot pair (inet, inet6,
// netlink, packet: sock_no_socketpair) give EOPNOTSUPP; others EAFNOSUPPORT.
int socketpair_check(int domain, int type, int protocol) {
    if (domain < 0 || domain >= kNPROTO) return EAFNOSUPPORT;
    if (type >= kSOCK_MAX) return EINVAL;
    if (domain == kAF_INET || domain == kAF_INET6 || domain == kAF_NETLINK || domain == kAF_PACKET) return EOPNOTSUPP;
    if (domain != abi::kAF_UNIX) return EAFNOSUPPORT;
    if (protocol != 0 && protocol != abi::kAF_UNIX) return EPROTONOSUPPORT;
    bool ours = type == abi::kSOCK_STREAM || type == abi::kSOCK_DGRAM || type == abi::kSOCK_RAW || type == kSOCK_SEQPACKET;
    return ours ? 0 : ESOCKTNOSUPPORT;
}

// Creates the pair and installs it at the two reserved numbers; on failure releases what it
// did not install.
long install_pair(int fd1, int fd2, int type, int flags) {
    FileRef a;
    FileRef b;
    if (UnixStreamPair* pair = new (std::nothrow) UnixStreamPair()) {
        for (int i = 0; i < 2; ++i) {
            pair->socks[i].peer = &pair->socks[1 - i];
            pair->socks[i].type = static_cast<uint8_t>(type);
            pair->socks[i].peercred.store(true, std::memory_order_relaxed);  // init_peercred()
            pair->socks[i].state.store(UnixSock::connected, std::memory_order_relaxed);
        }
        int file_flags = abi::kO_RDWR | (flags & abi::kSOCK_NONBLOCK);  // sock_alloc_file()
        a = unix_file(pair->socks[0], file_flags);
        b = unix_file(pair->socks[1], file_flags);
        if (!a) pair->put();  // the missing file's share; a present one's goes with its release
        // NOLINTNEXTLINE(clang-analyzer-cplusplus.NewDelete): the pair starts with one reference per socket, so the first put cannot free it
        if (!b) pair->put();
    }
    FdTable& table = FdTable::instance();
    bool cloexec = (flags & abi::kSOCK_CLOEXEC) != 0;
    int error = a && b ? table.install_at(fd1, std::move(a), cloexec).error_code() : ENOMEM;
    if (error != 0) {
        platform::release_fd(fd1);
        platform::release_fd(fd2);
        return -error;
    }
    error = table.install_at(fd2, std::move(b), cloexec).error_code();
    if (error != 0) {
        (void)table.close(fd1);
        platform::release_fd(fd2);
        return -error;
    }
    return 0;
}

}  // namespace

// __sys_socketpair(): the type's flags, then both descriptor numbers are reserved and stored
// in the vector, and only then are the sockets made, so a later failure leaves two numbers
// in sv that are not open (as on Linux).
long sys_socketpair(int domain, int type, int protocol, int* sv) {
    int flags = type & ~kSOCK_TYPE_MASK;
    if ((flags & ~(abi::kSOCK_CLOEXEC | abi::kSOCK_NONBLOCK)) != 0) return -EINVAL;
    int fd1 = platform::reserve_fd(0);
    if (fd1 < 0) return fd1;
    int fd2 = platform::reserve_fd(0);
    int error = fd2 < 0 ? -fd2 : 0;
    if (error == 0 && sv == nullptr) error = EFAULT;
    if (error == 0) {
        sv[0] = fd1;
        sv[1] = fd2;
        error = socketpair_check(domain, type & kSOCK_TYPE_MASK, protocol);
    }
    // unix_create(): "Believe it or not BSD has AF_UNIX, SOCK_RAW though nothing uses it."
    int base = type & kSOCK_TYPE_MASK;
    if (error == 0) return install_pair(fd1, fd2, base == abi::kSOCK_RAW ? abi::kSOCK_DGRAM : base, flags);
    platform::release_fd(fd1);
    if (fd2 >= 0) platform::release_fd(fd2);
    return -error;
}

}  // namespace pollux
