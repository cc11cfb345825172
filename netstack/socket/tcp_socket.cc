// TcpSocket: creation, lwIP's callbacks, the poll mask, and the connection calls (bind,
// listen, accept, connect, getsockname/getpeername, close).
#include "tcp_socket.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

#include "eventpoll/wait_event.h"
#include "inet_addr.h"
#include "kernel/platform.h"
#include "lwip/priv/tcp_priv.h"

namespace pollux::net {

namespace {

constexpr PollMask kIn = abi::kEPOLLIN | abi::kEPOLLRDNORM;
constexpr PollMask kOut = abi::kEPOLLOUT | abi::kEPOLLWRNORM;
// The keys Linux's socket callbacks wake with.
constexpr PollMask kReadableKey = abi::kEPOLLIN | abi::kEPOLLPRI | abi::kEPOLLRDNORM | abi::kEPOLLRDBAND;
constexpr PollMask kWriteSpaceKey = abi::kEPOLLOUT | abi::kEPOLLWRNORM | abi::kEPOLLWRBAND;
constexpr PollMask kStateChangeKey = 0;  // sock_def_wakeup(): everyone, whatever they wait for

TcpSocket* sock_of(void* arg) { return static_cast<TcpSocket*>(arg); }

err_t recv_trampoline(void* arg, tcp_pcb*, pbuf* p, err_t) {
    if (arg == nullptr) {
        if (p != nullptr) pbuf_free(p);
        return ERR_OK;
    }
    stack_lock_held();
    sock_of(arg)->on_recv(p);
    return ERR_OK;
}

err_t sent_trampoline(void* arg, tcp_pcb*, u16_t) {
    stack_lock_held();
    if (arg != nullptr) sock_of(arg)->on_sent();
    return ERR_OK;
}

void err_trampoline(void* arg, err_t err) {
    stack_lock_held();
    if (arg != nullptr) sock_of(arg)->on_err(err);
}

err_t connected_trampoline(void* arg, tcp_pcb*, err_t) {
    stack_lock_held();
    if (arg != nullptr) sock_of(arg)->on_connected();
    return ERR_OK;
}

err_t accept_trampoline(void* arg, tcp_pcb* newpcb, err_t err) {
    if (arg == nullptr || err != ERR_OK || newpcb == nullptr) return ERR_VAL;
    stack_lock_held();
    return sock_of(arg)->on_accept(newpcb);
}

}  // namespace

TcpSocket::TcpSocket(int family, int flags) : Socket(FileKind::inet, abi::kO_RDWR | flags), family_(family) {
    ip_addr_set_zero(&local_ip_);
    ip_addr_set_zero(&peer_ip_);
    opts_.rcvbuf = 131072;  // net.ipv4.tcp_rmem[1], as Linux reports it before autotuning
    opts_.sndbuf = 16384;   // net.ipv4.tcp_wmem[1]
}

kstd::Result<FileRef> TcpSocket::create(int family, int flags) {
    stack_init();
    auto* s = new (std::nothrow) TcpSocket(family, flags);
    if (s == nullptr) return kstd::err(ENOBUFS);
    StackGuard guard;
    s->refresh();
    return FileRef(s);
}

// --- the published mask --------------------------------------------------------------------

// What the send queue may still take: lwIP's free space, capped by SO_SNDBUF when the user set
// it (Linux's SOCK_SNDBUF_LOCK). Unset, Linux autotunes up to tcp_wmem[2]; lwIP's fixed
// TCP_SND_BUF plays that part.
tcpwnd_size_t TcpSocket::send_room() const {
    tcpwnd_size_t free_space = pcb_->snd_buf;
    if (!opts_.sndbuf_locked) return free_space;
    tcpwnd_size_t queued = TCP_SND_BUF - free_space;
    auto limit = static_cast<tcpwnd_size_t>(opts_.sndbuf);
    return queued >= limit ? 0 : std::min<tcpwnd_size_t>(limit - queued, free_space);
}

// sk_stream_is_writeable(): free space of at least half what is queued, and room in the queue.
bool TcpSocket::writable() const {
    if (pcb_ == nullptr) return true;
    tcpwnd_size_t free_space = send_room();
    tcpwnd_size_t queued = TCP_SND_BUF - pcb_->snd_buf;
    return free_space >= queued / 2 && free_space > 0 && tcp_sndqueuelen(pcb_) + 4 < TCP_SND_QUEUELEN;
}

// tcp_poll() and inet_csk_listen_poll().
PollMask TcpSocket::compute_mask() const {
    if (listening_) return acceptq_len_ > 0 ? kIn : 0;
    tcp_state st = state();
    bool closed = st == CLOSED || st == TIME_WAIT;
    PollMask mask = 0;
    if (shutdown_ == kShutdownMask || closed) mask |= abi::kEPOLLHUP;
    if ((shutdown_ & kRcvShutdown) != 0) mask |= kIn | abi::kEPOLLRDHUP;
    if (st != SYN_SENT && st != SYN_RCVD) {
        if (rq_bytes_ > 0) mask |= kIn;
        if ((shutdown_ & kSendShutdown) != 0 || writable()) mask |= kOut;
    }
    if (err_ != 0) mask |= abi::kEPOLLERR;
    return mask;
}

void TcpSocket::refresh() { mask_.store(compute_mask(), std::memory_order_seq_cst); }

// Data and write space wake one exclusive waiter (one accept()er, one EPOLLEXCLUSIVE epoll), as
// sock_def_readable / sk_stream_write_space do; a state change wakes them all (sock_def_wakeup).
void TcpSocket::wake(PollMask key) { wq_.wake_up(key, key == kStateChangeKey ? 0 : 1); }

PollMask TcpSocket::poll(PollTable* pt) {
    poll_wait(*this, wq_, pt);
    PollMask mask = mask_.load(std::memory_order_seq_cst);
    if ((mask & abi::kEPOLLOUT) == 0) {
        // SOCK_NOSPACE, then a second look: either we see the room or on_sent sees the flag.
        nospace_.store(true, std::memory_order_seq_cst);
        mask = mask_.load(std::memory_order_seq_cst);
    }
    return mask;
}

int TcpSocket::take_error() {
    int e = err_;
    err_ = 0;
    refresh();
    return e;
}

// sk_busy_loop(): with SO_BUSY_POLL, a blocking call spins the NAPI context the socket last
// received on for up to that many microseconds before it sleeps, so a reply already on the
// wire is taken without an interrupt and a wake-up.
void TcpSocket::busy_loop(PollMask events) {
    unsigned usecs = busy_poll_usecs_.load(std::memory_order_relaxed);
    unsigned id = napi_id_.load(std::memory_order_relaxed);
    if (usecs == 0 || id == 0) return;
    unsigned budget = busy_poll_budget_.load(std::memory_order_relaxed);
    uint64_t end = platform::monotonic_ns() + uint64_t{usecs} * 1000;
    while ((mask_.load(std::memory_order_seq_cst) & events) == 0 && platform::monotonic_ns() < end) {
        // Unset, Linux's BUSY_POLL_BUDGET (8) frames a round.
        if (!stack_busy_poll(id, budget != 0 ? static_cast<int>(budget) : 8)) platform::cpu_relax();
    }
}

int TcpSocket::wait_for(PollMask events, uint64_t timeout_ns, bool exclusive) {
    if ((events & abi::kEPOLLOUT) != 0) nospace_.store(true, std::memory_order_seq_cst);
    busy_loop(events);
    uint64_t deadline = timeout_ns != 0 ? platform::monotonic_ns() + timeout_ns : 0;
    int r = wait_event(
        wq_, [&] { return (mask_.load(std::memory_order_seq_cst) & events) != 0; }, deadline, exclusive);
    if (r == -ETIMEDOUT) return -EAGAIN;
    if (r == -EINTR) return timeout_ns == 0 ? -abi::kERESTARTSYS : -EINTR;
    return r;
}

// --- lwIP's callbacks ------------------------------------------------------------------------

void TcpSocket::on_recv(pbuf* p) {
    if (p == nullptr) {  // the peer's FIN: tcp_fin()
        shutdown_ |= kRcvShutdown;
        done_ = true;
        // Both FINs are out: what remains (the last ACKs, TIME_WAIT) is lwIP's alone, and lwIP
        // frees TIME_WAIT PCBs without telling anyone.
        if ((shutdown_ & kSendShutdown) != 0) detach();
        refresh();
        wake(kStateChangeKey);
        return;
    }
    if (current_rx_napi_id != 0) napi_id_.store(current_rx_napi_id, std::memory_order_relaxed);
    rq_bytes_ += p->tot_len;
    for (pbuf* q = p; q != nullptr;) {
        pbuf* next = q->next;
        if (next != nullptr) {
            // The chain's hold on `next` becomes our queue's: each queued pbuf is freed alone.
            q->next = nullptr;
            q->tot_len = q->len;
        }
        if (rq_tail_ == nullptr) {
            rq_head_ = q;
        } else {
            rq_tail_->next = q;
        }
        rq_tail_ = q;
        q = next;
    }
    refresh();
    wake(kReadableKey);
}

void TcpSocket::on_sent() {
    refresh();
    // sk_stream_write_space(): only writers that found the buffer full are woken.
    if (writable() && nospace_.exchange(false, std::memory_order_seq_cst)) wake(kWriteSpaceKey);
}

// The PCB is gone (lwIP freed it before calling us). tcp_reset() / tcp_done() / tcp_write_err().
void TcpSocket::on_err(err_t err) {
    pcb_ = nullptr;
    switch (err) {
    // tcp_reset(): refused in SYN_SENT, EPIPE in CLOSE_WAIT (the peer's FIN came first).
    case ERR_RST: err_ = !established_ ? ECONNREFUSED : (done_ ? EPIPE : ECONNRESET); break;
    case ERR_ABRT: err_ = ETIMEDOUT; break;  // lwIP aborts on its own only when retransmissions time out
    case ERR_CLSD: break;                    // both sides closed: a clean end
    default: err_ = ECONNABORTED; break;
    }
    shutdown_ = kShutdownMask;
    refresh();
    wake(kStateChangeKey);
}

void TcpSocket::on_connected() {
    established_ = true;
    remember_names();
    refresh();
    wake(kStateChangeKey);  // tcp_finish_connect(): sk_state_change
}

err_t TcpSocket::on_accept(tcp_pcb* newpcb) {
    auto* child = new (std::nothrow) TcpSocket(family_, 0);
    if (child == nullptr) {
        tcp_abort(newpcb);
        return ERR_ABRT;
    }
    child->opts_ = opts_;  // options a listener passes to its connections (sk_clone_lock)
    child->ss_ = SockState::connected;
    child->established_ = true;
    child->bound_ = true;
    child->attach(newpcb);
    child->apply_options();
    child->remember_names();
    // Counted against the backlog until accept() takes it, as Linux's accept queue is.
    tcp_backlog_delayed(newpcb);
    if (current_rx_napi_id != 0) child->napi_id_.store(current_rx_napi_id, std::memory_order_relaxed);
    child->refresh();
    kstd::list_add_tail(&child->accept_link_, &acceptq_);
    ++acceptq_len_;
    refresh();
    wake(kReadableKey);
    return ERR_OK;
}

// --- PCB management ----------------------------------------------------------------------------

void TcpSocket::attach(tcp_pcb* pcb) {
    pcb_ = pcb;
    tcp_arg(pcb, this);
    tcp_recv(pcb, recv_trampoline);
    tcp_sent(pcb, sent_trampoline);
    tcp_err(pcb, err_trampoline);
}

// Hands the PCB to lwIP for good: no callback will reach this socket again.
void TcpSocket::detach() {
    if (pcb_ == nullptr) return;
    remember_names();
    tcp_arg(pcb_, nullptr);
    if (pcb_->state == LISTEN) {
        tcp_accept(pcb_, nullptr);
        pcb_ = nullptr;
        return;
    }
    tcp_recv(pcb_, nullptr);
    tcp_sent(pcb_, nullptr);
    tcp_err(pcb_, nullptr);
    pcb_ = nullptr;
}

kstd::Result<void> TcpSocket::ensure_pcb() {
    if (pcb_ != nullptr) return {};
    u8_t type = family_ == abi::kAF_INET ? IPADDR_TYPE_V4 : (opts_.v6only ? IPADDR_TYPE_V6 : IPADDR_TYPE_ANY);
    tcp_pcb* pcb = tcp_new_ip_type(type);
    if (pcb == nullptr) return kstd::err(ENOBUFS);
    attach(pcb);
    apply_options();
    if (bound_) {
        // A new attempt after a failed connect keeps the address the socket was bound to.
        err_t e = tcp_bind(pcb, &local_ip_, local_port_);
        if (e != ERR_OK) return kstd::err(errno_from_lwip(e));
    }
    return {};
}

void TcpSocket::apply_options() {
    busy_poll_usecs_.store(opts_.busy_poll_usecs, std::memory_order_relaxed);
    busy_poll_budget_.store(opts_.busy_poll_budget, std::memory_order_relaxed);
    if (pcb_ == nullptr) return;
    if (opts_.reuseaddr) ip_set_option(pcb_, SOF_REUSEADDR);
    else ip_reset_option(pcb_, SOF_REUSEADDR);
    if (opts_.reuseport) ip_set_option(pcb_, SOF_REUSEPORT);
    else ip_reset_option(pcb_, SOF_REUSEPORT);
    // SO_RCVBUF sizes the window as Linux 6.1's tcp_win_from_space() does with
    // tcp_adv_win_scale 1: half the (doubled) buffer. Unset, the window is lwIP's TCP_WND, as
    // Linux's autotuning grows it. A listener's passes to its connections' SYN-ACK (patch 0014).
    if (opts_.rcvbuf_locked) tcp_set_rcv_wnd_max(pcb_, static_cast<tcpwnd_size_t>(opts_.rcvbuf / 2));
    if (pcb_->state == LISTEN) return;  // a listen PCB has no more than that
    if (opts_.keepalive) {
        ip_set_option(pcb_, SOF_KEEPALIVE);
        TCP_TIMER_ARM(pcb_);  // an idle connection is off the timer list, and keepalive needs it
    } else {
        ip_reset_option(pcb_, SOF_KEEPALIVE);
    }
    if (opts_.nodelay) tcp_nagle_disable(pcb_);
    else tcp_nagle_enable(pcb_);
    pcb_->keep_idle = static_cast<u32_t>(opts_.keepidle) * 1000u;
    pcb_->keep_intvl = static_cast<u32_t>(opts_.keepintvl) * 1000u;
    pcb_->keep_cnt = static_cast<u32_t>(opts_.keepcnt);
    pcb_->tos = static_cast<u8_t>(opts_.tos);
    pcb_->ttl = static_cast<u8_t>(opts_.ttl);
}

void TcpSocket::remember_names() {
    if (pcb_ == nullptr) return;
    ip_addr_copy(local_ip_, pcb_->local_ip);
    local_port_ = pcb_->local_port;
    if (pcb_->state != LISTEN && pcb_->state != CLOSED) {
        ip_addr_copy(peer_ip_, pcb_->remote_ip);
        peer_port_ = pcb_->remote_port;
    }
}

void TcpSocket::free_receive_queue() {
    while (rq_head_ != nullptr) {
        pbuf* p = rq_head_;
        rq_head_ = p->next;
        p->next = nullptr;
        pbuf_free(p);
    }
    rq_tail_ = nullptr;
    rq_off_ = 0;
    rq_bytes_ = 0;
}

// --- connection calls --------------------------------------------------------------------------

// inet_bind() / inet6_bind().
kstd::Result<void> TcpSocket::bind(const SockAddr& addr) {
    StackGuard guard;
    kstd::Result<Endpoint> ep = endpoint_from(addr, family_, opts_.v6only, EINVAL, true);
    if (!ep.ok()) return ep.error();
    if (!is_local_address(ep.value().ip)) return kstd::err(EADDRNOTAVAIL);
    if (bound_ || listening_ || state() != CLOSED) return kstd::err(EINVAL);
    TRY(ensure_pcb());
    ip_addr_t ip = ep.value().ip;
    // An AF_INET6 socket bound to :: takes IPv4 as well, unless IPV6_V6ONLY.
    if (family_ == abi::kAF_INET6 && !opts_.v6only && IP_IS_V6_VAL(ip) && ip_addr_isany(&ip))
        ip = *IP_ANY_TYPE;
    if (ep.value().port != 0 && port_has_listener(ip, ep.value().port, opts_.reuseport)) return kstd::err(EADDRINUSE);
    err_t e = tcp_bind(pcb_, &ip, ep.value().port);
    if (e != ERR_OK) return kstd::err(e == ERR_USE ? EADDRINUSE : errno_from_lwip(e));
    bound_ = true;
    remember_names();
    return {};
}

// inet_listen(): again on a listener only changes the backlog.
kstd::Result<void> TcpSocket::listen(int backlog) {
    StackGuard guard;
    if (backlog < 0) backlog = 0;
    // Linux lets backlog + 1 connections wait in the accept queue; lwIP counts SYN_RCVD ones too.
    int limit = backlog + 1 > 0xffff ? 0xffff : backlog + 1;
    if (listening_) {
        backlog_ = backlog;
        tcp_backlog_set(pcb_, limit);
        return {};
    }
    if (ss_ != SockState::unconnected || state() != CLOSED) return kstd::err(EINVAL);
    TRY(ensure_pcb());
    if (!bound_) {
        ip_addr_t any = family_ == abi::kAF_INET ? *IP4_ADDR_ANY : (opts_.v6only ? *IP6_ADDR_ANY : *IP_ANY_TYPE);
        err_t e = tcp_bind(pcb_, &any, 0);
        if (e != ERR_OK) return kstd::err(EADDRINUSE);
        bound_ = true;
    }
    err_t e = ERR_OK;
    tcp_pcb* lpcb = tcp_listen_with_backlog_and_err(pcb_, 0xff, &e);
    if (lpcb == nullptr) return kstd::err(e == ERR_USE ? EADDRINUSE : errno_from_lwip(e));
    pcb_ = lpcb;  // tcp_listen() freed the old PCB
    tcp_arg(lpcb, this);
    tcp_accept(lpcb, accept_trampoline);
    tcp_backlog_set(lpcb, limit);
    listening_ = true;
    backlog_ = backlog;
    remember_names();
    refresh();
    return {};
}

// inet_csk_accept(): one connection off the queue, or wait (exclusively, one waiter per
// connection) unless nonblocking.
kstd::Result<FileRef> TcpSocket::accept(int flags, bool nonblock) {
    for (;;) {
        uint64_t timeout;
        {
            StackGuard guard;
            timeout = opts_.rcvtimeo_ns;
            if (!listening_) return kstd::err(EINVAL);
            if (acceptq_len_ > 0) {
                kstd::ListNode* first = acceptq_.next;
                kstd::list_del_init(first);
                --acceptq_len_;
                TcpSocket* child = kstd::container_of(first, &TcpSocket::accept_link_);
                if (child->pcb_ != nullptr) tcp_backlog_accepted(child->pcb_);
                child->set_flags(abi::kO_RDWR | (flags & abi::kSOCK_NONBLOCK));
                refresh();
                return FileRef(child);  // the queue's reference becomes the caller's
            }
            if (nonblock) return kstd::err(EAGAIN);
        }
        int w = wait_for(kIn | abi::kEPOLLERR | abi::kEPOLLHUP, timeout, true);
        if (w < 0) return kstd::err(-w);
    }
}

// __inet_stream_connect(): starting the connection and the first look at its state happen
// under one hold of the lock, so a nonblocking connect always says EINPROGRESS first.
kstd::Result<void> TcpSocket::connect(const SockAddr& addr, bool nonblock) {
    int err = 0;
    bool started = false;
    for (;;) {
        uint64_t timeout;
        {
            StackGuard guard;
            timeout = opts_.sndtimeo_ns;
            if (!started) {
                started = true;
                kstd::Result<int> begun = begin_connect(addr);
                if (!begun.ok()) return begun.error();
                err = begun.value();
                if (err == 0) return {};  // AF_UNSPEC: disconnected
            }
            tcp_state st = state();
            if (st != SYN_SENT && st != SYN_RCVD) {
                if (st == CLOSED) {  // refused, reset or timed out: sock_error
                    int e = take_error();
                    ss_ = SockState::unconnected;
                    return kstd::err(e != 0 ? e : ECONNABORTED);
                }
                ss_ = SockState::connected;
                return {};
            }
            if (nonblock) return kstd::err(err);
        }
        int w = wait_for(kOut | abi::kEPOLLERR | abi::kEPOLLHUP, timeout);
        if (w == -EAGAIN) return kstd::err(EINPROGRESS);
        if (w < 0) return kstd::err(-w);
    }
}

// The state switch of __inet_stream_connect(): EINPROGRESS for a new attempt, EALREADY for one
// under way, 0 after an AF_UNSPEC disconnect; errors as Linux gives them.
kstd::Result<int> TcpSocket::begin_connect(const SockAddr& addr) {
    if (addr.len < sizeof(uint16_t)) return kstd::err(EINVAL);
    uint16_t sa_family;
    std::memcpy(&sa_family, addr.data, sizeof(sa_family));
    if (sa_family == abi::kAF_UNSPEC) {  // disconnect: tcp_disconnect()
        if (pcb_ != nullptr && !listening_) {
            tcp_pcb* pcb = pcb_;
            detach();
            tcp_abort(pcb);
        }
        free_receive_queue();
        ss_ = SockState::unconnected;
        shutdown_ = 0;
        done_ = false;
        refresh();
        return 0;
    }
    if (ss_ == SockState::connected) return kstd::err(EISCONN);
    if (ss_ == SockState::connecting) return EALREADY;
    if (listening_ || state() != CLOSED) return kstd::err(EISCONN);
    kstd::Result<Endpoint> ep = endpoint_from(addr, family_, opts_.v6only, ENETUNREACH, false);
    if (!ep.ok()) return ep.error();
    ip_addr_t ip = ep.value().ip;
    if (ip_addr_isany(&ip)) {  // connect() to INADDR_ANY means loopback, a BSD habit Linux keeps
        if (IP_IS_V4_VAL(ip)) ip_addr_set_loopback(0, &ip);
        else ip_addr_set_loopback(1, &ip);
    }
    TRY(ensure_pcb());
    shutdown_ = 0;
    done_ = false;
    established_ = false;
    err_t e = tcp_connect(pcb_, &ip, ep.value().port, connected_trampoline);
    if (e != ERR_OK) return kstd::err(e == ERR_USE ? EADDRNOTAVAIL : errno_from_lwip(e));
    bound_ = true;
    remember_names();
    ss_ = SockState::connecting;
    refresh();
    return EINPROGRESS;
}

// inet_getname() / inet6_getname().
kstd::Result<void> TcpSocket::getname(SockAddr& out, bool peer) {
    StackGuard guard;
    remember_names();
    if (peer) {
        tcp_state st = state();
        if (peer_port_ == 0 || st == CLOSED || st == SYN_SENT || st == TIME_WAIT || listening_)
            return kstd::err(ENOTCONN);
        sockaddr_from(peer_ip_, peer_port_, family_, out);
        return {};
    }
    sockaddr_from(local_ip_, local_port_, family_, out);
    return {};
}

// tcp_close(): unread data or SO_LINGER {1, 0} resets the connection; otherwise FIN and lwIP
// finishes the close on its own. A listener resets the connections nobody accepted.
namespace {

// The connection a lingering close waits on, found again by its tuple: lwIP frees a closed
// connection's PCB without telling anyone (TIME-WAIT's end, a new SYN reusing the tuple).
struct Tuple {
    ip_addr_t local_ip, remote_ip;
    u16_t local_port, remote_port;
};

bool fin_unacked(const Tuple& t) {
    StackGuard guard;
    const tcp_pcb* pcb = tcp_index_find(&t.local_ip, t.local_port, &t.remote_ip, t.remote_port);
    return pcb != nullptr && tcp_fin_unacked(*pcb);
}

// sk_stream_wait_close(): until the FIN is acknowledged, the time is up or a signal comes. No
// callback tells a detached socket about its PCB, so the state is looked at every millisecond
// (a close that lingers is rare; the unikernel's exit waits for its FINs the same way).
void linger_wait(const Tuple& t, uint64_t timeout_ns) {
    uint64_t deadline = platform::monotonic_ns() + timeout_ns;
    WaitQueueHead nobody;
    while (fin_unacked(t)) {
        uint64_t now = platform::monotonic_ns();
        if (now >= deadline) return;
        if (wait_event(nobody, [] { return false; }, std::min(deadline, now + 1'000'000)) == -EINTR) return;
    }
}

}  // namespace

void TcpSocket::release() {
    kstd::ListNode orphans;
    Tuple tuple{};
    uint64_t linger_ns = 0;
    {
        StackGuard guard;
        if (listening_) {
            kstd::list_splice_init(&acceptq_, &orphans);
            acceptq_len_ = 0;
            tcp_pcb* pcb = pcb_;
            detach();
            tcp_close(pcb);
            listening_ = false;
        } else if (pcb_ != nullptr) {
            tcp_pcb* pcb = pcb_;
            bool reset = abort_on_release_ || rq_bytes_ > 0 || (opts_.linger.l_onoff != 0 && opts_.linger.l_linger == 0);
            // SO_LINGER's time (inet_release(): not while the process exits).
            if (!reset && opts_.linger.l_onoff != 0 && !platform::process_exiting()) {
                linger_ns = uint64_t(opts_.linger.l_linger) * 1'000'000'000u;
                tuple = Tuple{pcb->local_ip, pcb->remote_ip, pcb->local_port, pcb->remote_port};
            }
            detach();
            if (reset || tcp_close(pcb) != ERR_OK) {
                tcp_abort(pcb);
                linger_ns = 0;
            }
        }
        free_receive_queue();
    }
    if (linger_ns != 0) linger_wait(tuple, linger_ns);
    // Each child's own release takes stack_lock: put them with it dropped.
    while (!orphans.empty()) {
        kstd::ListNode* first = orphans.next;
        kstd::list_del_init(first);
        TcpSocket* child = kstd::container_of(first, &TcpSocket::accept_link_);
        {
            StackGuard guard;
            child->abort_on_release_ = true;
        }
        child->put();
    }
}

}  // namespace pollux::net
