#include "udp_socket.h"

#include <cerrno>
#include <cstring>
#include <new>

#include "eventpoll/wait_event.h"
#include "inet_addr.h"
#include "kernel/platform.h"
#include "lwip/ip.h"
#include "lwip/ip6.h"
#include "lwip/netif.h"

namespace pollux::net {

namespace {

constexpr PollMask kIn = abi::kEPOLLIN | abi::kEPOLLRDNORM;
constexpr PollMask kOut = abi::kEPOLLOUT | abi::kEPOLLWRNORM | abi::kEPOLLWRBAND;
constexpr size_t kMaxPayload4 = 65507;  // 65535 - IPv4 and UDP headers
constexpr size_t kMaxPayload6 = 65527;
constexpr unsigned long kSIOCINQ = 0x541B;
constexpr unsigned long kSIOCOUTQ = 0x5411;
uint64_t rcvbuf_errors = 0;  // guarded by stack_lock

void recv_trampoline(void* arg, udp_pcb*, pbuf* p, const ip_addr_t* addr, u16_t port) {
    stack_lock_held();
    if (arg == nullptr) {
        pbuf_free(p);
        return;
    }
    static_cast<UdpSocket*>(arg)->on_recv(p, addr, port);
}

// Linux charges a datagram's truesize against SO_RCVBUF; a 1-byte datagram costs ~768 bytes.
size_t truesize(const pbuf* p) { return p->tot_len + 512u; }

}  // namespace

uint64_t udp_rcvbuf_errors() {
    StackGuard guard;
    return rcvbuf_errors;
}

UdpSocket::UdpSocket(int family, int flags) : Socket(FileKind::inet, abi::kO_RDWR | flags), family_(family) {
    opts_.rcvbuf = 212992;  // net.core.rmem_default
    opts_.sndbuf = 212992;
}

kstd::Result<FileRef> UdpSocket::create(int family, int flags) {
    stack_init();
    auto* s = new (std::nothrow) UdpSocket(family, flags);
    if (s == nullptr) return kstd::err(ENOBUFS);
    FileRef ref(s);
    StackGuard guard;
    s->pcb_ = udp_new_ip_type(family == abi::kAF_INET ? IPADDR_TYPE_V4 : IPADDR_TYPE_ANY);
    if (s->pcb_ == nullptr) return kstd::err(ENOBUFS);
    udp_recv(s->pcb_, recv_trampoline, s);
    s->refresh();
    return ref;
}

// datagram_poll().
void UdpSocket::refresh() {
    PollMask mask = kOut;
    if (!queue_.empty()) mask |= kIn;
    if (err_ != 0) mask |= abi::kEPOLLERR;
    if ((shutdown_ & 1) != 0) mask |= abi::kEPOLLRDHUP | kIn;
    if (shutdown_ == 3) mask |= abi::kEPOLLHUP;
    mask_.store(mask, std::memory_order_seq_cst);
}

PollMask UdpSocket::poll(PollTable* pt) {
    poll_wait(*this, wq_, pt);
    return mask_.load(std::memory_order_seq_cst);
}

void UdpSocket::on_recv(pbuf* p, const ip_addr_t* addr, u16_t port) {
    if (queued_bytes_ + truesize(p) > static_cast<size_t>(opts_.rcvbuf)) {
        ++rcvbuf_errors;
        ++drops_;
        pbuf_free(p);
        return;
    }
    auto* d = new (std::nothrow) Datagram;
    if (d == nullptr) {
        ++rcvbuf_errors;
        pbuf_free(p);
        return;
    }
    d->p = p;
    ip_addr_copy(d->from, *addr);
    d->port = port;
    kstd::list_add_tail(&d->link, &queue_);
    queued_bytes_ += truesize(p);
    if (current_rx_napi_id != 0) napi_id_.store(current_rx_napi_id, std::memory_order_relaxed);
    refresh();
    wq_.wake_up(abi::kEPOLLIN | abi::kEPOLLPRI | abi::kEPOLLRDNORM | abi::kEPOLLRDBAND, 1);  // sock_def_readable
}

void UdpSocket::on_error(int err) {
    err_ = err;
    refresh();
    wq_.wake_up(abi::kEPOLLERR, 1);  // sock_def_error_report()
}

void udp_port_unreachable(const ip_addr_t& dst, uint16_t sport, uint16_t dport) {
    for (udp_pcb* pcb = udp_pcbs; pcb != nullptr; pcb = pcb->next) {
        if (pcb->recv != recv_trampoline || pcb->recv_arg == nullptr) continue;
        if (pcb->local_port != sport || (pcb->flags & UDP_FLAGS_CONNECTED) == 0) continue;
        if (pcb->remote_port != dport || !ip_addr_cmp(&pcb->remote_ip, &dst)) continue;
        static_cast<UdpSocket*>(pcb->recv_arg)->on_error(ECONNREFUSED);
    }
}

kstd::Result<void> UdpSocket::ensure_bound() {
    if (bound_) return {};
    const ip_addr_t* any = family_ == abi::kAF_INET ? IP4_ADDR_ANY : IP_ANY_TYPE;
    err_t e = udp_bind(pcb_, any, 0);
    if (e != ERR_OK) return kstd::err(EAGAIN);  // no free ephemeral port
    bound_ = true;
    return {};
}

kstd::Result<void> UdpSocket::bind(const SockAddr& addr) {
    StackGuard guard;
    kstd::Result<Endpoint> ep = endpoint_from(addr, family_, opts_.v6only, EINVAL, true);
    if (!ep.ok()) return ep.error();
    if (!is_local_address(ep.value().ip)) return kstd::err(EADDRNOTAVAIL);
    if (bound_) return kstd::err(EINVAL);
    ip_addr_t ip = ep.value().ip;
    if (family_ == abi::kAF_INET6 && !opts_.v6only && IP_IS_V6_VAL(ip) && ip_addr_isany(&ip)) ip = *IP_ANY_TYPE;
    if (opts_.reuseaddr) ip_set_option(pcb_, SOF_REUSEADDR);
    err_t e = udp_bind(pcb_, &ip, ep.value().port);
    if (e != ERR_OK) return kstd::err(e == ERR_USE ? EADDRINUSE : errno_from_lwip(e));
    bound_ = true;
    user_addr_ = !ip_addr_isany(&ip);
    user_port_ = ep.value().port != 0;
    return {};
}

// inet_dgram_connect(): AF_UNSPEC dissolves the association.
kstd::Result<void> UdpSocket::connect(const SockAddr& addr, bool) {
    StackGuard guard;
    if (addr.len < sizeof(uint16_t)) return kstd::err(EINVAL);
    uint16_t sa_family;
    std::memcpy(&sa_family, addr.data, sizeof(sa_family));
    if (sa_family == abi::kAF_UNSPEC) {  // __udp_disconnect()
        udp_disconnect(pcb_);
        connected_ = false;
        if (!user_addr_) ip_addr_set_any(IP_IS_V6_VAL(pcb_->local_ip), &pcb_->local_ip);
        if (!user_port_ && bound_) {
            // An automatic port goes back too: a fresh PCB, same options, same queue.
            udp_pcb* fresh = udp_new_ip_type(IP_GET_TYPE(&pcb_->local_ip));
            if (fresh != nullptr) {
                ip_addr_copy(fresh->local_ip, pcb_->local_ip);
                udp_recv(pcb_, nullptr, nullptr);
                udp_remove(pcb_);
                pcb_ = fresh;
                udp_recv(pcb_, recv_trampoline, this);
                bound_ = user_addr_;
            }
        }
        return {};
    }
    kstd::Result<Endpoint> ep = endpoint_from(addr, family_, opts_.v6only, ENETUNREACH, false);
    if (!ep.ok()) return ep.error();
    TRY(ensure_bound());
    ip_addr_t ip = ep.value().ip;
    if (ip_addr_isany(&ip)) ip_addr_set_loopback(IP_IS_V6_VAL(ip), &ip);
    err_t e = udp_connect(pcb_, &ip, ep.value().port);
    if (e != ERR_OK) return kstd::err(errno_from_lwip(e));
    connected_ = true;
    // ip4_datagram_connect(): an unbound address becomes the route's source address.
    if (ip_addr_isany(&pcb_->local_ip)) {
        struct netif* out = ip_route(&pcb_->local_ip, &ip);
        if (out == nullptr) return kstd::err(ENETUNREACH);
        if (IP_IS_V4_VAL(ip)) {
            if (ip4_addr_isloopback(ip_2_ip4(&ip))) ip_addr_copy(pcb_->local_ip, ip);
            else ip_addr_copy_from_ip4(pcb_->local_ip, *netif_ip4_addr(out));
        } else if (const ip_addr_t* src = ip6_select_source_address(out, ip_2_ip6(&ip))) {
            ip_addr_copy(pcb_->local_ip, *src);
        }
    }
    return {};
}

kstd::Result<void> UdpSocket::getname(SockAddr& out, bool peer) {
    StackGuard guard;
    if (peer) {
        if (!connected_) return kstd::err(ENOTCONN);
        sockaddr_from(pcb_->remote_ip, pcb_->remote_port, family_, out);
        return {};
    }
    sockaddr_from(pcb_->local_ip, pcb_->local_port, family_, out);
    return {};
}

// udp_sendmsg(): one datagram, copied once into a pbuf lwIP sends as it is.
kstd::Result<size_t> UdpSocket::sendmsg(IoIter& from, int flags, const SockAddr* to) {
    if ((flags & abi::kMSG_OOB) != 0) return kstd::err(EOPNOTSUPP);
    size_t len = from.remaining();
    StackGuard guard;
    if ((shutdown_ & 2) != 0) {
        if ((flags & abi::kMSG_NOSIGNAL) == 0) platform::raise_sigpipe();
        return kstd::err(EPIPE);
    }
    Endpoint dest;
    bool has_dest = to != nullptr && to->len != 0;
    if (has_dest) {
        uint16_t sa_family = 0;
        if (to->len >= sizeof(sa_family)) std::memcpy(&sa_family, to->data, sizeof(sa_family));
        kstd::Result<Endpoint> ep = endpoint_from(*to, family_, opts_.v6only, ENETUNREACH, false);
        if (!ep.ok()) return ep.error();
        dest = ep.value();
        if (dest.port == 0) return kstd::err(EINVAL);
        if (ip_addr_isany(&dest.ip)) ip_addr_set_loopback(IP_IS_V6_VAL(dest.ip), &dest.ip);
    } else if (!connected_) {
        return kstd::err(EDESTADDRREQ);
    }
    bool v6 = has_dest ? IP_IS_V6_VAL(dest.ip) : IP_IS_V6_VAL(pcb_->remote_ip);
    if (len > (v6 ? kMaxPayload6 : kMaxPayload4)) return kstd::err(EMSGSIZE);
    TRY(ensure_bound());
    pbuf* p = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(len), PBUF_RAM);
    if (p == nullptr) return kstd::err(ENOBUFS);
    if (len != 0 && from.copy_in(p->payload, len) < len) {
        pbuf_free(p);
        return kstd::err(EFAULT);
    }
    if (opts_.broadcast) ip_set_option(pcb_, SOF_BROADCAST);
    pcb_->ttl = static_cast<u8_t>(opts_.ttl);
    pcb_->tos = static_cast<u8_t>(opts_.tos);
    err_t e = has_dest ? udp_sendto(pcb_, p, &dest.ip, dest.port) : udp_send(pcb_, p);
    pbuf_free(p);
    if (e == ERR_RTE) return kstd::err(ENETUNREACH);
    if (e != ERR_OK && e != ERR_MEM) return kstd::err(errno_from_lwip(e));
    // A datagram the link could not take is lost like one the network drops; Linux reports
    // success too unless the qdisc refuses it.
    return len;
}

// udp_recvmsg(): one datagram per call; the rest of a long one is discarded (MSG_TRUNC).
kstd::Result<size_t> UdpSocket::recvmsg(IoIter& to, int flags, SockAddr* from, int* msg_flags) {
    if ((flags & abi::kMSG_ERRQUEUE) != 0) return kstd::err(EAGAIN);  // nothing is ever queued there
    if ((flags & abi::kMSG_OOB) != 0) return kstd::err(EOPNOTSUPP);
    bool nonblock = (flags & abi::kMSG_DONTWAIT) != 0;
    for (;;) {
        uint64_t timeout;
        {
            StackGuard guard;
            timeout = opts_.rcvtimeo_ns;
            if (!queue_.empty()) {
                Datagram* d = kstd::container_of(queue_.next, &Datagram::link);
                size_t total = d->p->tot_len;
                size_t want = to.remaining() < total ? to.remaining() : total;
                size_t copied = 0;
                for (pbuf* q = d->p; q != nullptr && copied < want; q = q->next) {
                    size_t n = q->len < want - copied ? q->len : want - copied;
                    size_t got = to.copy_out(q->payload, n);
                    copied += got;
                    if (got < n) break;
                }
                if (copied < want) return kstd::err(EFAULT);
                if (from != nullptr) sockaddr_from(d->from, d->port, family_, *from);
                if (copied < total && msg_flags != nullptr) *msg_flags |= abi::kMSG_TRUNC;
                if ((flags & abi::kMSG_PEEK) == 0) {
                    kstd::list_del_init(&d->link);
                    queued_bytes_ -= truesize(d->p);
                    pbuf_free(d->p);
                    delete d;
                    refresh();
                }
                return (flags & abi::kMSG_TRUNC) != 0 ? total : copied;
            }
            if (err_ != 0) {
                int e = err_;
                err_ = 0;
                refresh();
                return kstd::err(e);
            }
            if ((shutdown_ & 1) != 0) return size_t{0};
            if (nonblock) return kstd::err(EAGAIN);
        }
        uint64_t deadline = timeout != 0 ? platform::monotonic_ns() + timeout : 0;
        int w = wait_event(
            wq_, [&] { return (mask_.load(std::memory_order_seq_cst) & (kIn | abi::kEPOLLERR)) != 0; }, deadline);
        if (w == -ETIMEDOUT) return kstd::err(EAGAIN);
        if (w == -EINTR) return kstd::err(timeout == 0 ? abi::kERESTARTSYS : EINTR);
    }
}

// inet_shutdown() on a datagram socket: ENOTCONN unless connected, the bits taken either way.
kstd::Result<void> UdpSocket::shutdown(int how) {
    if (how < abi::kSHUT_RD || how > abi::kSHUT_RDWR) return kstd::err(EINVAL);
    StackGuard guard;
    shutdown_ |= static_cast<uint8_t>(how + 1);
    refresh();
    wq_.wake_up(0, 0);
    if (!connected_) return kstd::err(ENOTCONN);
    return {};
}

kstd::Result<long> UdpSocket::ioctl(unsigned long cmd, uintptr_t arg) {
    int amount = 0;
    {
        StackGuard guard;
        if (cmd == kSIOCINQ) {
            if (!queue_.empty()) amount = kstd::container_of(queue_.next, &Datagram::link)->p->tot_len;
        } else if (cmd != kSIOCOUTQ) {
            return kstd::err(ENOTTY);
        }
    }
    if (arg == 0) return kstd::err(EFAULT);
    std::memcpy(reinterpret_cast<void*>(arg), &amount, sizeof(amount));
    return 0L;
}

kstd::Result<void> UdpSocket::setsockopt(int level, int name, const void* val, unsigned len) {
    StackGuard guard;
    if (level == abi::kSOL_SOCKET) return sol_socket_set(opts_, name, val, len);
    if (level == abi::kIPPROTO_IPV6 && family_ == abi::kAF_INET6 && name == abi::kIPV6_V6ONLY) {
        kstd::Result<int> v = get_int(val, len);
        if (!v.ok()) return v.error();
        if (bound_) return kstd::err(EINVAL);
        opts_.v6only = v.value() != 0;
        IP_SET_TYPE_VAL(pcb_->local_ip, opts_.v6only ? IPADDR_TYPE_V6 : IPADDR_TYPE_ANY);
        return {};
    }
    if (is_recverr(family_, level, name)) return set_flag(opts_.recverr, val, len);
    if (level == abi::kIPPROTO_IP && (name == abi::kIP_TOS || name == abi::kIP_TTL)) {
        kstd::Result<int> v = get_int(val, len);
        if (!v.ok()) return v.error();
        if (name == abi::kIP_TTL) {
            int x = v.value() == -1 ? 64 : v.value();
            if (x < 1 || x > 255) return kstd::err(EINVAL);
            opts_.ttl = x;
        } else {
            opts_.tos = v.value() & 0xff;
        }
        return {};
    }
    return kstd::err(ENOPROTOOPT);
}

kstd::Result<void> UdpSocket::getsockopt(int level, int name, void* val, unsigned* len) {
    StackGuard guard;
    if (level == abi::kSOL_SOCKET) {
        if (name == abi::kSO_ERROR) {
            int e = err_;
            err_ = 0;
            refresh();
            return put_int(val, len, e);
        }
        SockInfo info{family_, abi::kSOCK_DGRAM, abi::kIPPROTO_UDP, false, napi_id()};
        return sol_socket_get(opts_, info, name, val, len);
    }
    if (level == abi::kIPPROTO_IPV6 && family_ == abi::kAF_INET6 && name == abi::kIPV6_V6ONLY)
        return put_int(val, len, opts_.v6only);
    if (is_recverr(family_, level, name)) return put_int(val, len, opts_.recverr);
    if (level == abi::kIPPROTO_IP && name == abi::kIP_TOS) return put_int(val, len, opts_.tos);
    if (level == abi::kIPPROTO_IP && name == abi::kIP_TTL) return put_int(val, len, opts_.ttl);
    return kstd::err(unknown_getsockopt(family_, level));
}

void UdpSocket::release() {
    StackGuard guard;
    if (pcb_ != nullptr) {
        udp_recv(pcb_, nullptr, nullptr);
        udp_remove(pcb_);
        pcb_ = nullptr;
    }
    while (!queue_.empty()) {
        Datagram* d = kstd::container_of(queue_.next, &Datagram::link);
        kstd::list_del_init(&d->link);
        pbuf_free(d->p);
        delete d;
    }
    queued_bytes_ = 0;
}

}  // namespace pollux::net
