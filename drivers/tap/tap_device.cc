// TapDevice: opening the TAP, control, transmit and teardown. Receive and the irq thread are in
// tap_device_rx.cc. Locking and lifetime rules: drivers/tap.h.
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstdio>
#include <cstring>
#include <new>

#include "drivers/tap.h"
#include "raw_syscall.h"
#include "rx_pool.h"

namespace pollux::tap {

namespace {

static_assert(IFNAMSIZ == 16, "TapDevice::name_ is sized for IFNAMSIZ");

constexpr uint32_t kEthHeader = 14;
constexpr uint32_t kVlanTag = 4;
constexpr uint16_t kDefaultMtu = 1500;
// Segments per frame written straight from the caller's memory; a longer chain is first copied
// into one piece (lwIP chains are a handful of pbufs, so this is the rare case).
constexpr int kMaxIov = 64;

// 02:50:hash: bit 1 of the first octet marks a locally administered unicast address (IEEE
// 802-2014 §8.4). FNV-1a keeps the same name on the same MAC across runs, so the host's
// neighbour cache stays right when a program restarts.
std::array<uint8_t, 6> mac_for(const char* ifname) {
    uint32_t h = 2166136261u;
    for (const char* p = ifname; *p != '\0'; ++p) {
        h = (h ^ static_cast<uint8_t>(*p)) * 16777619u;
    }
    return {0x02,
            0x50,
            static_cast<uint8_t>(h >> 24),
            static_cast<uint8_t>(h >> 16),
            static_cast<uint8_t>(h >> 8),
            static_cast<uint8_t>(h)};
}

// The interface's MTU and its Linux-side MAC, asked through a throwaway AF_INET socket as
// ip(8) does. Failure leaves the defaults: a TAP we just opened exists, so it is not expected.
void query_link(const char* ifname, uint16_t* mtu, std::array<uint8_t, 6>* host_mac) {
    long sock = raw_syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return;
    struct ifreq ifr = {};
    std::memcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    if (raw_syscall(SYS_ioctl, sock, SIOCGIFMTU, arg(&ifr)) == 0 && ifr.ifr_mtu > 0 && ifr.ifr_mtu <= 65535) {
        *mtu = static_cast<uint16_t>(ifr.ifr_mtu);
    }
    if (raw_syscall(SYS_ioctl, sock, SIOCGIFHWADDR, arg(&ifr)) == 0) {
        std::memcpy(host_mac->data(), ifr.ifr_hwaddr.sa_data, 6);
    }
    raw_syscall(SYS_close, sock);
}

// Frames Linux sends into the TAP wait in its queue (txqueuelen, 1000 by default) until we read
// them; what does not fit is dropped. A queue as deep as our receive pool lets a burst that the
// pool can take wait for the next poll instead of being lost (under load the default lost 15 %
// of frames here, and TCP's backed-off retransmissions then stalled connections for minutes).
// Raising it needs CAP_NET_ADMIN, which opening a TAP does too; failing leaves Linux's.
void deepen_queue(const char* ifname, uint32_t frames) {
    long sock = raw_syscall(SYS_socket, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sock < 0) return;
    struct ifreq ifr = {};
    std::memcpy(ifr.ifr_name, ifname, IFNAMSIZ);
    if (raw_syscall(SYS_ioctl, sock, SIOCGIFTXQLEN, arg(&ifr)) == 0 && static_cast<uint32_t>(ifr.ifr_qlen) < frames) {
        ifr.ifr_qlen = static_cast<int>(frames);
        raw_syscall(SYS_ioctl, sock, SIOCSIFTXQLEN, arg(&ifr));
    }
    raw_syscall(SYS_close, sock);
}

}  // namespace

kstd::Result<TapDevice*> TapDevice::open(const char* ifname, const TapOptions& options) {
    size_t len = ifname != nullptr ? strnlen(ifname, IFNAMSIZ) : 0;
    if (len == 0 || len >= IFNAMSIZ) return kstd::err(EINVAL);

    long tap = raw_syscall(SYS_openat, AT_FDCWD, arg("/dev/net/tun"), O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (tap < 0) return kstd::err(static_cast<int>(-tap));
    struct ifreq ifr = {};
    std::memcpy(ifr.ifr_name, ifname, len);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (long r = raw_syscall(SYS_ioctl, tap, TUNSETIFF, arg(&ifr)); r < 0) {
        raw_syscall(SYS_close, tap);
        return kstd::err(static_cast<int>(-r));
    }
    ifr.ifr_name[IFNAMSIZ - 1] = '\0';  // the kernel's name: "tap%d" comes back numbered

    uint16_t mtu = kDefaultMtu;
    std::array<uint8_t, 6> host_mac{};
    query_link(ifr.ifr_name, &mtu, &host_mac);
    deepen_queue(ifr.ifr_name, options.rx_buffers);
    std::array<uint8_t, 6> mac = mac_for(ifr.ifr_name);
    if (mac == host_mac) mac[5] ^= 1;  // two stations, one address: ARP would go nowhere

    long event = raw_syscall(SYS_eventfd2, 0, EFD_NONBLOCK | EFD_CLOEXEC);
    uint32_t room = options.rx_buffer_bytes;
    if (room < mtu + kEthHeader + kVlanTag) room = mtu + kEthHeader + kVlanTag;
    RxPool* pool = event >= 0 ? RxPool::create(options.rx_buffers, room) : nullptr;
    auto* dev =
        pool != nullptr ? new (std::nothrow) TapDevice(static_cast<int>(tap), static_cast<int>(event), pool) : nullptr;
    if (dev == nullptr) {
        if (pool != nullptr) pool->close();
        if (event >= 0) raw_syscall(SYS_close, event);
        raw_syscall(SYS_close, tap);
        return kstd::err(event < 0 ? static_cast<int>(-event) : (options.rx_buffers == 0 ? EINVAL : ENOMEM));
    }
    std::memcpy(dev->name_, ifr.ifr_name, IFNAMSIZ);
    dev->mtu_ = mtu;
    dev->mac_ = mac;

    // Signals belong to the application's threads: the irq thread starts with all blocked.
    sigset_t all;
    sigset_t old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int err = pthread_create(&dev->irq_thread_, nullptr, &TapDevice::irq_thread, dev);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (err != 0) {
        delete dev;
        return kstd::err(err);
    }
    dev->irq_thread_running_ = true;
    return dev;
}

TapDevice::TapDevice(int tap_fd, int event_fd, RxPool* pool)
    : tap_fd_(tap_fd), event_fd_(event_fd), pool_(pool), napi_(&TapDevice::napi_poll, &TapDevice::napi_irq, this) {}

TapDevice::~TapDevice() { close(); }

void TapDevice::close() {
    if (irq_thread_running_) {
        stopping_.store(true, std::memory_order_release);
        wake_irq_thread();
        pthread_join(irq_thread_, nullptr);
        irq_thread_running_ = false;
    }
    if (tap_fd_ >= 0) raw_syscall(SYS_close, tap_fd_);
    if (event_fd_ >= 0) raw_syscall(SYS_close, event_fd_);
    tap_fd_ = event_fd_ = -1;
    if (pool_ != nullptr) pool_->close();
    pool_ = nullptr;
    sink_.store(nullptr, std::memory_order_release);
}

void TapDevice::attach(net::RxSink* sink) {
    sink_.store(sink, std::memory_order_release);
    napi_irq(napi_, true);
}

int TapDevice::transmit(const net::TxFrame* frames, int count) {
    int sent = 0;
    for (int i = 0; i < count; ++i) {
        const net::TxFrame& f = frames[i];
        struct iovec iov[kMaxIov];
        int niov = 0;
        if (f.nsegs <= kMaxIov) {
            for (int s = 0; s < f.nsegs; ++s) {
                iov[niov++] = {const_cast<void*>(f.segs[s].data), f.segs[s].len};
            }
        } else {
            // Transmit runs under the stack lock, as does the NAPI poll: the scratch is free.
            if (f.len > kScratchBytes) {
                live_.tx_dropped.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            size_t at = 0;
            for (int s = 0; s < f.nsegs && at + f.segs[s].len <= f.len; ++s) {
                std::memcpy(rx_scratch_ + at, f.segs[s].data, f.segs[s].len);
                at += f.segs[s].len;
            }
            iov[niov++] = {rx_scratch_, at};
        }
        // A TAP write is one frame (drivers/net/tun.c, tun_get_user()).
        long r = raw_syscall(SYS_writev, tap_fd_, arg(iov), niov);
        if (r >= 0) {
            ++sent;
            live_.tx_packets.fetch_add(1, std::memory_order_relaxed);
            live_.tx_bytes.fetch_add(static_cast<uint64_t>(r), std::memory_order_relaxed);
            continue;
        }
        if (r == -EAGAIN) {
            // The TAP's queue to Linux is full; the rest would meet the same queue.
            live_.tx_dropped.fetch_add(static_cast<uint64_t>(count - i), std::memory_order_relaxed);
            break;
        }
        live_.tx_dropped.fetch_add(1, std::memory_order_relaxed);
        note_error(tx_error_logged_, "writev", r);
    }
    return sent;
}

net::DeviceCounters TapDevice::counters() const {
    return live_.snapshot(napi_.polls.load(std::memory_order_relaxed), napi_.interrupts.load(std::memory_order_relaxed),
                          napi_.busy_polls.load(std::memory_order_relaxed));
}

uint32_t TapDevice::rx_buffers_total() const { return pool_ != nullptr ? pool_->capacity() : 0; }
uint32_t TapDevice::rx_buffers_free() const { return pool_ != nullptr ? pool_->free_count() : 0; }

// Once per direction per device: a link that went away fails every frame, and stderr is the
// application's. A raw write, as the runtime may own the name write().
void TapDevice::note_error(std::atomic<bool>& logged, const char* what, long err) {
    if (logged.exchange(true, std::memory_order_relaxed)) return;
    const char* code = strerrorname_np(static_cast<int>(-err));
    char line[160];
    int n = snprintf(line, sizeof line, "pollux-tap: %s: %s failed: %s (further errors not shown)\n", name_, what,
                     code != nullptr ? code : "unknown error");
    if (n <= 0) return;
    size_t bytes = static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1;
    raw_syscall(SYS_write, 2, arg(line), static_cast<long>(bytes));
}

}  // namespace pollux::tap
