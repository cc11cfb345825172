// TapDevice receive side: the emulated interrupt (irq thread) and the NAPI poll.
//
// The irq thread owns nothing but its loop variables. It reads `irq_enabled_` before choosing
// what to wait on: armed, it waits on the TAP descriptor and the eventfd; masked, only on the
// eventfd. Unmasking flips `irq_enabled_` and then writes the eventfd, and an eventfd stays
// readable until read, so an unmask that races with the thread going to sleep still wakes it.
#include <poll.h>
#include <sys/uio.h>
#include <time.h>

#include <cstdint>

#include "drivers/tap.h"
#include "raw_syscall.h"
#include "rx_pool.h"

namespace pollux::tap {

namespace {

constexpr long kEthHeader = 14;

}  // namespace

void* TapDevice::irq_thread(void* self) {
    static_cast<TapDevice*>(self)->irq_loop();
    return nullptr;
}

void TapDevice::irq_loop() {
    bool tap_broken = false;
    // schedule() found the context taken (busy poll claimed it): whoever holds it completes,
    // which unmasks and writes the eventfd, so until then only the eventfd is worth watching.
    bool held_elsewhere = false;
    while (!stopping_.load(std::memory_order_acquire)) {
        bool armed = irq_enabled_.load(std::memory_order_acquire) && !held_elsewhere && !tap_broken;
        struct pollfd fds[2] = {{event_fd_, POLLIN, 0}, {tap_fd_, POLLIN, 0}};
        long r = raw_syscall(SYS_ppoll, arg(fds), armed ? 2 : 1, 0, 0, 8);
        if (r < 0) {
            if (r == -EINTR) continue;
            note_error(rx_error_logged_, "ppoll", r);
            struct timespec pause = {0, 10'000'000L};  // ENOMEM passes; don't spin on it
            raw_syscall(SYS_nanosleep, arg(&pause), 0);
            continue;
        }
        if ((fds[0].revents & POLLIN) != 0) {
            uint64_t count = 0;
            raw_syscall(SYS_read, event_fd_, arg(&count), sizeof count);
            held_elsewhere = false;
        }
        if (!armed) continue;
        if ((fds[1].revents & (POLLERR | POLLHUP | POLLNVAL)) != 0) {
            // The interface was deleted under us: level-triggered, this would spin forever.
            note_error(rx_error_logged_, "poll", -EIO);
            tap_broken = true;
        } else if ((fds[1].revents & POLLIN) != 0 && !napi_.schedule()) {
            held_elsewhere = true;
        }
    }
}

void TapDevice::wake_irq_thread() {
    uint64_t one = 1;
    raw_syscall(SYS_write, event_fd_, arg(&one), sizeof one);
}

void TapDevice::napi_irq(net::Napi& napi, bool enable) {
    auto* dev = static_cast<TapDevice*>(napi.owner());
    if (!enable) {
        dev->irq_enabled_.store(false, std::memory_order_release);
        return;
    }
    if (!dev->irq_enabled_.exchange(true, std::memory_order_acq_rel)) dev->wake_irq_thread();
}

int TapDevice::napi_poll(net::Napi& napi, int budget) {
    auto* dev = static_cast<TapDevice*>(napi.owner());
    napi.polls.fetch_add(1, std::memory_order_relaxed);
    int done = dev->receive_burst(budget);
    // No re-check after complete(): the irq thread polls the descriptor level-triggered once
    // unmasked, so a frame that arrived meanwhile schedules us again.
    if (done < budget) napi.complete();
    return done;
}

// Every frame read counts against the budget, dropped or not: the budget bounds the time a
// poll holds the stack lock, and each read is a syscall.
int TapDevice::receive_burst(int budget) {
    net::RxSink* sink = sink_.load(std::memory_order_acquire);
    int done = 0;
    while (done < budget) {
        net::RxBuf* buf = sink != nullptr ? pool_->take() : nullptr;
        long room = buf != nullptr ? pool_->buffer_bytes() : 0;
        // A TAP read copies what fits and drops the rest of the frame without a word
        // (drivers/net/tun.c, tun_put_user()), so the scratch catches any overflow: n > room
        // is a frame too large for our buffers (the MTU grew after open), not one to deliver.
        struct iovec iov[2] = {{buf != nullptr ? buf->data : nullptr, static_cast<size_t>(room)},
                               {rx_scratch_, kScratchBytes}};
        long n = buf != nullptr ? raw_syscall(SYS_readv, tap_fd_, arg(iov), 2)
                                : raw_syscall(SYS_readv, tap_fd_, arg(&iov[1]), 1);
        if (n < 0) {
            if (buf != nullptr) RxPool::put(buf);
            if (n != -EAGAIN) note_error(rx_error_logged_, "read", n);
            break;
        }
        ++done;
        if (buf == nullptr || n < kEthHeader || n > room) {
            if (buf != nullptr) RxPool::put(buf);
            live_.rx_dropped.fetch_add(1, std::memory_order_relaxed);
            continue;
        }
        buf->len = static_cast<uint32_t>(n);
        buf->napi_id = napi_.id();
        live_.rx_packets.fetch_add(1, std::memory_order_relaxed);
        live_.rx_bytes.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
        sink->receive(buf);
    }
    return done;
}

}  // namespace pollux::tap
