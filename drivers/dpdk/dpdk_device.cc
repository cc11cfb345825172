// DpdkDevice: set-up, transmit, and the irq thread. The receive path is dpdk_device_rx.cc.
// Our headers before DPDK's: rte_common.h defines a container_of macro that would rewrite
// kstd's container_of template.
#include "drivers/dpdk.h"
#include "dpdk_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <vector>

namespace pollux::dpdk {

namespace {

std::atomic<bool> opened{false};

// Splits "a b  c" into argv {"pollux", "a", "b", "c"}; the strings live in `storage`.
std::vector<char*> split_args(const char* args, std::vector<char>& storage) {
    storage.assign(args, args + strlen(args) + 1);
    std::vector<char*> argv;
    static char prog[] = "pollux";
    argv.push_back(prog);
    char* save = nullptr;
    for (char* tok = strtok_r(storage.data(), " \t", &save); tok != nullptr; tok = strtok_r(nullptr, " \t", &save))
        argv.push_back(tok);
    return argv;
}

// EAL pins the thread that initialises it to its main lcore; that thread is one of the
// application's, which must keep running wherever the host scheduler likes.
int eal_init_keeping_affinity(std::vector<char*>& argv) {
    cpu_set_t saved;
    bool have_saved = pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0;
    int r = rte_eal_init(static_cast<int>(argv.size()), argv.data());
    if (have_saved) pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
    return r;
}

rte_mempool* make_pool(const char* name, unsigned n) {
    // No per-lcore cache: the application's threads are not EAL lcores, and the one thread that
    // is (the initialiser) must not keep a cache others cannot reach.
    constexpr uint16_t kPriv = RTE_ALIGN(sizeof(net::RxBuf), RTE_MBUF_PRIV_ALIGN);
    return rte_pktmbuf_pool_create(name, n, 0, kPriv, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
}

// Configures the port with an Rx-queue interrupt if the PMD has one; returns its descriptor,
// or -1 when the port runs without (the irq thread then polls on a timer), or -2 on failure.
int configure_port(uint16_t port, rte_mempool* rx_pool) {
    rte_eth_conf conf{};
    conf.intr_conf.rxq = 1;
    bool intr = rte_eth_dev_configure(port, 1, 1, &conf) == 0;
    if (!intr) {
        conf.intr_conf.rxq = 0;
        if (rte_eth_dev_configure(port, 1, 1, &conf) != 0) return -2;
    }
    uint16_t nb_rx = 1024, nb_tx = 1024;
    rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rx, &nb_tx);
    int socket = rte_eth_dev_socket_id(port);
    if (rte_eth_rx_queue_setup(port, 0, nb_rx, socket, nullptr, rx_pool) != 0) return -2;
    if (rte_eth_tx_queue_setup(port, 0, nb_tx, socket, nullptr) != 0) return -2;
    if (rte_eth_dev_start(port) != 0) return -2;
    if (!intr) return -1;
    int fd = rte_eth_dev_rx_intr_ctl_q_get_fd(port, 0);
    if (fd < 0) return -1;
    rte_eth_dev_rx_intr_enable(port, 0);  // some PMDs arm only on request; the rest ignore it
    return fd;
}

void drain_eventfd(int fd) {
    uint64_t count;
    [[maybe_unused]] ssize_t r = ::read(fd, &count, sizeof(count));  // nonblocking: nothing to read is fine
}

}  // namespace

rte_mempool* tx_pool = nullptr;

kstd::Result<DpdkDevice*> DpdkDevice::open(const char* eal_args) {
    if (opened.exchange(true)) return kstd::Error{EBUSY};  // one EAL, one port per process
    std::vector<char> storage;
    std::vector<char*> argv = split_args(eal_args, storage);
    if (eal_init_keeping_affinity(argv) < 0) {
        fprintf(stderr, "pollux: dpdk: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return kstd::Error{EINVAL};
    }
    uint16_t port = RTE_MAX_ETHPORTS;
    uint16_t p;
    RTE_ETH_FOREACH_DEV(p) {
        port = p;
        break;
    }
    if (port == RTE_MAX_ETHPORTS) return kstd::Error{ENODEV};
    // Receive buffers stay with the sockets until read (zero-copy), so transmit has a pool of
    // its own: a backlog of unread data never stops ACKs from going out.
    rte_mempool* rx_pool = make_pool("pollux_rx", 16383);
    tx_pool = make_pool("pollux_tx", 4095);
    if (rx_pool == nullptr || tx_pool == nullptr) return kstd::Error{ENOMEM};
    int intr_fd = configure_port(port, rx_pool);
    if (intr_fd == -2) return kstd::Error{EIO};
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) return kstd::Error{errno};

    auto* dev = new DpdkDevice(port, rx_pool, intr_fd, efd);
    rte_ether_addr mac;
    if (rte_eth_macaddr_get(port, &mac) == 0) std::copy(mac.addr_bytes, mac.addr_bytes + 6, dev->mac_.begin());
    uint16_t mtu = 1500;
    rte_eth_dev_get_mtu(port, &mtu);
    // One mbuf holds a frame (no scattered receive): the MTU cannot exceed its data room.
    dev->mtu_ = std::min<uint16_t>(mtu, RTE_MBUF_DEFAULT_DATAROOM - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN - 4);
    snprintf(dev->name_, sizeof(dev->name_), "dpdk%u", port);

    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);  // the application's signals are not ours
    int err = pthread_create(&dev->irq_thread_, nullptr, &DpdkDevice::irq_thread, dev);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    if (err != 0) {
        delete dev;
        return kstd::Error{err};
    }
    dev->irq_thread_running_ = true;
    rte_eth_dev_info info{};
    rte_eth_dev_info_get(port, &info);
    fprintf(stderr, "pollux: %s: %s, MTU %u, %s\n", dev->name_, info.driver_name != nullptr ? info.driver_name : "?",
            dev->mtu_, intr_fd >= 0 ? "Rx interrupts" : "no Rx interrupt: polled 20 us to 1 ms apart when idle");
    return dev;
}

DpdkDevice::DpdkDevice(uint16_t port, rte_mempool* pool, int rx_intr_fd, int event_fd)
    : port_(port), pool_(pool), rx_intr_fd_(rx_intr_fd), event_fd_(event_fd), napi_(napi_poll, napi_irq, this) {}

// The mbuf pools stay: buffers still held by sockets are freed into them whenever they are read.
DpdkDevice::~DpdkDevice() {
    stopping_.store(true);
    wake_irq_thread();
    if (irq_thread_running_) pthread_join(irq_thread_, nullptr);
    rte_eth_dev_stop(port_);
    rte_eth_dev_close(port_);
    ::close(event_fd_);
}

void DpdkDevice::attach(net::RxSink* sink) {
    sink_.store(sink, std::memory_order_release);
    napi_irq(napi_, true);  // the first unmask: frames flow from now on
}

net::DeviceCounters DpdkDevice::counters() const {
    return live_.snapshot(napi_.polls.load(std::memory_order_relaxed), napi_.interrupts.load(std::memory_order_relaxed),
                          napi_.busy_polls.load(std::memory_order_relaxed));
}

// Every frame is copied into one mbuf of the transmit pool; the whole batch is one burst (one
// doorbell). What the ring does not take is dropped and counted, as a full ring is.
int DpdkDevice::transmit(const net::TxFrame* frames, int count) {
    int sent_total = 0;
    constexpr int kChunk = 64;
    for (int base = 0; base < count; base += kChunk) {
        int n = std::min(kChunk, count - base);
        rte_mbuf* m[kChunk];
        if (rte_pktmbuf_alloc_bulk(tx_pool, m, static_cast<unsigned>(n)) != 0) {
            live_.tx_dropped.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
            continue;
        }
        int ready = 0;
        uint64_t bytes = 0;
        for (int i = 0; i < n; ++i) {
            const net::TxFrame& f = frames[base + i];
            char* dst = f.len <= 0xffff ? rte_pktmbuf_append(m[i], static_cast<uint16_t>(f.len)) : nullptr;
            if (dst == nullptr) {  // larger than an mbuf: the stack's MTU says it cannot happen
                rte_pktmbuf_free(m[i]);
                live_.tx_dropped.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            for (int s = 0; s < f.nsegs; ++s) {
                memcpy(dst, f.segs[s].data, f.segs[s].len);
                dst += f.segs[s].len;
            }
            bytes += f.len;
            m[ready++] = m[i];
        }
        uint16_t sent = rte_eth_tx_burst(port_, 0, m, static_cast<uint16_t>(ready));
        for (int i = sent; i < ready; ++i) {
            bytes -= rte_pktmbuf_pkt_len(m[i]);
            rte_pktmbuf_free(m[i]);
        }
        live_.tx_dropped.fetch_add(static_cast<uint64_t>(ready - sent), std::memory_order_relaxed);
        live_.tx_packets.fetch_add(sent, std::memory_order_relaxed);
        live_.tx_bytes.fetch_add(bytes, std::memory_order_relaxed);
        sent_total += sent;
    }
    return sent_total;
}

void DpdkDevice::napi_irq(net::Napi& napi, bool enable) {
    auto* dev = static_cast<DpdkDevice*>(napi.owner());
    dev->irq_enabled_.store(enable, std::memory_order_release);
    if (enable) dev->wake_irq_thread();
}

void DpdkDevice::wake_irq_thread() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t r = ::write(event_fd_, &one, sizeof(one));
}

void* DpdkDevice::irq_thread(void* self) {
    pthread_setname_np(pthread_self(), "pollux-dpdk-irq");
    auto* dev = static_cast<DpdkDevice*>(self);
    dev->take_queue_signal();
    dev->irq_loop();
    return nullptr;
}

// net_tap asks the kernel for a real-time signal whenever its queue turns readable (F_SETSIG,
// owned by the process) and counts them in a handler: its Rx burst reads nothing until the
// count moves. Process-directed, the signal lands in any application thread and interrupts
// whatever it is blocked in with EINTR, a signal the application never asked for. Directed
// at this thread instead (F_SETOWN_EX), which unblocks just that signal, the handler runs here.
void DpdkDevice::take_queue_signal() {
    if (rx_intr_fd_ < 0) return;
    int sig = fcntl(rx_intr_fd_, F_GETSIG);
    if (sig <= 0) return;
    f_owner_ex owner{F_OWNER_TID, static_cast<pid_t>(gettid())};
    if (fcntl(rx_intr_fd_, F_SETOWN_EX, &owner) != 0) return;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_UNBLOCK, &one, nullptr);
    fprintf(stderr, "pollux: %s: the queue's signal %d goes to the irq thread\n", name_, sig);
}

void DpdkDevice::irq_loop() {
    int backoff_us = kPollMinUs;
    while (!stopping_.load(std::memory_order_acquire)) {
        if (rx_intr_fd_ >= 0) {
            bool enabled = irq_enabled_.load(std::memory_order_acquire);
            // Level-triggered on the queue's descriptor, watched only while unmasked: an unmask
            // (napi_irq) wakes us through the eventfd to watch it again.
            pollfd fds[2] = {{event_fd_, POLLIN, 0}, {rx_intr_fd_, static_cast<short>(enabled ? POLLIN : 0), 0}};
            if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
            if (fds[0].revents & POLLIN) drain_eventfd(event_fd_);
            if ((fds[1].revents & POLLIN) && irq_enabled_.load(std::memory_order_acquire)) napi_.schedule();
            continue;
        }
        // No Rx interrupt: while unmasked, schedule a poll after a pause that is short while
        // frames keep coming and doubles up to kPollMaxUs while the port is idle.
        // Drain first, then read the mask: an unmask that comes after the read leaves the eventfd
        // set, so ppoll returns. The other order lost the unmask whose wake-up the drain ate,
        // and the thread slept with no timeout while the port was unmasked: receive stopped for
        // good (net.dpdk-af_packet failed about one run in ten, ARP unanswered).
        drain_eventfd(event_fd_);
        bool enabled = irq_enabled_.load(std::memory_order_acquire);
        pollfd fd = {event_fd_, POLLIN, 0};
        timespec pause = {0, enabled ? backoff_us * 1000L : 0};
        if (::ppoll(&fd, 1, enabled ? &pause : nullptr, nullptr) < 0 && errno != EINTR) break;
        if (!enabled || !irq_enabled_.load(std::memory_order_acquire)) continue;
        napi_.schedule();
        backoff_us = rx_busy_.load(std::memory_order_relaxed) ? kPollMinUs : std::min(backoff_us * 2, kPollMaxUs);
    }
}

}  // namespace pollux::dpdk
