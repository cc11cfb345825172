// TapDevice: a Linux TAP interface as a NIC of the hosted runtime.
//
// The Linux side of the TAP is the "wire": frames Linux sends out of the interface arrive here,
// frames we transmit enter Linux as if received on it. Our MAC is our own (locally
// administered, derived from the interface name); the TAP's Linux MAC belongs to the host.
//
// Interrupts are emulated: an irq thread waits in ppoll() on the TAP descriptor and an eventfd.
// When the descriptor is readable and the irq is unmasked it calls napi().schedule(), which
// masks it; the NAPI poll reads up to its budget of frames and, on doing less, completes the
// context, which unmasks and wakes the irq thread through the eventfd. The thread polls the
// descriptor level-triggered, so frames that slip in around the unmask are never lost and the
// poll needs no re-check.
//
// Locking: transmit() and napi().poll() are called with the stack's lock held, so neither runs
// concurrently with itself (busy poll included: it takes the same lock). The irq thread touches
// only the Napi and the atomics. RxBuf::release() may run on any thread at any time, even after
// the device is deleted: the receive pool lives until its last buffer is back.
#pragma once

#include <pthread.h>

#include <array>
#include <atomic>
#include <cstdint>

#include "drivers/napi.h"
#include "drivers/net_device.h"
#include "kstd/result.h"

namespace pollux::tap {

class RxPool;

struct TapOptions {
    uint32_t rx_buffers = 4096;
    // Data room per receive buffer; raised to the interface's MTU plus Ethernet and VLAN
    // headers when that is larger, so a frame never lands truncated.
    uint32_t rx_buffer_bytes = 2048;
};

class TapDevice final : public net::NetDevice {
public:
    // Attaches to the TAP named `ifname`, creating it if absent (CAP_NET_ADMIN). Errors:
    // EINVAL (empty or longer than IFNAMSIZ-1, or a TUN of that name), ENOENT (no
    // /dev/net/tun), EPERM, EBUSY (another process holds it), ENOMEM. The caller owns the device.
    static kstd::Result<TapDevice*> open(const char* ifname, const TapOptions& options = {});
    // Stops the irq thread and closes the descriptors; the same as deleting, minus the memory.
    // Detach the device from the stack (its Napi from the runner) first.
    void close();
    ~TapDevice() override;
    TapDevice(const TapDevice&) = delete;
    TapDevice& operator=(const TapDevice&) = delete;

    const char* name() const override { return name_; }
    std::array<uint8_t, 6> mac() const override { return mac_; }
    uint16_t mtu() const override { return mtu_; }
    uint32_t features() const override { return 0; }
    int transmit(const net::TxFrame* frames, int count) override;
    // Starts the irq: frames are read only after the stack has attached.
    void attach(net::RxSink* sink) override;
    net::DeviceCounters counters() const override;

    net::Napi& napi() { return napi_; }
    uint32_t rx_buffers_total() const;
    uint32_t rx_buffers_free() const;

private:
    TapDevice(int tap_fd, int event_fd, RxPool* pool);
    static int napi_poll(net::Napi& napi, int budget);
    static void napi_irq(net::Napi& napi, bool enable);
    static void* irq_thread(void* self);
    void irq_loop();
    void wake_irq_thread();
    int receive_burst(int budget);
    void note_error(std::atomic<bool>& logged, const char* what, long err);

    static constexpr uint32_t kScratchBytes = 65536 + 64;  // the largest frame a TAP can hold

    char name_[16] = {};  // IFNAMSIZ
    std::array<uint8_t, 6> mac_{};
    uint16_t mtu_ = 1500;
    int tap_fd_;
    int event_fd_;
    RxPool* pool_;
    std::atomic<net::RxSink*> sink_{nullptr};
    net::Napi napi_;
    pthread_t irq_thread_{};
    bool irq_thread_running_ = false;
    std::atomic<bool> irq_enabled_{false};
    std::atomic<bool> stopping_{false};
    std::atomic<bool> rx_error_logged_{false}, tx_error_logged_{false};
    net::LiveCounters live_;
    alignas(64) uint8_t rx_scratch_[kScratchBytes];  // drains frames the pool has no room for
};

}  // namespace pollux::tap
