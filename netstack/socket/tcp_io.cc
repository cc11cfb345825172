// TcpSocket: moving data (tcp_sendmsg, tcp_recvmsg), shutdown and the queue ioctls.
#include <cerrno>
#include <cstring>

#include "kernel/platform.h"
#include "tcp_socket.h"

namespace pollux::net {

namespace {

constexpr unsigned long kSIOCINQ = 0x541B;   // FIONREAD
constexpr unsigned long kSIOCOUTQ = 0x5411;  // TIOCOUTQ
constexpr PollMask kWaitData = abi::kEPOLLIN | abi::kEPOLLERR | abi::kEPOLLHUP | abi::kEPOLLRDHUP;
constexpr PollMask kWaitSpace = abi::kEPOLLOUT | abi::kEPOLLERR | abi::kEPOLLHUP;

}  // namespace

// Copies up to max bytes from the receive queue; unless peeking, frees what was consumed and
// opens the window by as much (tcp_recved), which is where back-pressure is released.
size_t TcpSocket::copy_received(IoIter& to, size_t max, bool peek) {
    size_t copied = 0;
    pbuf* p = rq_head_;
    size_t off = rq_off_;
    while (p != nullptr && copied < max) {
        size_t n = p->len - off;
        if (n > max - copied) n = max - copied;
        size_t got = to.copy_out(static_cast<uint8_t*>(p->payload) + off, n);
        copied += got;
        off += got;
        if (got < n) break;  // the caller's buffer faulted
        if (off == p->len) {
            pbuf* next = p->next;
            if (!peek) {
                p->next = nullptr;
                pbuf_free(p);
                rq_head_ = next;
                if (next == nullptr) rq_tail_ = nullptr;
            }
            p = next;
            off = 0;
        }
    }
    if (!peek) {
        rq_off_ = off;
        rq_bytes_ -= copied;
        for (size_t left = copied; left > 0 && pcb_ != nullptr;) {
            u16_t chunk = left > 0xffff ? 0xffff : static_cast<u16_t>(left);
            tcp_recved(pcb_, chunk);
            left -= chunk;
        }
    }
    return copied;
}

// tcp_recvmsg_locked(): data first; then, with nothing copied, FIN (0), the socket's error,
// SHUT_RD (0), a never-connected socket (ENOTCONN), EAGAIN, or a wait.
kstd::Result<size_t> TcpSocket::recvmsg(IoIter& to, int flags, SockAddr* from, int* /*msg_flags*/) {
    if ((flags & abi::kMSG_ERRQUEUE) != 0) return kstd::err(EAGAIN);  // inet_recv_error(): none queued
    if ((flags & abi::kMSG_OOB) != 0) return kstd::err(EINVAL);  // no urgent data is ever queued
    if (from != nullptr) from->len = 0;                          // TCP reports no source address
    size_t size = to.remaining();
    bool peek = (flags & abi::kMSG_PEEK) != 0;
    bool nonblock = (flags & abi::kMSG_DONTWAIT) != 0;
    size_t target = (flags & abi::kMSG_WAITALL) != 0 && !peek && size > 1 ? size : 1;
    size_t copied = 0;
    for (;;) {
        uint64_t timeout;
        {
            StackGuard guard;
            timeout = opts_.rcvtimeo_ns;
            if (listening_) return kstd::err(ENOTCONN);
            copied += copy_received(to, size - copied, peek);
            if (to.faulted() && copied == 0) return kstd::err(EFAULT);
            bool stop = copied >= target || to.faulted() || (peek && copied > 0);
            if (!stop && copied > 0)
                stop = err_ != 0 || state() == CLOSED || (shutdown_ & kRcvShutdown) != 0 || nonblock;
            if (!stop && copied == 0) {
                // SOCK_DONE first, then the error, then SHUT_RD: a FIN seen before a reset
                // reads as EOF and leaves the error for later.
                if (done_ || (err_ == 0 && (shutdown_ & kRcvShutdown) != 0)) {
                    stop = true;
                } else if (err_ != 0) {
                    return kstd::err(take_error());
                } else if (state() == CLOSED) {
                    return kstd::err(ENOTCONN);
                } else if (nonblock) {
                    refresh();
                    return kstd::err(EAGAIN);
                }
            }
            if (stop) {
                refresh();
                return copied;
            }
            refresh();
        }
        int w = wait_for(kWaitData, timeout);
        if (w < 0) {
            if (copied > 0) return copied;
            return kstd::err(-w);
        }
    }
}

// tcp_sendmsg_locked(): waits for the connection, then copies the caller's bytes straight into
// lwIP's send queue (tcp_write copies once) as room allows; blocking sends finish the buffer.
kstd::Result<size_t> TcpSocket::sendmsg(IoIter& from, int flags, const SockAddr* /*to: ignored, as TCP does*/) {
    if ((flags & abi::kMSG_OOB) != 0) return kstd::err(EOPNOTSUPP);
    bool nonblock = (flags & abi::kMSG_DONTWAIT) != 0;
    size_t size = from.remaining();
    size_t sent = 0;
    int error = 0;
    for (;;) {
        PollMask wait_mask = 0;
        uint64_t timeout;
        {
            StackGuard guard;
            timeout = opts_.sndtimeo_ns;
            tcp_state st = state();
            if (err_ != 0) {
                error = sent == 0 ? take_error() : 0;
            } else if (st == SYN_SENT || st == SYN_RCVD) {
                if (nonblock) error = EAGAIN;
                else wait_mask = kWaitSpace;
            } else if ((shutdown_ & kSendShutdown) != 0 || (st != ESTABLISHED && st != CLOSE_WAIT)) {
                error = EPIPE;
            } else {
                bool queued_any = false;
                while (sent < size) {
                    u32_t room = send_room();
                    if (room == 0 || tcp_sndqueuelen(pcb_) + 4 >= TCP_SND_QUEUELEN) break;
                    void* ptr = nullptr;
                    size_t n = from.peek(room < 0xffff ? room : 0xffff, &ptr);
                    if (n == 0) break;
                    u8_t api = TCP_WRITE_FLAG_COPY;
                    if (sent + n < size || (flags & abi::kMSG_MORE) != 0) api |= TCP_WRITE_FLAG_MORE;
                    if (tcp_write(pcb_, ptr, static_cast<u16_t>(n), api) != ERR_OK) break;
                    from.advance(n);
                    sent += n;
                    queued_any = true;
                }
                if (queued_any && (flags & abi::kMSG_MORE) == 0) tcp_output(pcb_);
                if (from.faulted() && sent == 0) error = EFAULT;
                else if (sent < size && !from.faulted()) {
                    if (nonblock) {
                        if (sent == 0) error = EAGAIN;
                        nospace_.store(true, std::memory_order_seq_cst);
                    } else {
                        wait_mask = kWaitSpace;
                    }
                }
            }
            refresh();
        }
        if (error != 0 || wait_mask == 0) break;
        int w = wait_for(wait_mask, timeout);
        if (w < 0) {
            error = sent == 0 ? -w : 0;
            break;
        }
    }
    if (sent > 0 || (error == 0 && size == 0)) return sent;
    if (error == EPIPE && (flags & abi::kMSG_NOSIGNAL) == 0) platform::raise_sigpipe();
    return kstd::err(error != 0 ? error : EAGAIN);
}

// inet_shutdown(): how must be SHUT_RD, SHUT_WR or SHUT_RDWR; a closed socket says ENOTCONN
// but still takes the bits (so pollers see EPOLLHUP).
kstd::Result<void> TcpSocket::shutdown(int how) {
    if (how < abi::kSHUT_RD || how > abi::kSHUT_RDWR) return kstd::err(EINVAL);
    uint8_t bits = static_cast<uint8_t>(how + 1);
    StackGuard guard;
    int err = 0;
    tcp_state st = state();
    if (listening_) {
        if ((bits & kRcvShutdown) != 0) {  // a listener stops listening: tcp_disconnect()
            tcp_pcb* pcb = pcb_;
            detach();
            tcp_close(pcb);
            listening_ = false;
            bound_ = false;
        }
    } else if (st == SYN_SENT) {
        tcp_pcb* pcb = pcb_;
        detach();
        tcp_abort(pcb);
        ss_ = SockState::unconnected;
    } else if (st == CLOSED || st == TIME_WAIT) {
        err = ENOTCONN;
        shutdown_ |= bits;
    } else {
        shutdown_ |= bits;
        if ((bits & kSendShutdown) != 0 && pcb_ != nullptr) {
            // lwIP's shut_rx would reset the peer on later data, which Linux's SHUT_RD never does:
            // only the send side goes to lwIP.
            tcp_shutdown(pcb_, 0, 1);
            if (done_) detach();
        }
    }
    refresh();
    wake(0);  // sk_state_change()
    if (err != 0) return kstd::err(err);
    return {};
}

kstd::Result<long> TcpSocket::ioctl(unsigned long cmd, uintptr_t arg) {
    int amount;
    {
        StackGuard guard;
        if (listening_) return kstd::err(EINVAL);
        if (cmd == kSIOCINQ) amount = static_cast<int>(rq_bytes_);
        else if (cmd == kSIOCOUTQ) amount = pcb_ != nullptr ? static_cast<int>(TCP_SND_BUF - pcb_->snd_buf) : 0;
        else return kstd::err(ENOTTY);
    }
    if (arg == 0) return kstd::err(EFAULT);
    std::memcpy(reinterpret_cast<void*>(arg), &amount, sizeof(amount));
    return 0L;
}

}  // namespace pollux::net
