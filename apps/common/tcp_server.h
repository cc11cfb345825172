// A listening socket and the connections accepted from it, all edge-triggered.
//
// TcpServer owns its connections. They sit on an intrusive list in order of last activity,
// so the idle sweep (a timerfd, when an idle timeout is set) looks only at the oldest ones.
// StreamConnection does the buffered, non-blocking reading and writing; an app derives from
// it and parses its protocol in on_input(), appending replies to out_.
#pragma once

#include <stdint.h>

#include <functional>
#include <memory>

#include "buffer.h"
#include "event_loop.h"

namespace apps {

class TcpServer;

class StreamConnection : public EventLoop::Handler {
public:
    StreamConnection(TcpServer& server, int fd) : server_(server), fd_(fd) {}
    ~StreamConnection() override;
    void on_events(uint32_t events) override;
    // Idempotent; the object lives until the end of the current event batch.
    void close();
    bool closed() const { return closed_; }

protected:
    // Parse what in_ holds; consume what was handled, append replies to out_.
    virtual void on_input() = 0;
    // out_ drained: a streaming reply may append its next part here.
    virtual void on_output_drained() {}
    // Reply what out_ holds, then close (after an error, or "Connection: close").
    void close_after_flush() { close_after_flush_ = true; }
    bool closing() const { return close_after_flush_; }
    // Stop reading until out_ drops below this: a client that never reads cannot grow out_.
    static constexpr size_t kOutputHighWater = 1 << 20;

    TcpServer& server_;
    int fd_;
    Buffer in_;
    Buffer out_;

private:
    friend class TcpServer;
    void pump();
    bool flush();

    bool closed_ = false;
    bool readable_ = true;
    bool writable_ = true;
    bool peer_closed_ = false;
    bool eof_pending_ = false;  // EPOLLRDHUP/EPOLLHUP seen: read on to the end
    bool close_after_flush_ = false;
    int64_t last_active_ms_ = 0;
    StreamConnection* prev_ = nullptr;  // activity order, oldest at the head
    StreamConnection* next_ = nullptr;
};

struct TcpServerCounters {
    uint64_t accepted = 0;
    uint64_t rejected = 0;  // over the connection limit
    uint64_t idle_closed = 0;
    uint64_t active = 0;
    uint64_t bytes_in = 0;
    uint64_t bytes_out = 0;
};

class TcpServer : public EventLoop::Handler {
public:
    using Factory = std::function<std::unique_ptr<StreamConnection>(TcpServer&, int fd)>;

    TcpServer(EventLoop& loop, Factory factory) : loop_(loop), factory_(std::move(factory)) {}
    ~TcpServer() override;
    // Listens on port; max_connections 0 = no limit, idle_timeout_ms 0 = none.
    bool start(uint16_t port, uint32_t max_connections, int idle_timeout_ms);
    void on_events(uint32_t events) override;
    // Closes every connection and the listening socket.
    void close_all();

    EventLoop& loop() { return loop_; }
    TcpServerCounters& counters() { return counters_; }

private:
    friend class StreamConnection;
    void touch(StreamConnection& c);
    void unlink(StreamConnection& c);
    void release(StreamConnection& c);
    void sweep_idle();

    EventLoop& loop_;
    Factory factory_;
    int listen_fd_ = -1;
    uint32_t max_connections_ = 0;
    int idle_timeout_ms_ = 0;
    std::unique_ptr<PeriodicTimer> idle_timer_;
    StreamConnection* head_ = nullptr;
    StreamConnection* tail_ = nullptr;
    TcpServerCounters counters_;
};

}  // namespace apps
