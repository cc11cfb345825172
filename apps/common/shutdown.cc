#include "shutdown.h"

#include <signal.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <thread>

namespace apps {

namespace {

std::atomic<int> g_shutdown_fd{-1};
std::atomic<bool> g_stopping{false};
std::thread g_watcher;

sigset_t shutdown_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}

}  // namespace

void block_shutdown_signals() {
    sigset_t set = shutdown_signals();
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int start_shutdown_watch() {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (fd < 0) return -1;
    g_shutdown_fd = fd;
    g_watcher = std::thread([] {
        sigset_t set = shutdown_signals();
        // A timed wait, so that stop_shutdown_watch() can end the thread without a signal.
        timespec tick{0, 100 * 1000 * 1000};
        while (!g_stopping) {
            if (sigtimedwait(&set, nullptr, &tick) > 0) request_shutdown();
        }
    });
    return fd;
}

void stop_shutdown_watch() {
    g_stopping = true;
    if (g_watcher.joinable()) g_watcher.join();
    int fd = g_shutdown_fd.exchange(-1);
    // Closed explicitly: under the hosted runtime an open descriptor at exit is a leak.
    if (fd >= 0) close(fd);
}

void request_shutdown() {
    int fd = g_shutdown_fd;
    uint64_t one = 1;
    if (fd >= 0 && write(fd, &one, sizeof one) < 0) {
        // The counter cannot overflow with one write per request; nothing else can fail here.
    }
}

}  // namespace apps
