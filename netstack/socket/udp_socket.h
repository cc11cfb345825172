// UdpSocket: a UDP socket over an lwIP udp_pcb, after Linux's net/ipv4/udp.c and
// datagram_poll(). Received datagrams queue as lwIP's pbufs (the driver's buffers) with their
// source; a queue beyond SO_RCVBUF drops the datagram and counts it (RcvbufErrors).
//
// Locking: as TcpSocket, everything under stack_lock except the published mask and wq_.
#pragma once

#include <atomic>
#include <cstdint>

#include "eventpoll/socket.h"
#include "eventpoll/wait_queue.h"
#include "kstd/list.h"
#include "lwip/ip_addr.h"
#include "lwip/udp.h"
#include "netstack/stack.h"
#include "sock_opts.h"

namespace pollux::net {

class UdpSocket final : public Socket {
public:
    static kstd::Result<FileRef> create(int family, int flags);

    PollMask poll(PollTable* pt) override;
    unsigned napi_id() const override { return napi_id_.load(std::memory_order_relaxed); }
    kstd::Result<long> ioctl(unsigned long cmd, uintptr_t arg) override;

    kstd::Result<void> bind(const SockAddr& addr) override;
    kstd::Result<void> connect(const SockAddr& addr, bool nonblock) override;
    kstd::Result<void> getname(SockAddr& out, bool peer) override;
    kstd::Result<size_t> sendmsg(IoIter& from, int flags, const SockAddr* to) override;
    kstd::Result<size_t> recvmsg(IoIter& to, int flags, SockAddr* from, int* msg_flags) override;
    kstd::Result<void> shutdown(int how) override;
    kstd::Result<void> setsockopt(int level, int name, const void* val, unsigned len) override;
    kstd::Result<void> getsockopt(int level, int name, void* val, unsigned* len) override;

    void on_recv(pbuf* p, const ip_addr_t* addr, u16_t port) REQUIRES(stack_lock);
    void on_error(int err) REQUIRES(stack_lock);

protected:
    void release() override;

private:
    struct Datagram {
        kstd::ListNode link;
        pbuf* p;
        ip_addr_t from;
        uint16_t port;
    };

    UdpSocket(int family, int flags);
    void refresh() REQUIRES(stack_lock);
    kstd::Result<void> ensure_bound() REQUIRES(stack_lock);

    const int family_;
    udp_pcb* pcb_ GUARDED_BY(stack_lock) = nullptr;
    bool bound_ GUARDED_BY(stack_lock) = false;
    bool connected_ GUARDED_BY(stack_lock) = false;
    bool user_addr_ GUARDED_BY(stack_lock) = false;  // bind() named the address (SOCK_BINDADDR_LOCK)
    bool user_port_ GUARDED_BY(stack_lock) = false;  // bind() named the port (SOCK_BINDPORT_LOCK)
    uint8_t shutdown_ GUARDED_BY(stack_lock) = 0;
    int err_ GUARDED_BY(stack_lock) = 0;
    SockOpts opts_ GUARDED_BY(stack_lock);
    kstd::ListNode queue_ GUARDED_BY(stack_lock);
    size_t queued_bytes_ GUARDED_BY(stack_lock) = 0;
    uint64_t drops_ GUARDED_BY(stack_lock) = 0;
    std::atomic<PollMask> mask_{0};
    std::atomic<unsigned> napi_id_{0};
    WaitQueueHead wq_;
};

// An ICMP port unreachable quoting our datagram from local port sport to dst:dport: the
// connected socket it came from gets ECONNREFUSED (Linux reports it to connected sockets only).
void udp_port_unreachable(const ip_addr_t& dst, uint16_t sport, uint16_t dport) REQUIRES(stack_lock);

// Datagrams dropped for a full receive queue, all UDP sockets (/proc/net/snmp RcvbufErrors).
uint64_t udp_rcvbuf_errors();

}  // namespace pollux::net
