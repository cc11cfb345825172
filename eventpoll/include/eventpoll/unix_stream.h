// UnixStreamSocket: one end of an AF_UNIX SOCK_STREAM socketpair, after Linux's
// net/unix/af_unix.c (6.x) and the sock helpers it uses (net/core/sock.c).
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
// Lifetime: both UnixSocks live in one pair object shared by the two files, freed when the
// second end is released, so a reader may always uncharge (and wake) the sender of an skb,
// even after the sender's file is gone (Linux pins the sock with its wmem instead).
#pragma once

#include <atomic>
#include <cstdint>

#include "eventpoll/file.h"
#include "eventpoll/socket.h"
#include "eventpoll/wait_queue.h"
#include "kernel/mutex.h"
#include "kernel/spin_lock.h"
#include "kstd/list.h"
#include "kstd/result.h"

namespace pollux {

struct UnixStreamPair;

// Linux's struct sock + struct unix_sock: the state of one end that outlives its file.
struct UnixSock {
    static constexpr uint8_t RCV_SHUTDOWN = 1;   // include/net/sock.h
    static constexpr uint8_t SEND_SHUTDOWN = 2;
    static constexpr uint8_t SHUTDOWN_MASK = 3;
    static constexpr long kSndBuf = 212992;     // net.core.wmem_default

    SpinLock lock;
    kstd::ListNode receive_queue GUARDED_BY(lock);  // UnixSkb::node
    std::atomic<uint32_t> qlen{0};                  // skbs on receive_queue
    std::atomic<uint8_t> shutdown{0};               // sk_shutdown
    std::atomic<int> err{0};                        // sk_err (positive errno), taken by sock_error()
    std::atomic<bool> dead{false};                  // SOCK_DEAD: its file was released
    std::atomic<long> wmem_alloc{1};                // sk_wmem_alloc (a refcount, hence the 1)
    Mutex iolock;
    WaitQueueHead wq;                               // sk_sleep(): readers, writers, pollers
    UnixSock* peer = nullptr;                       // unix_peer(), fixed for a socketpair
};

class UnixStreamSocket final : public Socket {
public:
    UnixStreamSocket(UnixStreamPair& pair, UnixSock& sk, int flags);

    PollMask poll(PollTable* pt) override;
    kstd::Result<long> ioctl(unsigned long cmd, uintptr_t arg) override;

    // unix_stream_sendmsg() / unix_stream_recvmsg(); flags are MSG_* (MSG_DONTWAIT already
    // added for a nonblocking file by the caller). A socketpair has no addresses to give.
    kstd::Result<size_t> sendmsg(IoIter& from, int flags, const SockAddr* to) override;
    kstd::Result<size_t> recvmsg(IoIter& to, int flags, SockAddr* from, int* msg_flags) override;
    // unix_shutdown(): how is SHUT_RD, SHUT_WR or SHUT_RDWR.
    kstd::Result<void> shutdown(int how) override;
    kstd::Result<void> getname(SockAddr& out, bool peer) override;

    UnixSock& sock() { return sk_; }

protected:
    void release() override;

private:
    UnixStreamPair& pair_;
    UnixSock& sk_;
};

}  // namespace pollux
