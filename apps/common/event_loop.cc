#include "event_loop.h"

#include <errno.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

namespace apps {

EventLoop::~EventLoop() {
    if (epfd_ >= 0) close(epfd_);
}

bool EventLoop::open(int shutdown_fd) {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) return false;
    shutdown_fd_ = shutdown_fd;
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the shutdown eventfd is the only descriptor without a handler
    update_clock();
    return epoll_ctl(epfd_, EPOLL_CTL_ADD, shutdown_fd, &ev) == 0;
}

bool EventLoop::add(int fd, uint32_t events, Handler* handler) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = handler;
    return epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) == 0;
}

void EventLoop::remove(int fd) { epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::update_clock() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    now_ms_ = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

void EventLoop::run() {
    running_ = true;
    epoll_event events[256];
    while (running_) {
        int n = epoll_wait(epfd_, events, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("epoll_wait");
            return;
        }
        update_clock();
        for (int i = 0; i < n; ++i) {
            auto* h = static_cast<Handler*>(events[i].data.ptr);
            if (h == nullptr) {
                running_ = false;
                continue;
            }
            h->on_events(events[i].events);
        }
        retired_.clear();
    }
}

PeriodicTimer::~PeriodicTimer() {
    if (fd_ >= 0) close(fd_);
}

bool PeriodicTimer::start(EventLoop& loop, int period_ms) {
    fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd_ < 0) return false;
    itimerspec its{};
    its.it_interval.tv_sec = period_ms / 1000;
    its.it_interval.tv_nsec = static_cast<long>(period_ms % 1000) * 1000000;
    its.it_value = its.it_interval;
    return timerfd_settime(fd_, 0, &its, nullptr) == 0 && loop.add(fd_, EPOLLIN, this);
}

void PeriodicTimer::on_events(uint32_t) {
    uint64_t expirations;
    if (read(fd_, &expirations, sizeof expirations) == sizeof expirations) tick_();
}

}  // namespace apps
