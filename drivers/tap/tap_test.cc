// TapDevice against the real Linux TAP driver.
//
// The binary moves itself into a network namespace of its own before any test runs (it must be
// root), so "ptap0", its addresses and every frame stay private and vanish with the process.
// IPv6 is off in that namespace: with it, Linux would send router solicitations and MLD reports
// at moments of its choosing and the frame counts below would not be exact.
//
// The test thread plays the stack's net-rx runner: the installed runner only records that the
// irq thread scheduled the context, and pump() polls it from the test thread.
#include "drivers/tap.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

namespace {

using pollux::net::Napi;
using pollux::net::RxBuf;
using pollux::tap::TapDevice;
using pollux::tap::TapOptions;
using Bytes = std::vector<uint8_t>;
using Clock = std::chrono::steady_clock;

constexpr const char* kIfname = "ptap0";
constexpr uint16_t kEtherTest = 0x88b5;  // IEEE 802 local experimental EtherType

class PrivateNetns : public testing::Environment {
public:
    void SetUp() override {
        if (unshare(CLONE_NEWNET) != 0) {
            fprintf(stderr, "tap-tests: unshare(CLONE_NEWNET): %s (the tests need root)\n", strerror(errno));
            return;
        }
        if (FILE* f = fopen("/proc/sys/net/ipv6/conf/default/disable_ipv6", "we")) {
            fputs("1", f);
            fclose(f);
        }
        ready = true;
    }
    static inline bool ready = false;
};
[[maybe_unused]] testing::Environment* const netns = testing::AddGlobalTestEnvironment(new PrivateNetns);

int sh(const std::string& cmd) { return system(("PATH=/usr/sbin:/sbin:$PATH " + cmd).c_str()); }

bool wait_until(const std::function<bool()>& done, int ms) {
    auto deadline = Clock::now() + std::chrono::milliseconds(ms);
    while (!done()) {
        if (Clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

std::atomic<int> schedules{0};
std::atomic<Napi*> last_scheduled{nullptr};
void record_schedule(Napi& napi) {
    last_scheduled.store(&napi);
    schedules.fetch_add(1);
}

class CopySink final : public pollux::net::RxSink {
public:
    void receive(RxBuf* buf) override {
        frames.emplace_back(buf->data, buf->data + buf->len);
        napi_ids.push_back(buf->napi_id);
        held.push_back(buf);
    }
    void release_all() {
        for (RxBuf* b : held) b->release(b);
        held.clear();
    }
    std::vector<Bytes> frames;
    std::vector<unsigned> napi_ids;
    std::vector<RxBuf*> held;
};

std::array<uint8_t, 6> linux_mac(const char* ifname) {
    std::array<uint8_t, 6> mac{};
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr = {};
    strncpy(ifr.ifr_name, ifname, IFNAMSIZ - 1);
    if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0) memcpy(mac.data(), ifr.ifr_hwaddr.sa_data, 6);
    close(s);
    return mac;
}

void put16(Bytes& b, size_t at, uint16_t v) {
    b[at] = static_cast<uint8_t>(v >> 8);
    b[at + 1] = static_cast<uint8_t>(v);
}
uint16_t get16(const Bytes& b, size_t at) { return static_cast<uint16_t>(b[at] << 8 | b[at + 1]); }
void put_ip(Bytes& b, size_t at, const char* ip) {
    in_addr a{};
    inet_pton(AF_INET, ip, &a);
    memcpy(&b[at], &a, 4);
}
bool ip_at(const Bytes& b, size_t at, const char* ip) {
    in_addr a{};
    inet_pton(AF_INET, ip, &a);
    return b.size() >= at + 4 && memcmp(&b[at], &a, 4) == 0;
}

Bytes eth_header(const std::array<uint8_t, 6>& dst, const std::array<uint8_t, 6>& src, uint16_t type) {
    Bytes b(14);
    memcpy(&b[0], dst.data(), 6);
    memcpy(&b[6], src.data(), 6);
    put16(b, 12, type);
    return b;
}

uint16_t ipv4_checksum(const uint8_t* h, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i < len; i += 2) sum += static_cast<uint32_t>(h[i] << 8 | h[i + 1]);
    while ((sum >> 16) != 0) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

// UDP datagram sent by Linux to a neighbour, so that Linux has to ARP for it.
void linux_sendto(const char* ip, const char* payload) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(9);
    inet_pton(AF_INET, ip, &to.sin_addr);
    EXPECT_GE(sendto(s, payload, strlen(payload), 0, reinterpret_cast<sockaddr*>(&to), sizeof to), 0)
        << strerror(errno);
    close(s);
}

class TapTest : public testing::Test {
protected:
    void SetUp() override {
        // A test that cannot run fails rather than passing by skipping itself.
        ASSERT_TRUE(PrivateNetns::ready) << "needs root for a private network namespace";
        pollux::net::napi_set_runner(&record_schedule);
    }
    void TearDown() override {
        sink.release_all();
        delete dev;
        pollux::net::napi_set_runner(nullptr);
    }

    void open_tap(const TapOptions& options) {
        auto r = TapDevice::open(kIfname, options);
        ASSERT_TRUE(r.ok()) << strerror(r.error_code());
        dev = r.value();
        ASSERT_EQ(sh(std::string("ip addr add 10.99.0.1/24 dev ") + kIfname + " && ip link set " + kIfname + " up"), 0);
        host_mac = linux_mac(kIfname);
        dev->attach(&sink);
    }

    // The runner's part: poll whenever the irq scheduled the context, until done() or `ms`.
    bool pump(const std::function<bool()>& done, int ms = 2000) {
        return wait_until(
            [&] {
                for (int round = 0; round < 64 && dev->napi().scheduled(); ++round) dev->napi().poll(64);
                return done();
            },
            ms);
    }

    // Frames as if from the wire: an AF_PACKET socket transmits them out of the Linux side.
    void inject(int count, size_t len, uint8_t tag = 0) {
        int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        ASSERT_GE(s, 0) << strerror(errno);
        sockaddr_ll to{};
        to.sll_family = AF_PACKET;
        to.sll_ifindex = static_cast<int>(if_nametoindex(kIfname));
        to.sll_halen = 6;
        Bytes frame = eth_header(dev->mac(), host_mac, kEtherTest);
        frame.resize(len, tag);
        for (int i = 0; i < count; ++i) {
            frame[14] = static_cast<uint8_t>(i);
            ASSERT_EQ(sendto(s, frame.data(), frame.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
                      static_cast<ssize_t>(frame.size()))
                << strerror(errno);
        }
        close(s);
    }

    TapDevice* dev = nullptr;
    CopySink sink;
    std::array<uint8_t, 6> host_mac{};
};

TEST_F(TapTest, IdentityIsOurOwn) {
    open_tap({});
    EXPECT_STREQ(dev->name(), kIfname);
    EXPECT_EQ(dev->mtu(), 1500);
    EXPECT_EQ(dev->mac()[0], 0x02);  // locally administered, unicast
    EXPECT_NE(dev->mac(), host_mac);
    EXPECT_EQ(dev->rx_buffers_total(), 4096u);
}

TEST_F(TapTest, ArpRequestArrivesThroughNapi) {
    open_tap({256, 2048});
    int before = schedules.load();
    linux_sendto("10.99.0.2", "hello");
    ASSERT_TRUE(wait_until([&] { return schedules.load() > before; }, 2000)) << "irq never scheduled";
    EXPECT_EQ(last_scheduled.load(), &dev->napi());

    const Bytes* arp = nullptr;
    ASSERT_TRUE(pump([&] {
        for (const Bytes& f : sink.frames) {
            if (f.size() >= 42 && get16(f, 12) == 0x0806 && ip_at(f, 38, "10.99.0.2")) arp = &f;
        }
        return arp != nullptr;
    })) << "no ARP request among "
        << sink.frames.size() << " frames";
    EXPECT_EQ(Bytes(arp->begin(), arp->begin() + 6), Bytes(6, 0xff));
    EXPECT_EQ(Bytes(arp->begin() + 6, arp->begin() + 12), Bytes(host_mac.begin(), host_mac.end()));
    EXPECT_EQ(get16(*arp, 14), 1);       // htype Ethernet
    EXPECT_EQ(get16(*arp, 16), 0x0800);  // ptype IPv4
    EXPECT_EQ(get16(*arp, 20), 1);       // request
    EXPECT_TRUE(ip_at(*arp, 28, "10.99.0.1"));
    for (unsigned id : sink.napi_ids) EXPECT_EQ(id, dev->napi().id());

    auto c = dev->counters();
    EXPECT_GE(c.rx_packets, 1u);
    EXPECT_GE(c.rx_bytes, 42u);
    EXPECT_GE(c.interrupts, 1u);
    EXPECT_GE(c.polls, 1u);
    EXPECT_EQ(dev->rx_buffers_free(), 256u - sink.held.size());
    sink.release_all();
    EXPECT_EQ(dev->rx_buffers_free(), 256u);
}

TEST_F(TapTest, ArpReplyAndUdpReachLinux) {
    open_tap({256, 2048});
    const uint16_t port = 40123;
    int rx = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in at{};
    at.sin_family = AF_INET;
    at.sin_port = htons(port);
    inet_pton(AF_INET, "10.99.0.1", &at.sin_addr);
    ASSERT_EQ(bind(rx, reinterpret_cast<sockaddr*>(&at), sizeof at), 0) << strerror(errno);
    timeval two_s{2, 0};
    setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &two_s, sizeof two_s);
    // Linux takes an ARP reply only for an address it is resolving (arp_accept = 0), so make it
    // ask first; the datagram waits in the neighbour queue for our answer.
    linux_sendto("10.99.0.2", "queued");

    Bytes arp = eth_header(host_mac, dev->mac(), 0x0806);
    arp.resize(42);
    put16(arp, 14, 1);
    put16(arp, 16, 0x0800);
    arp[18] = 6;
    arp[19] = 4;
    put16(arp, 20, 2);  // reply
    memcpy(&arp[22], dev->mac().data(), 6);
    put_ip(arp, 28, "10.99.0.2");
    memcpy(&arp[32], host_mac.data(), 6);
    put_ip(arp, 38, "10.99.0.1");

    const std::string payload = "pollux over tap: byte exact \x01\x02\xff";
    Bytes eth = eth_header(host_mac, dev->mac(), 0x0800);
    Bytes hdr(28);  // IPv4 + UDP
    hdr[0] = 0x45;
    put16(hdr, 2, static_cast<uint16_t>(28 + payload.size()));
    hdr[8] = 64;
    hdr[9] = IPPROTO_UDP;
    put_ip(hdr, 12, "10.99.0.2");
    put_ip(hdr, 16, "10.99.0.1");
    put16(hdr, 10, ipv4_checksum(hdr.data(), 20));
    put16(hdr, 20, 5353);
    put16(hdr, 22, port);
    put16(hdr, 24, static_cast<uint16_t>(8 + payload.size()));  // checksum 0: none (RFC 768)

    pollux::net::TxSeg arp_seg{arp.data(), arp.size()};
    pollux::net::TxSeg udp_segs[3] = {
        {eth.data(), eth.size()}, {hdr.data(), hdr.size()}, {payload.data(), payload.size()}};
    size_t udp_len = eth.size() + hdr.size() + payload.size();
    pollux::net::TxFrame frames[2] = {{&arp_seg, 1, arp.size()}, {udp_segs, 3, udp_len}};
    ASSERT_EQ(dev->transmit(frames, 2), 2);

    char got[256];
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    ssize_t n = recvfrom(rx, got, sizeof got, 0, reinterpret_cast<sockaddr*>(&from), &from_len);
    ASSERT_GE(n, 0) << strerror(errno);
    EXPECT_EQ(std::string(got, static_cast<size_t>(n)), payload);
    EXPECT_EQ(ntohs(from.sin_port), 5353);
    close(rx);

    // The reply resolved 10.99.0.2 to our MAC: Linux now sends the queued datagram to us.
    EXPECT_TRUE(pump([&] {
        for (const Bytes& f : sink.frames) {
            if (f.size() >= 34 && memcmp(f.data(), dev->mac().data(), 6) == 0 && get16(f, 12) == 0x0800 &&
                ip_at(f, 30, "10.99.0.2"))
                return true;
        }
        return false;
    })) << "Linux did not take our ARP reply";
    auto c = dev->counters();
    EXPECT_EQ(c.tx_packets, 2u);
    EXPECT_EQ(c.tx_bytes, arp.size() + udp_len);
    EXPECT_EQ(c.tx_dropped, 0u);
}

TEST_F(TapTest, EmptyPoolDropsAndCounts) {
    open_tap({2, 2048});
    inject(8, 64);
    ASSERT_TRUE(pump([&] {
        auto c = dev->counters();
        return c.rx_packets + c.rx_dropped >= 8;
    }));
    auto c = dev->counters();
    EXPECT_EQ(c.rx_packets, 2u);
    EXPECT_EQ(c.rx_dropped, 6u);
    EXPECT_EQ(dev->rx_buffers_free(), 0u);

    sink.release_all();
    EXPECT_EQ(dev->rx_buffers_free(), 2u);
    inject(1, 64);
    EXPECT_TRUE(pump([&] { return dev->counters().rx_packets == 3; }));
}

// While buffers sit with the stack, those handed up once less than a quarter of the pool is
// free ask the stack to copy the frame and give the buffer back (RxBuf::copy_now).
TEST_F(TapTest, LowPoolAsksTheStackToCopy) {
    open_tap({8, 2048});
    inject(8, 64);
    ASSERT_TRUE(pump([&] { return sink.held.size() == 8; }));
    for (size_t i = 0; i < 8; ++i) EXPECT_EQ(sink.held[i]->copy_now, i >= 6) << "buffer " << i;
    sink.release_all();
}

TEST_F(TapTest, OversizedFrameIsDroppedNotTruncated) {
    open_tap({16, 2048});
    // A larger MTU after open: frames now exceed the buffers sized at open.
    ASSERT_EQ(sh(std::string("ip link set ") + kIfname + " mtu 4000"), 0);
    inject(1, 3000);
    inject(1, 100);
    ASSERT_TRUE(pump([&] {
        auto c = dev->counters();
        return c.rx_packets + c.rx_dropped >= 2;
    }));
    EXPECT_EQ(dev->counters().rx_dropped, 1u);
    ASSERT_EQ(sink.frames.size(), 1u);
    EXPECT_EQ(sink.frames[0].size(), 100u);
}

TEST_F(TapTest, BudgetBoundsAPollAndBusyPollRearms) {
    open_tap({64, 2048});
    inject(10, 60);
    ASSERT_TRUE(wait_until([&] { return dev->napi().scheduled(); }, 2000));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let all ten reach the TAP queue
    EXPECT_EQ(dev->napi().poll(4), 4);
    EXPECT_TRUE(dev->napi().scheduled());  // a full budget keeps the context
    EXPECT_EQ(dev->napi().poll(64), 6);
    EXPECT_FALSE(dev->napi().scheduled());

    // Busy poll on an idle device: claim masks the irq, the empty poll completes and unmasks.
    ASSERT_TRUE(dev->napi().claim());
    EXPECT_EQ(dev->napi().poll(8), 0);
    int before = schedules.load();
    inject(1, 60);
    EXPECT_TRUE(wait_until([&] { return schedules.load() > before; }, 2000)) << "irq not re-armed";
    EXPECT_TRUE(pump([&] { return sink.frames.size() == 11; }));
    EXPECT_EQ(dev->counters().busy_polls, 1u);
}

TEST_F(TapTest, BuffersOutliveTheDevice) {
    open_tap({8, 2048});
    inject(3, 60, 0xab);
    ASSERT_TRUE(pump([&] { return sink.held.size() == 3; }));
    delete dev;
    dev = nullptr;
    // The stack may keep frames after the driver is gone; ASan checks the memory is still ours.
    for (RxBuf* b : sink.held) EXPECT_EQ(b->data[20], 0xab);
    sink.release_all();
}

TEST_F(TapTest, OpenRejectsBadArguments) {
    EXPECT_EQ(TapDevice::open("name-longer-than-ifnamsiz").error_code(), EINVAL);
    EXPECT_EQ(TapDevice::open("").error_code(), EINVAL);
    EXPECT_EQ(TapDevice::open(nullptr).error_code(), EINVAL);
    EXPECT_EQ(TapDevice::open(kIfname, {0, 2048}).error_code(), EINVAL);
}

}  // namespace
