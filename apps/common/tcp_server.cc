#include "tcp_server.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "net.h"

namespace apps {

StreamConnection::~StreamConnection() {
    if (fd_ >= 0) ::close(fd_);
}

void StreamConnection::close() {
    if (closed_) return;
    closed_ = true;
    server_.loop().remove(fd_);
    ::close(fd_);
    fd_ = -1;
    server_.release(*this);
}

void StreamConnection::on_events(uint32_t events) {
    if (closed_) return;
    if (events & EPOLLERR) {
        close();
        return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) readable_ = true;
    if (events & (EPOLLRDHUP | EPOLLHUP)) eof_pending_ = true;
    if (events & EPOLLOUT) writable_ = true;
    server_.touch(*this);
    pump();
}

// Edge-triggered: readable_/writable_ stay set until a call finds the socket drained (EAGAIN,
// or a short read) or full, so nothing is left unread or unwritten between edges.
void StreamConnection::pump() {
    for (;;) {
        if (!out_.empty() && writable_ && !flush()) return;
        if (out_.empty()) {
            if (close_after_flush_) {
                close();
                return;
            }
            on_output_drained();
            if (closed_) return;
            if (!out_.empty()) continue;
            // Every whole request got its reply; what in_ may hold now will never be completed.
            if (peer_closed_) {
                close();
                return;
            }
        }
        if (!readable_ || peer_closed_ || close_after_flush_ || out_.size() >= kOutputHighWater) return;
        constexpr size_t kReadSize = 64 * 1024;
        ssize_t r = recv(fd_, in_.prepare(kReadSize), kReadSize, 0);
        if (r > 0) {
            in_.commit(static_cast<size_t>(r));
            server_.counters_.bytes_in += static_cast<uint64_t>(r);
            // A short read emptied the socket: data arriving later raises a new edge, so the
            // recv() that would only say EAGAIN is saved. Not once the peer's FIN was
            // signalled: it raises no further edge, and only reading on finds the end (nginx's
            // ngx_unix_recv and its pending_eof do the same).
            if (static_cast<size_t>(r) < kReadSize && !eof_pending_) readable_ = false;
        } else if (r == 0) {
            peer_closed_ = true;
        } else if (errno == EAGAIN) {
            readable_ = false;
        } else if (errno != EINTR) {
            close();
            return;
        }
        if (r > 0) {
            on_input();
            if (closed_) return;
        }
    }
}

bool StreamConnection::flush() {
    while (!out_.empty()) {
        std::string_view data = out_.view();
        ssize_t w = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
        if (w > 0) {
            out_.consume(static_cast<size_t>(w));
            server_.counters_.bytes_out += static_cast<uint64_t>(w);
        } else if (w < 0 && errno == EAGAIN) {
            writable_ = false;
            return true;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else {
            close();
            return false;
        }
    }
    return true;
}

TcpServer::~TcpServer() { close_all(); }

bool TcpServer::start(uint16_t port, uint32_t max_connections, int idle_timeout_ms) {
    listen_fd_ = listen_tcp(port);
    if (listen_fd_ < 0) return false;
    max_connections_ = max_connections;
    idle_timeout_ms_ = idle_timeout_ms;
    if (idle_timeout_ms > 0) {
        idle_timer_ = std::make_unique<PeriodicTimer>([this] { sweep_idle(); });
        // A quarter of the timeout: a connection lives at most 1.25 times it.
        if (!idle_timer_->start(loop_, std::max(idle_timeout_ms / 4, 10))) return false;
    }
    return loop_.add(listen_fd_, EPOLLIN | EPOLLET, this);
}

void TcpServer::on_events(uint32_t) {
    for (;;) {
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return;  // EAGAIN: drained; EMFILE and the like: the next connection retries
        }
        if (max_connections_ != 0 && counters_.active >= max_connections_) {
            ++counters_.rejected;
            ::close(fd);
            continue;
        }
        // Replies go out as soon as they are whole; the apps never write a reply piecemeal.
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        std::unique_ptr<StreamConnection> c = factory_(*this, fd);
        StreamConnection* raw = c.release();
        if (!loop_.add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, raw)) {
            delete raw;
            continue;
        }
        ++counters_.accepted;
        ++counters_.active;
        touch(*raw);
    }
}

void TcpServer::touch(StreamConnection& c) {
    c.last_active_ms_ = loop_.now_ms();
    if (tail_ == &c) return;
    if (c.prev_ != nullptr || head_ == &c) unlink(c);
    c.prev_ = tail_;
    c.next_ = nullptr;
    (tail_ != nullptr ? tail_->next_ : head_) = &c;
    tail_ = &c;
}

void TcpServer::unlink(StreamConnection& c) {
    (c.prev_ != nullptr ? c.prev_->next_ : head_) = c.next_;
    (c.next_ != nullptr ? c.next_->prev_ : tail_) = c.prev_;
    c.prev_ = c.next_ = nullptr;
}

void TcpServer::release(StreamConnection& c) {
    unlink(c);
    --counters_.active;
    loop_.retire(std::unique_ptr<StreamConnection>(&c));
}

void TcpServer::sweep_idle() {
    int64_t limit = loop_.now_ms() - idle_timeout_ms_;
    while (head_ != nullptr && head_->last_active_ms_ <= limit) {
        ++counters_.idle_closed;
        head_->close();
    }
}

void TcpServer::close_all() {
    while (head_ != nullptr) head_->close();
    if (listen_fd_ >= 0) {
        loop_.remove(listen_fd_);
        ::close(listen_fd_);
        listen_fd_ = -1;
    }
}

}  // namespace apps
