// DpdkDevice: a DPDK ethdev port (any poll-mode driver: a bare-metal NIC, or the net_tap and
// net_af_packet virtual devices) as a NIC of the hosted runtime.
//
// DPDK's receive and transmit bursts are not thread-safe per queue; here both run with the
// stack's lock held (NAPI poll and transmit), so one queue pair serves the whole process.
// Received mbufs go up zero-copy: the RxBuf (and lwIP's pbuf inside it) lives in each mbuf's
// private area, and releasing it frees the mbuf back to the pool.
//
// Interrupts: where the PMD has Rx-queue interrupts (net_tap does), an irq thread waits on the
// queue's interrupt descriptor while the queue is unmasked, masks it and schedules NAPI, as for
// the TAP device. Where it has none (af_packet, most bare-metal PMDs in this mode), the irq
// thread schedules NAPI on a timer that backs off from 20 us to 1 ms while the port is idle:
// DPDK's usual 100 % polling core is not something a 2-core host or a shared machine affords.
#pragma once

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>

#include "drivers/napi.h"
#include "drivers/net_device.h"
#include "kstd/result.h"

struct rte_mempool;

namespace pollux::dpdk {

class DpdkDevice final : public net::NetDevice {
public:
    // Initialises DPDK's EAL with `eal_args` (space-separated, as on a DPDK command line, e.g.
    // "--no-pci --in-memory --no-huge -m 256 --vdev=net_tap0,iface=dtap0") once per process,
    // then configures and starts the first available port with one Rx and one Tx queue.
    // Errors: EINVAL (EAL rejected the arguments), ENODEV (no port), EIO (the port would not
    // configure or start), ENOMEM (no mbuf pool). The calling thread's CPU affinity is kept
    // (EAL would pin it to its main lcore).
    static kstd::Result<DpdkDevice*> open(const char* eal_args);
    ~DpdkDevice() override;
    DpdkDevice(const DpdkDevice&) = delete;
    DpdkDevice& operator=(const DpdkDevice&) = delete;

    const char* name() const override { return name_; }
    std::array<uint8_t, 6> mac() const override { return mac_; }
    uint16_t mtu() const override { return mtu_; }
    uint32_t features() const override { return 0; }
    int transmit(const net::TxFrame* frames, int count) override;
    void attach(net::RxSink* sink) override;
    net::DeviceCounters counters() const override;

    net::Napi& napi() { return napi_; }
    bool rx_interrupts() const { return rx_intr_fd_ >= 0; }

private:
    DpdkDevice(uint16_t port, rte_mempool* pool, int rx_intr_fd, int event_fd);
    static int napi_poll(net::Napi& napi, int budget);
    static void napi_irq(net::Napi& napi, bool enable);
    static void* irq_thread(void* self);
    void take_queue_signal();
    void irq_loop();
    void wake_irq_thread();

    char name_[32] = {};
    std::array<uint8_t, 6> mac_{};
    uint16_t mtu_ = 1500;
    uint16_t port_;
    rte_mempool* pool_;
    int rx_intr_fd_;  // -1: the PMD has no Rx interrupt, the irq thread polls on a timer
    int event_fd_;
    std::atomic<net::RxSink*> sink_{nullptr};
    net::Napi napi_;
    pthread_t irq_thread_{};
    bool irq_thread_running_ = false;
    std::atomic<bool> irq_enabled_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<bool> rx_busy_{false};  // the last poll found frames: keep the timer short
    net::LiveCounters live_;
};

}  // namespace pollux::dpdk
