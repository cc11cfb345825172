// pipeline: a plain epoll program (no Pollux header) that moves records through a pipe.
//
// A producer thread writes fixed-size records into a non-blocking pipe, waiting on EPOLLOUT
// when it fills; the main loop drains it on EPOLLIN (edge-triggered), a timerfd prints the
// rate every 500 ms, and an eventfd from the producer says "done". The same source runs on
// Linux, linked against Pollux's hosted runtime, or as an unmodified binary under LD_PRELOAD.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace {

constexpr size_t kRecord = 64;

double now_s() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

void die(const char* what) {
    perror(what);
    exit(1);
}

void produce(int wfd, int done_fd, double seconds, std::atomic<uint64_t>& sent) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLET;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, wfd, &ev) != 0) die("epoll_ctl producer");
    char record[kRecord];
    memset(record, 'r', sizeof record);
    double end = now_s() + seconds;
    uint64_t n = 0;
    while (now_s() < end) {
        ssize_t w = write(wfd, record, sizeof record);
        if (w == static_cast<ssize_t>(sizeof record)) {
            ++n;
            continue;
        }
        if (w < 0 && errno != EAGAIN) die("write");
        epoll_event out;
        epoll_wait(ep, &out, 1, 100);
    }
    sent = n;
    uint64_t one = 1;
    if (write(done_fd, &one, sizeof one) != sizeof one) die("eventfd write");
    close(ep);
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = argc > 1 ? atof(argv[1]) : 3.0;
    int p[2];
    if (pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0) die("pipe2");
    int done = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int tick = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    itimerspec its{{0, 500000000}, {0, 500000000}};
    if (done < 0 || tick < 0 || timerfd_settime(tick, 0, &its, nullptr) != 0) die("eventfd/timerfd");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLET;
    ev.data.fd = p[0];
    epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev);
    ev.events = EPOLLIN;
    ev.data.fd = done;
    epoll_ctl(ep, EPOLL_CTL_ADD, done, &ev);
    ev.data.fd = tick;
    epoll_ctl(ep, EPOLL_CTL_ADD, tick, &ev);

    std::atomic<uint64_t> sent{0};
    std::thread producer(produce, p[1], done, seconds, std::ref(sent));
    uint64_t bytes = 0, wakeups = 0, last_bytes = 0;
    double start = now_s(), last = start;
    bool finished = false;
    char buf[65536];
    while (!finished) {
        epoll_event out[8];
        int n = epoll_wait(ep, out, 8, 1000);
        for (int i = 0; i < n; ++i) {
            ++wakeups;
            if (out[i].data.fd == p[0]) {
                for (ssize_t r; (r = read(p[0], buf, sizeof buf)) > 0;) bytes += static_cast<uint64_t>(r);
            } else if (out[i].data.fd == tick) {
                uint64_t expirations;
                if (read(tick, &expirations, sizeof expirations) == sizeof expirations) {
                    double t = now_s();
                    printf("  %5.1f s  %8.1f MB/s\n", t - start, static_cast<double>(bytes - last_bytes) / (t - last) / 1e6);
                    last = t;
                    last_bytes = bytes;
                }
            } else {
                finished = true;
            }
        }
    }
    producer.join();
    for (ssize_t r; (r = read(p[0], buf, sizeof buf)) > 0;) bytes += static_cast<uint64_t>(r);
    double elapsed = now_s() - start;
    bool intact = bytes == sent.load() * kRecord;
    printf("records sent %llu, bytes received %llu (%s), %.0f records/s, %llu wake-ups\n",
           static_cast<unsigned long long>(sent.load()), static_cast<unsigned long long>(bytes),
           intact ? "all accounted for" : "MISMATCH", static_cast<double>(sent.load()) / elapsed,
           static_cast<unsigned long long>(wakeups));
    close(ep);
    close(tick);
    close(done);
    close(p[0]);
    close(p[1]);
    return intact ? 0 : 1;
}
