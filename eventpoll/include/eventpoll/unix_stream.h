// UnixStreamSocket: an AF_UNIX SOCK_STREAM socket (a socketpair end, or one made by socket()
// that may bind, listen, connect and accept), after Linux's net/unix/af_unix.c (6.x) and the
// sock helpers it uses (net/core/sock.c). The named half lives in unix_listen.cc.
//
// Model: each end has a receive queue of skbs, one per sendmsg chunk (a send is cut into
// chunks of at most kMaxSkbPayload bytes, as unix_stream_sendmsg() sizes its paged skbs).
// Each skb's truesize (payload plus Linux's allocation overhead, see skb_truesize()) is charged
// to the sender's wmem_alloc until the reader has consumed it. A send blocks (or fails with
// EAGAIN) while wmem >= sndbuf; an end is writable (EPOLLOUT) while wmem*4 <= sndbuf.
//
// Locking: each UnixSock's `lock` (Linux's unix_state_lock and sk_receive_queue.lock in one)
// guards its receive queue and every skb's `consumed`, and serialises changes of shutdown,
// err, dead and qlen, which are atomics so that poll() and the wait conditions read them
// without it. `iolock` (u->iolock) lets one reader at a time walk the queue and copy out
// without `lock`: only the iolock holder unlinks skbs, so the head skb stays put meanwhile.
// Never two UnixSock locks at once; wake-ups run after `lock` is dropped, as in Linux.
// Invariants: a queued skb has unconsumed bytes; qlen counts the queued skbs; wmem_alloc is 1
// plus the truesize of every skb this end allocated that is not yet freed.
//
// Named sockets: `state` moves once from unconnected to listening or connected (bindlock
// serialises bind/listen/connect on one socket); `peer` is set before `state` says connected
// and never changes after. A listener's accept_queue holds embryos (the server ends connect()
// made), guarded by the listener's lock. An address, once published in addr_len, never
// changes. The bound-name table has its own lock, never held together with a UnixSock lock.
//
// Lifetime: both UnixSocks live in one pair object, freed with its last reference, so a
// reader may always uncharge (and wake) the sender of an skb, even after the sender's file is
// gone (Linux pins the sock with its wmem instead). socket() makes a pair whose second sock
// is the embryo its connect() will queue; each file, each queued embryo and each connect()
// in flight towards a listener holds a reference.
#pragma once

#include <atomic>
#include <cstdint>

#include "eventpoll/file.h"
#include "eventpoll/linux_abi.h"
#include "eventpoll/socket.h"
#include "eventpoll/wait_queue.h"
#include "kernel/mutex.h"
#include "kernel/spin_lock.h"
#include "kstd/list.h"
#include "kstd/result.h"

namespace pollux {

struct UnixStreamPair;

// struct unix_address: a sockaddr_un as bind() stored it (sun_path NUL-terminated for a path).
struct UnixAddr {
    static constexpr unsigned kMaxLen = 110;  // sizeof(struct sockaddr_un)
    // One more for the NUL unix_mkname_bsd() adds to a 108-byte path (getname then reports 111).
    unsigned char bytes[kMaxLen + 1];
};

// Linux's struct sock + struct unix_sock: the state of one end that outlives its file.
struct UnixSock {
    static constexpr uint8_t RCV_SHUTDOWN = 1;   // include/net/sock.h
    static constexpr uint8_t SEND_SHUTDOWN = 2;
    static constexpr uint8_t SHUTDOWN_MASK = 3;
    static constexpr long kSndBuf = 212992;     // net.core.wmem_default (and rmem_default)

    SpinLock lock;
    kstd::ListNode receive_queue GUARDED_BY(lock);  // UnixSkb::node
    std::atomic<uint32_t> qlen{0};                  // skbs on receive_queue
    std::atomic<uint8_t> shutdown{0};               // sk_shutdown
    std::atomic<int> err{0};                        // sk_err (positive errno), taken by sock_error()
    std::atomic<bool> dead{false};                  // SOCK_DEAD: its file was released
    std::atomic<long> wmem_alloc{1};                // sk_wmem_alloc (a refcount, hence the 1)
    std::atomic<int> sndbuf{kSndBuf};               // sk_sndbuf, as SO_SNDBUF set it
    std::atomic<int> rcvbuf{kSndBuf};               // sk_rcvbuf: reported, not enforced (nor by Linux's AF_UNIX)
    uint8_t type = abi::kSOCK_STREAM;               // SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET, fixed at creation
    // SOL_SOCKET flags any socket takes, by option number (1 << SO_*): SO_REUSEADDR,
    // SO_KEEPALIVE and SO_BROADCAST do nothing for AF_UNIX on Linux either; SO_PASSCRED is
    // recorded, but no credentials are sent (unix_sockopt.cc).
    std::atomic<uint32_t> flags{0};
    // sk_peer_pid/sk_peer_cred are set (socketpair, listen, a stream or seqpacket connection):
    // SO_PEERCRED then names this process, else {0, -1, -1}.
    std::atomic<bool> peercred{false};
    Mutex iolock;
    WaitQueueHead wq;                               // sk_sleep(): readers, writers, pollers
    // unix_peer(). Fixed once connected, except for a DGRAM socket from socket(), whose peer
    // connect() sets under `lock` (and pins: peer_pinned, a reference on the peer's pair).
    UnixSock* peer = nullptr;
    bool peer_pinned = false;

    enum State : uint8_t { unconnected, listening, connected };  // TCP_CLOSE, TCP_LISTEN, TCP_ESTABLISHED
    std::atomic<uint8_t> state{unconnected};
    std::atomic<uint8_t> addr_len{0};               // 0: unbound; else addr's length
    UnixAddr addr;                                  // written once, before addr_len
    Mutex bindlock;                                 // u->bindlock
    UnixStreamPair* owner = nullptr;
    // Bound names: the abstract name is addr itself; a path's node is (node_dev, node_ino).
    UnixSock* bound_next = nullptr;                 // on the table, under its lock
    bool bound = false;
    uint64_t node_dev = 0, node_ino = 0;
    // Listening: the embryos connect() queued (accept_node), at most backlog + 1 of them
    // (unix_recvq_full() compares with >); peer_wait holds connect()s waiting for room.
    kstd::ListNode accept_queue GUARDED_BY(lock);
    kstd::ListNode accept_node;                     // an embryo's place on its listener's queue
    std::atomic<uint32_t> accept_len{0};
    std::atomic<int> backlog{0};
    WaitQueueHead peer_wait;
    // unix_dgram_peer_wake_me(): a connected DGRAM sock that found its peer's queue full (in
    // poll or a nonblocking send) waits on the peer's peer_wait with this entry, whose
    // function takes it off and wakes our wq with the peer's key: the peer's next read makes
    // us writable again. peer_wake_target is that peer while the entry is queued, changed
    // under the target's peer_wait.lock (unix_dgram.cc).
    WaitQueueEntry peer_wake;
    std::atomic<UnixSock*> peer_wake_target{nullptr};
};

// The two socks of a socketpair, or of a socket() and the server end its connect() makes.
struct UnixStreamPair {
    UnixSock socks[2];
    std::atomic<int> refs{2};

    UnixStreamPair();
    ~UnixStreamPair();
    void get() { refs.fetch_add(1, std::memory_order_relaxed); }
    void put() {
        if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }
};

// What every AF_UNIX socket does alike, whatever its type: names (unix_bind, unix_getname),
// listen and accept (unix_listen.cc; EOPNOTSUPP for SOCK_DGRAM), shutdown, the SOL_SOCKET
// options (unix_sockopt.cc) and the release.
class UnixSocket : public Socket {
public:
    kstd::Result<void> shutdown(int how) override;  // how is SHUT_RD, SHUT_WR or SHUT_RDWR
    kstd::Result<void> getname(SockAddr& out, bool peer) override;
    kstd::Result<void> bind(const SockAddr& addr) override;
    kstd::Result<void> listen(int backlog) override;
    kstd::Result<FileRef> accept(int flags, bool nonblock) override;
    kstd::Result<void> setsockopt(int level, int name, const void* val, unsigned len) override;
    kstd::Result<void> getsockopt(int level, int name, void* val, unsigned* len) override;

    UnixSock& sock() { return sk_; }

protected:
    UnixSocket(UnixSock& sk, int flags) : Socket(FileKind::unix_stream, flags), sk_(sk) {}
    void release() override;

    UnixSock& sk_;
};

// The file of a sock, of the class its type wants (a socketpair's end, an accepted connection).
FileRef unix_file(UnixSock& sk, int flags);

class UnixStreamSocket final : public UnixSocket {
public:
    UnixStreamSocket(UnixSock& sk, int flags) : UnixSocket(sk, flags) {}

    PollMask poll(PollTable* pt) override;
    kstd::Result<long> ioctl(unsigned long cmd, uintptr_t arg) override;
    // unix_stream_sendmsg() / unix_stream_recvmsg(); flags are MSG_* (MSG_DONTWAIT already
    // added for a nonblocking file by the caller). A socketpair has no addresses to give.
    kstd::Result<size_t> sendmsg(IoIter& from, int flags, const SockAddr* to) override;
    kstd::Result<size_t> recvmsg(IoIter& to, int flags, SockAddr* from, int* msg_flags) override;
    // unix_stream_connect(): unix_listen.cc.
    kstd::Result<void> connect(const SockAddr& addr, bool nonblock) override;
};

// An AF_UNIX SOCK_DGRAM or SOCK_SEQPACKET socket (unix_dgram.cc): each send is one datagram,
// queued whole on the receiver (record boundaries, truncation), charged to the sender as a
// stream chunk is. SEQPACKET connects, listens and accepts as a stream does (unix_listen.cc);
// a DGRAM socket binds a name, sends to names, and connects to one (its peer, which may be
// changed or dropped with AF_UNSPEC). A datagram queued on another pair's sock pins the
// sender's pair (UnixSkb::pinned), and a connected DGRAM sock pins its peer's (peer_pinned).
class UnixDgramSocket final : public UnixSocket {
public:
    UnixDgramSocket(UnixSock& sk, int flags);

    PollMask poll(PollTable* pt) override;
    kstd::Result<long> ioctl(unsigned long cmd, uintptr_t arg) override;
    kstd::Result<size_t> sendmsg(IoIter& from, int flags, const SockAddr* to) override;
    kstd::Result<size_t> recvmsg(IoIter& to, int flags, SockAddr* from, int* msg_flags) override;
    kstd::Result<void> connect(const SockAddr& addr, bool nonblock) override;

private:
    kstd::Result<size_t> send_to(UnixSock& other, IoIter& from, int flags);
    bool other_is_peer(const UnixSock& other);
};

// unix_release_sock(): what closing a socket's last file, or a listener dropping an embryo
// it never accepted, does to the sock and its peer. Drops the sock's pair reference.
void unix_release_sock(UnixSock& sk, bool embryo);
// unix_dgram_peer_wake_disconnect(): takes sk's peer_wake entry off other's queue if it is
// there; with `wakeup`, then wakes sk's writers and pollers (a peer changed or went away).
void unix_dgram_peer_wake_disconnect(UnixSock& sk, UnixSock& other, bool wakeup);
// unix_shutdown() and unix_getname(), for every type.
kstd::Result<void> unix_shutdown(UnixSock& sk, int how);
kstd::Result<void> unix_getname(UnixSock& sk, SockAddr& out, bool peer);
// The SOL_SOCKET options an AF_UNIX socket answers (unix_sockopt.cc).
kstd::Result<void> unix_setsockopt(UnixSock& sk, int level, int name, const void* val, unsigned len);
kstd::Result<void> unix_getsockopt(UnixSock& sk, int level, int name, void* val, unsigned* len);
// unix_listen.cc, for every type: unix_bind(), unix_listen() (EOPNOTSUPP for DGRAM),
// unix_stream_connect() (STREAM and SEQPACKET), unix_accept() (the embryo, for the caller to
// give a file), and unix_find_other(): the sock of `type` bound to the address, with a
// reference on its pair, or the errno (EINVAL, ENOENT, ECONNREFUSED, EPROTOTYPE).
kstd::Result<void> unix_bind(UnixSock& sk, const SockAddr& addr);
kstd::Result<void> unix_listen(UnixSock& sk, int backlog);
kstd::Result<void> unix_stream_connect(UnixSock& sk, const SockAddr& addr, bool nonblock);
kstd::Result<UnixSock*> unix_accept(UnixSock& sk, bool nonblock);
int unix_find_bound(const SockAddr& addr, int type, UnixSock** out);
// unix_listen.cc: takes the sock's name out of the table; releases a dead listener's embryos.
void unix_unbind(UnixSock& sk);
void unix_drop_embryos(UnixSock& listener);
// socket(AF_UNIX, SOCK_STREAM) through sys_socket(); the platforms that serve AF_UNIX
// themselves call it at boot.
void unix_register();

}  // namespace pollux
