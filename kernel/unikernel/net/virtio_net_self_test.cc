#include "net/virtio_net_self_test.h"

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/tsc.h"
#include "console/printk.h"
#include "net/napi_runner.h"
#include "net/virtio_net_mmio.h"
#include "net/virtio_net_pci.h"

namespace pollux::net {
namespace {

constexpr int kFailed = 5;
constexpr uint8_t kVector = 0x42;
constexpr int kBudget = 64;
constexpr uint8_t kOurIp[4] = {10, 0, 2, 15}, kGatewayIp[4] = {10, 0, 2, 2};
constexpr uint8_t kSlirpGatewayMac[6] = {0x52, 0x55, 0x0a, 0x00, 0x02, 0x02};
constexpr uint16_t kEthArp = 0x0806, kEthIpv4 = 0x0800;
constexpr uint16_t kPingId = 0x5058;
constexpr size_t kPingPayload = 56;
constexpr size_t kPingFrame = 14 + 20 + 8 + kPingPayload;
constexpr int kBurstFrames = 2000, kBurstBatch = 32;

void put16(uint8_t* p, uint16_t v) {
    p[0] = uint8_t(v >> 8);
    p[1] = uint8_t(v);
}
uint16_t get16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }

// RFC 1071.
uint16_t inet_checksum(const uint8_t* p, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) sum += get16(p + i);
    if (len & 1) sum += uint32_t(p[len - 1]) << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return uint16_t(~sum);
}

// What the test learned from the frames it received.
struct Observed {
    bool arp_reply = false;
    uint8_t gateway_mac[6] = {};
    int echo_replies = 0;
    int other = 0;
    uint8_t seen[kBurstFrames / 8 + 1] = {};
};

// Keeps the received buffers until the test loop looks at them, then releases them: the
// zero-copy path, with release() running after the poll that delivered the buffer.
class HoldingSink final : public RxSink {
public:
    void receive(RxBuf* buf) override {
        if (count_ < kMax) held_[count_++] = buf;
        else buf->release(buf);
    }
    void drain(Observed& seen) {
        for (int i = 0; i < count_; ++i) {
            inspect(held_[i]->data, held_[i]->len, seen);
            held_[i]->release(held_[i]);
        }
        count_ = 0;
    }

private:
    static void inspect(const uint8_t* f, uint32_t len, Observed& seen) {
        if (len >= 42 && get16(f + 12) == kEthArp && get16(f + 20) == 2 && memcmp(f + 28, kGatewayIp, 4) == 0) {
            seen.arp_reply = true;
            memcpy(seen.gateway_mac, f + 22, 6);
            return;
        }
        if (len >= 42 && get16(f + 12) == kEthIpv4 && f[23] == 1 && memcmp(f + 26, kGatewayIp, 4) == 0 &&
            f[34] == 0 && get16(f + 38) == kPingId) {
            uint16_t seq = get16(f + 40);
            if (seq < kBurstFrames && !(seen.seen[seq / 8] & (1 << seq % 8))) {
                seen.seen[seq / 8] = uint8_t(seen.seen[seq / 8] | 1 << seq % 8);
                ++seen.echo_replies;
            }
            return;
        }
        ++seen.other;
    }
    static constexpr int kMax = 512;
    RxBuf* held_[kMax];
    int count_ = 0;
};

HoldingSink sink;
Observed observed;

void build_arp_request(uint8_t* f, const std::array<uint8_t, 6>& mac) {
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, mac.data(), 6);
    put16(f + 12, kEthArp);
    put16(f + 14, 1);        // Ethernet
    put16(f + 16, kEthIpv4);
    f[18] = 6;
    f[19] = 4;
    put16(f + 20, 1);        // request
    memcpy(f + 22, mac.data(), 6);
    memcpy(f + 28, kOurIp, 4);
    memcpy(f + 38, kGatewayIp, 4);
}

// Two segments, as the stack's pbuf chains come: the headers, then the payload.
void build_ping(uint8_t* headers, uint8_t* payload, const std::array<uint8_t, 6>& mac, const uint8_t* gw_mac,
                uint16_t seq) {
    memcpy(headers, gw_mac, 6);
    memcpy(headers + 6, mac.data(), 6);
    put16(headers + 12, kEthIpv4);
    uint8_t* ip = headers + 14;
    memset(ip, 0, 20);
    ip[0] = 0x45;
    put16(ip + 2, uint16_t(20 + 8 + kPingPayload));
    put16(ip + 4, seq);
    ip[8] = 64;
    ip[9] = 1;  // ICMP
    memcpy(ip + 12, kOurIp, 4);
    memcpy(ip + 16, kGatewayIp, 4);
    put16(ip + 10, inet_checksum(ip, 20));
    uint8_t* icmp = ip + 20;
    memset(icmp, 0, 8);
    icmp[0] = 8;  // echo request
    put16(icmp + 4, kPingId);
    put16(icmp + 6, seq);
    for (size_t i = 0; i < kPingPayload; ++i) payload[i] = uint8_t(seq + i);
    // The ICMP checksum covers header and payload: sum them as one message.
    uint8_t whole[8 + kPingPayload];
    memcpy(whole, icmp, 8);
    memcpy(whole + 8, payload, kPingPayload);
    put16(icmp + 2, inet_checksum(whole, sizeof whole));
}

uint64_t now_us() { return tsc::ticks_to_ns(cpu::rdtsc()) / 1000; }

// Runs the NAPI runner and looks at what arrived until done() or the timeout; sleeps in hlt
// between, woken by the RX interrupt or a 1 ms timer.
template <typename Done>
bool wait_for(Done done, uint64_t timeout_us) {
    uint64_t deadline = now_us() + timeout_us;
    for (;;) {
        napi_runner_run(kBudget);
        sink.drain(observed);
        if (done()) return true;
        if (now_us() > deadline) return false;
        lapic::timer_oneshot(1'000'000);
        cpu::sti_hlt();
        cpu::cli();
    }
}

void print_counters(virtio::VirtioNet& dev) {
    DeviceCounters c = dev.counters();
    printk("virtio-net: rx %lu packets %lu bytes %lu dropped; tx %lu packets %lu bytes %lu dropped; "
           "%lu polls, %lu interrupts, %lu busy polls; %lu tx notifications, tx ring full %lu times\n",
           c.rx_packets, c.rx_bytes, c.rx_dropped, c.tx_packets, c.tx_bytes, c.tx_dropped, c.polls, c.interrupts,
           c.busy_polls, dev.tx_notifications(), dev.tx_ring_full());
}

bool resolve_gateway(virtio::VirtioNet& dev) {
    uint8_t arp[60];
    build_arp_request(arp, dev.mac());
    TxSeg seg{arp, sizeof arp};
    TxFrame frame{&seg, 1, sizeof arp};
    uint64_t start = now_us();
    if (dev.transmit(&frame, 1) != 1) return false;
    if (!wait_for([] { return observed.arp_reply; }, 2'000'000)) {
        printk("virtio-net: no ARP reply from 10.0.2.2 within 2 s\n");
        return false;
    }
    const uint8_t* m = observed.gateway_mac;
    printk("virtio-net: ARP reply: 10.0.2.2 is at %02x:%02x:%02x:%02x:%02x:%02x after %lu us\n", m[0], m[1], m[2], m[3],
           m[4], m[5], now_us() - start);
    return memcmp(m, kSlirpGatewayMac, 6) == 0;
}

bool ping(virtio::VirtioNet& dev, int count) {
    uint64_t start = now_us();
    for (int i = 0; i < count; ++i) {
        uint8_t headers[14 + 20 + 8], payload[kPingPayload];
        build_ping(headers, payload, dev.mac(), observed.gateway_mac, uint16_t(i));
        TxSeg segs[2] = {{headers, sizeof headers}, {payload, sizeof payload}};
        TxFrame frame{segs, 2, kPingFrame};
        if (dev.transmit(&frame, 1) != 1) return false;
        int want = i + 1;
        if (!wait_for([want] { return observed.echo_replies >= want; }, 2'000'000)) {
            printk("virtio-net: echo request %d got no reply within 2 s\n", i);
            return false;
        }
    }
    printk("virtio-net: %d echo replies from 10.0.2.2 in %lu us\n", observed.echo_replies, now_us() - start);
    return true;
}

// Batches of pings as fast as the TX ring takes them. A batch the ring cannot take whole is
// retried after a poll; no progress for a second is a stall.
bool burst(virtio::VirtioNet& dev) {
    static uint8_t frames[kBurstBatch][kPingFrame];
    uint64_t start = now_us(), last_progress = start;
    int sent = 0, retries = 0;
    uint64_t dropped_before = dev.counters().tx_dropped;
    while (sent < kBurstFrames) {
        int n = kBurstFrames - sent < kBurstBatch ? kBurstFrames - sent : kBurstBatch;
        TxSeg segs[kBurstBatch][2];
        TxFrame batch[kBurstBatch];
        for (int i = 0; i < n; ++i) {
            build_ping(frames[i], frames[i] + 42, dev.mac(), observed.gateway_mac, uint16_t(sent + i));
            segs[i][0] = {frames[i], 42};
            segs[i][1] = {frames[i] + 42, kPingPayload};
            batch[i] = {segs[i], 2, kPingFrame};
        }
        int taken = dev.transmit(batch, n);
        sent += taken;
        if (taken > 0) last_progress = now_us();
        if (taken < n) ++retries;
        if (now_us() - last_progress > 1'000'000) {
            printk("virtio-net: TX stalled at %d of %d frames\n", sent, kBurstFrames);
            return false;
        }
        napi_runner_run(kBudget);
        sink.drain(observed);
    }
    uint64_t sent_us = now_us() - start;
    wait_for([] { return observed.echo_replies >= kBurstFrames; }, 3'000'000);
    uint64_t total_us = now_us() - start;
    // The retried frames were counted as dropped by transmit(); none is lost for good.
    uint64_t requeued = dev.counters().tx_dropped - dropped_before;
    printk("virtio-net: burst of %d echo requests queued in %lu us (%d batches retried, %lu frames requeued), "
           "%d replies after %lu us\n",
           kBurstFrames, sent_us, retries, requeued, observed.echo_replies, total_us);
    return observed.echo_replies >= kBurstFrames * 9 / 10;
}

}  // namespace

int virtio_net_self_test(bool with_burst) {
    napi_runner_init();
    virtio::VirtioNet* dev = virtio_net_pci_probe(kVector);
    if (dev == nullptr) dev = virtio_net_mmio_probe(kVector);
    if (dev == nullptr) return kFailed;
    dev->attach(&sink);
    if (!dev->link_up()) {
        printk("virtio-net: link down\n");
        return kFailed;
    }
    bool event_idx = (dev->negotiated_features() & virtio::feature(virtio::kFeatRingEventIdx)) != 0;
    bool ok = resolve_gateway(*dev) && ping(*dev, 4);
    if (ok && with_burst) {
        if (!event_idx) {
            printk("virtio-net: EVENT_IDX was not negotiated; the burst test needs it\n");
            ok = false;
        } else {
            ok = burst(*dev);
        }
    }
    print_counters(*dev);
    printk("virtio-net: %s\n", ok ? "ok" : "FAILED");
    return ok ? 0 : kFailed;
}

}  // namespace pollux::net
