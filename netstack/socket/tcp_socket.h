// TcpSocket: a TCP socket over an lwIP PCB, after Linux's net/ipv4/tcp.c and af_inet.c.
//
// Readiness is pushed, never polled: lwIP's callbacks (recv, sent, err, accept, connected) run
// under stack_lock, update the socket, recompute its poll mask and wake its wait queue with
// Linux's keys (sock_def_readable, sk_stream_write_space, sock_def_wakeup), which is what puts
// epitems on eventpoll ready lists. poll() only reads the published mask: no lock, no lwIP.
//
// Locking: every field is guarded by stack_lock except mask_, nospace_, napi_id_ and the
// busy-poll settings (atomics read by poll and by blocking calls) and wq_ (its own lock).
// Blocking calls sleep on wq_ with stack_lock released.
//
// Lifetime: the PCB points back at the socket through tcp_arg(); release() detaches it before
// the socket goes. Connections not yet accepted are TcpSockets on the listener's accept queue,
// which holds their file reference; they are put after stack_lock is dropped.
#pragma once

#include <atomic>
#include <cstdint>

#include "eventpoll/socket.h"
#include "eventpoll/wait_queue.h"
#include "kstd/list.h"
#include "lwip/ip_addr.h"
#include "lwip/tcp.h"
#include "netstack/stack.h"
#include "sock_opts.h"

namespace pollux::net {

class TcpSocket final : public Socket {
public:
    static kstd::Result<FileRef> create(int family, int flags);

    PollMask poll(PollTable* pt) override;
    unsigned napi_id() const override { return napi_id_.load(std::memory_order_relaxed); }
    kstd::Result<long> ioctl(unsigned long cmd, uintptr_t arg) override;

    kstd::Result<void> bind(const SockAddr& addr) override;
    kstd::Result<void> connect(const SockAddr& addr, bool nonblock) override;
    kstd::Result<void> listen(int backlog) override;
    kstd::Result<FileRef> accept(int flags, bool nonblock) override;
    kstd::Result<void> getname(SockAddr& out, bool peer) override;
    kstd::Result<size_t> sendmsg(IoIter& from, int flags, const SockAddr* to) override;
    kstd::Result<size_t> recvmsg(IoIter& to, int flags, SockAddr* from, int* msg_flags) override;
    kstd::Result<void> shutdown(int how) override;
    kstd::Result<void> setsockopt(int level, int name, const void* val, unsigned len) override;
    kstd::Result<void> getsockopt(int level, int name, void* val, unsigned* len) override;

    // lwIP's callbacks (C linkage trampolines call these).
    void on_recv(pbuf* p) REQUIRES(stack_lock);
    void on_sent() REQUIRES(stack_lock);
    void on_err(err_t err) REQUIRES(stack_lock);
    void on_connected() REQUIRES(stack_lock);
    err_t on_accept(tcp_pcb* newpcb) REQUIRES(stack_lock);

protected:
    void release() override;

private:
    // struct socket's state, which connect() reports from (SS_*).
    enum class SockState : uint8_t { unconnected, connecting, connected };
    static constexpr uint8_t kRcvShutdown = 1;
    static constexpr uint8_t kSendShutdown = 2;
    static constexpr uint8_t kShutdownMask = 3;

    TcpSocket(int family, int flags);

    tcp_state state() const REQUIRES(stack_lock) { return pcb_ != nullptr ? pcb_->state : CLOSED; }
    bool writable() const REQUIRES(stack_lock);
    tcpwnd_size_t send_room() const REQUIRES(stack_lock);
    PollMask compute_mask() const REQUIRES(stack_lock);
    // Publishes the mask for poll(); call after every change of state.
    void refresh() REQUIRES(stack_lock);
    void wake(PollMask key) REQUIRES(stack_lock);
    int take_error() REQUIRES(stack_lock);
    kstd::Result<void> ensure_pcb() REQUIRES(stack_lock);
    kstd::Result<int> begin_connect(const SockAddr& addr) REQUIRES(stack_lock);
    void attach(tcp_pcb* pcb) REQUIRES(stack_lock);
    void detach() REQUIRES(stack_lock);
    void apply_options() REQUIRES(stack_lock);
    void remember_names() REQUIRES(stack_lock);
    void free_receive_queue() REQUIRES(stack_lock);
    size_t copy_received(IoIter& to, size_t max, bool peek) REQUIRES(stack_lock);
    // Sleeps until the published mask has one of `events`, the deadline (0: none) passes, or a
    // signal comes: 0, -EAGAIN, or -ERESTARTSYS / -EINTR as sock_intr_errno() picks.
    int wait_for(PollMask events, uint64_t timeout_ns, bool exclusive = false);
    void busy_loop(PollMask events);

    const int family_;
    tcp_pcb* pcb_ GUARDED_BY(stack_lock) = nullptr;
    SockState ss_ GUARDED_BY(stack_lock) = SockState::unconnected;
    bool listening_ GUARDED_BY(stack_lock) = false;
    bool done_ GUARDED_BY(stack_lock) = false;         // the peer's FIN arrived (SOCK_DONE)
    bool established_ GUARDED_BY(stack_lock) = false;  // a connection existed (RST means reset, not refused)
    bool bound_ GUARDED_BY(stack_lock) = false;
    bool abort_on_release_ GUARDED_BY(stack_lock) = false;
    uint8_t shutdown_ GUARDED_BY(stack_lock) = 0;
    int err_ GUARDED_BY(stack_lock) = 0;  // sk_err, positive
    SockOpts opts_ GUARDED_BY(stack_lock);
    ip_addr_t local_ip_ GUARDED_BY(stack_lock);
    uint16_t local_port_ GUARDED_BY(stack_lock) = 0;
    ip_addr_t peer_ip_ GUARDED_BY(stack_lock);
    uint16_t peer_port_ GUARDED_BY(stack_lock) = 0;

    // Received data: lwIP's pbufs, linked through `next` one by one, read from rq_off_ on.
    pbuf* rq_head_ GUARDED_BY(stack_lock) = nullptr;
    pbuf* rq_tail_ GUARDED_BY(stack_lock) = nullptr;
    size_t rq_off_ GUARDED_BY(stack_lock) = 0;
    size_t rq_bytes_ GUARDED_BY(stack_lock) = 0;

    // Listener: established connections not yet accepted (children's accept_link_).
    kstd::ListNode acceptq_ GUARDED_BY(stack_lock);
    int acceptq_len_ GUARDED_BY(stack_lock) = 0;
    int backlog_ GUARDED_BY(stack_lock) = 0;
    kstd::ListNode accept_link_ GUARDED_BY(stack_lock);

    std::atomic<PollMask> mask_{0};
    std::atomic<bool> nospace_{false};
    // SO_BUSY_POLL and SO_BUSY_POLL_BUDGET, read by blocking calls without the stack lock.
    std::atomic<unsigned> busy_poll_usecs_{0}, busy_poll_budget_{0};
    std::atomic<unsigned> napi_id_{0};
    WaitQueueHead wq_;
};

}  // namespace pollux::net
