// The apps' single-threaded epoll loop. Handlers are objects registered per descriptor; the
// loop ends when the shutdown eventfd (shutdown.h) becomes readable or stop() is called.
//
// A handler closed while a batch of events is being delivered may still have an event later
// in the same batch, so closed handlers are retired: deleted only after the batch.
#pragma once

#include <stdint.h>

#include <functional>
#include <memory>
#include <vector>

namespace apps {

class EventLoop {
public:
    class Handler {
    public:
        virtual ~Handler() = default;
        virtual void on_events(uint32_t events) = 0;
    };

    ~EventLoop();
    bool open(int shutdown_fd);
    bool add(int fd, uint32_t events, Handler* handler);
    void remove(int fd);
    void retire(std::unique_ptr<Handler> handler) { retired_.push_back(std::move(handler)); }
    void run();
    void stop() { running_ = false; }
    // Monotonic milliseconds, read once per wake-up.
    int64_t now_ms() const { return now_ms_; }

private:
    void update_clock();

    int epfd_ = -1;
    int shutdown_fd_ = -1;
    bool running_ = false;
    int64_t now_ms_ = 0;
    std::vector<std::unique_ptr<Handler>> retired_;
};

// A timerfd that calls back every period_ms.
class PeriodicTimer : public EventLoop::Handler {
public:
    PeriodicTimer(std::function<void()> tick) : tick_(std::move(tick)) {}
    ~PeriodicTimer() override;
    bool start(EventLoop& loop, int period_ms);
    void on_events(uint32_t events) override;

private:
    std::function<void()> tick_;
    int fd_ = -1;
};

}  // namespace apps
