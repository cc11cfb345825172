// fuzz-netif-input: arbitrary Ethernet frames into the netif input path, delivered to the
// interface's RxSink under the stack lock exactly as a driver's NAPI poll does, with real
// sockets behind the stack (TCP :80 accepting, UDP :53 echoing; dual-stack).
//
// The stack's state carries over from one input to the next, so that a SYN in one input and its
// ACK in a later one make a connection: a crash may need the inputs that ran before it.
//
// Three liberties let mutated frames past what a fuzzer cannot forge:
// - the device claims RX checksum offload, so lwIP skips IP/TCP/UDP checksums; ICMP and ICMPv6
//   checksums, which lwIP checks regardless, are recomputed here for unfragmented packets;
// - in a TCP segment with ACK and without SYN, a seq or ack of 0 becomes the stack's rcv_nxt or
//   snd_nxt as its last transmitted segment showed them, so handshakes and data get through;
// - lwIP's clock (sys_now, wrapped at link time) jumps kTickMs every kTickEvery inputs and the
//   timers run, so retransmission, reassembly, ARP/ND and TIME_WAIT expiry happen within a run.
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "eventpoll/sys.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "netstack/inet.h"
#include "netstack/netif.h"
#include "netstack/stack.h"

using namespace pollux;
using namespace pollux::net;

namespace {

constexpr size_t kMaxFrame = 9000;  // jumbo MTU plus header slack
constexpr unsigned kTickEvery = 32;
constexpr uint32_t kTickMs = 500;
constexpr int kMaxConns = 8;

std::atomic<uint32_t> clock_offset_ms{0};

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) { return uint32_t{get16(p)} << 16 | get16(p + 2); }
void put16(uint8_t* p, uint16_t v) { p[0] = v >> 8, p[1] = v & 0xff; }
void put32(uint8_t* p, uint32_t v) { put16(p, v >> 16), put16(p + 2, v & 0xffff); }

// The transport header of an untagged, unfragmented IPv4 or IPv6 frame (IPv6 behind at most
// hop-by-hop, routing and destination options): where it starts and where the IP header says
// the packet ends (possibly past the frame).
struct L4 {
    size_t off, end;
    uint8_t proto;
    bool v6;
};

std::optional<L4> find_l4(const uint8_t* f, size_t n) {
    if (n < 34) return std::nullopt;
    uint16_t type = get16(f + 12);
    if (type == 0x0800 && f[14] >> 4 == 4) {
        size_t ihl = (f[14] & 0xf) * 4u;
        if (ihl < 20 || (get16(f + 20) & 0x3fff) != 0 || get16(f + 16) < ihl) return std::nullopt;
        return L4{14 + ihl, 14u + get16(f + 16), f[23], false};
    }
    if (type != 0x86dd || n < 54 || f[14] >> 4 != 6) return std::nullopt;
    size_t off = 54, end = 54u + get16(f + 18);
    uint8_t next = f[20];
    while (next == 0 || next == 43 || next == 60) {
        if (off + 2 > n) return std::nullopt;
        next = f[off];
        off += (f[off + 1] + 1u) * 8;
    }
    if (next == 44 || off > end) return std::nullopt;  // a fragment: its checksum covers the whole
    return L4{off, end, next, true};
}

uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) sum += get16(p + i);
    if (n & 1) sum += uint32_t{p[n - 1]} << 8;
    return sum;
}

uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(~sum);
}

void fix_icmp_checksum(uint8_t* f, size_t n) {
    std::optional<L4> l4 = find_l4(f, n);
    if (!l4 || l4->off + 4 > n) return;
    size_t len = std::min(l4->end, n) - l4->off;
    uint32_t pseudo = 0;
    if (l4->v6 && l4->proto == 58) {
        pseudo = sum16(f + 22, 32) + (len >> 16) + (len & 0xffff) + 58;  // RFC 8200 section 8.1
    } else if (l4->v6 || l4->proto != 1) {
        return;
    }
    put16(f + l4->off + 2, 0);
    put16(f + l4->off + 2, fold(sum16(f + l4->off, len, pseudo)));
}

class FuzzDevice final : public NetDevice {
public:
    const char* name() const override { return "fuzz0"; }
    std::array<uint8_t, 6> mac() const override { return {0x02, 0, 0, 0x09, 0, 0x02}; }
    uint16_t mtu() const override { return 1500; }
    uint32_t features() const override { return kFeatRxChecksum; }
    void attach(RxSink* s) override { sink = s; }
    DeviceCounters counters() const override {
        DeviceCounters c;
        c.tx_packets = tx_frames;
        return c;
    }

    int transmit(const TxFrame* frames, int count) override {
        for (int i = 0; i < count; ++i) note_tcp(frames[i]);
        tx_frames += static_cast<uint64_t>(count);
        return count;
    }

    // Fills a 0 seq/ack of a peer's ACK segment from what the stack last sent.
    void fix_tcp_numbers(uint8_t* f, size_t n) const {
        std::optional<L4> l4 = find_l4(f, n);
        if (!l4 || l4->proto != 6 || l4->off + 20 > n) return;
        uint8_t* tcp = f + l4->off;
        if ((tcp[13] & 0x12) != 0x10) return;  // ACK without SYN
        if (get32(tcp + 4) == 0) put32(tcp + 4, rcv_nxt);
        if (get32(tcp + 8) == 0) put32(tcp + 8, snd_end);
    }

    RxSink* sink = nullptr;
    uint64_t tx_frames = 0;

private:
    void note_tcp(const TxFrame& frame) {
        uint8_t head[128];
        size_t n = 0;
        for (int s = 0; s < frame.nsegs && n < sizeof head; ++s) {
            size_t take = std::min(frame.segs[s].len, sizeof head - n);
            std::memcpy(head + n, frame.segs[s].data, take);
            n += take;
        }
        std::optional<L4> l4 = find_l4(head, n);
        if (!l4 || l4->proto != 6 || l4->off + 20 > n) return;
        const uint8_t* tcp = head + l4->off;
        uint8_t flags = tcp[13];
        if (flags & 0x04) return;  // a RST answers junk: it belongs to no connection
        size_t payload = l4->end - l4->off - (tcp[12] >> 4) * 4u;
        snd_end = get32(tcp + 4) + static_cast<uint32_t>(payload) + (flags & 0x02 ? 1 : 0) + (flags & 0x01);
        if (flags & 0x10) rcv_nxt = get32(tcp + 8);
    }

    uint32_t snd_end = 0, rcv_nxt = 0;
};

FuzzDevice device;
int ifindex = -1;
int listen_fd = -1, udp_fd = -1;
int conns[kMaxConns];
int nconns = 0;
unsigned inputs = 0;
uint64_t accepted = 0, echoed = 0;

void release_rx(RxBuf* buf) {
    std::free(buf->data);
    delete buf;
}

[[noreturn]] void die(const char* what, long err) {
    std::fprintf(stderr, "fuzz-netif-input: %s: %s\n", what, std::strerror(static_cast<int>(-err)));
    std::abort();
}

int open_socket(int type, uint16_t port) {
    long fd = sys_socket(abi::kAF_INET6, type | abi::kSOCK_NONBLOCK, 0);
    if (fd < 0) die("socket", fd);
    sockaddr_in6 any{};
    any.sin6_family = AF_INET6;
    any.sin6_port = htons(port);
    if (long r = sys_bind(static_cast<int>(fd), &any, sizeof any); r < 0) die("bind", r);
    return static_cast<int>(fd);
}

// The application side: accept and answer connections, read them until the peer is done, and
// echo datagrams (replies make the stack resolve fuzzed sources through ARP and ND).
void serve() {
    static const char kReply[] = "HTTP/1.0 200 OK\r\n\r\n";
    char buf[2048];
    for (long fd; (fd = sys_accept4(listen_fd, nullptr, nullptr, abi::kSOCK_NONBLOCK)) >= 0;) {
        if (nconns == kMaxConns) {
            sys_close(conns[0]);
            std::memmove(conns, conns + 1, sizeof conns[0] * --nconns);
        }
        conns[nconns++] = static_cast<int>(fd);
        ++accepted;
        sys_write(static_cast<int>(fd), kReply, sizeof kReply - 1);
    }
    for (int i = 0; i < nconns;) {
        long r = sys_read(conns[i], buf, sizeof buf);
        if (r > 0 || r == -EAGAIN) {
            ++i;
            continue;
        }
        sys_close(conns[i]);
        std::memmove(conns + i, conns + i + 1, sizeof conns[0] * (--nconns - i));
    }
    sockaddr_in6 from;
    unsigned fromlen = sizeof from;
    for (long r; (r = sys_recvfrom(udp_fd, buf, sizeof buf, 0, &from, &fromlen)) >= 0; fromlen = sizeof from) {
        sys_sendto(udp_fd, buf, static_cast<size_t>(std::min(r, 64L)), 0, &from, fromlen);
        ++echoed;
    }
}

void print_stats() {
    IfaceCounters c = iface_counters(ifindex);
    std::fprintf(stderr, "fuzz-netif-input: iface rx_frames=%llu rx_dropped=%llu tx_frames=%llu; accepted=%llu echoed=%llu\n",
                 static_cast<unsigned long long>(c.rx_frames), static_cast<unsigned long long>(c.rx_dropped),
                 static_cast<unsigned long long>(c.tx_frames), static_cast<unsigned long long>(accepted),
                 static_cast<unsigned long long>(echoed));
    struct Row {
        const char* name;
        const stats_proto& s;
    };
    StackGuard guard;
    const Row rows[] = {{"link", lwip_stats.link}, {"etharp", lwip_stats.etharp}, {"ip", lwip_stats.ip},
                        {"ipfrag", lwip_stats.ip_frag}, {"icmp", lwip_stats.icmp}, {"udp", lwip_stats.udp},
                        {"tcp", lwip_stats.tcp}, {"ip6", lwip_stats.ip6}, {"ip6frag", lwip_stats.ip6_frag},
                        {"icmp6", lwip_stats.icmp6}, {"nd6", lwip_stats.nd6}};
    // lwIP's counters are 16 bits wide (no LWIP_STATS_LARGE): long runs wrap them.
    std::fprintf(stderr, "fuzz-netif-input: lwip %-7s %6s %6s %6s %6s %6s %6s %6s %6s\n", "proto", "recv", "xmit",
                 "drop", "chkerr", "lenerr", "memerr", "proterr", "opterr");
    for (const Row& r : rows)
        std::fprintf(stderr, "fuzz-netif-input: lwip %-7s %6u %6u %6u %6u %6u %6u %6u %6u\n", r.name, r.s.recv,
                     r.s.xmit, r.s.drop, r.s.chkerr, r.s.lenerr, r.s.memerr, r.s.proterr, r.s.opterr);
}

}  // namespace

// lwIP's IPv4 and IPv6 reassembly link held fragments through packed, unaligned pointers
// written into the frames themselves; LeakSanitizer must follow those or it reports the frames.
extern "C" const char* __lsan_default_options() { return "use_unaligned=1"; }

// lwIP's clock, a fixed distance ahead of the platform's (-Wl,--wrap=sys_now).
extern "C" u32_t __real_sys_now(void);
extern "C" u32_t __wrap_sys_now(void) { return __real_sys_now() + clock_offset_ms.load(std::memory_order_relaxed); }

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // A write to a connection the fuzzer reset would raise SIGPIPE, as on Linux.
    std::signal(SIGPIPE, SIG_IGN);
    inet_register();
    stack_init();
    IfaceConfig cfg;
    cfg.has_v4 = true;
    inet_pton(AF_INET, "10.9.0.2", &cfg.v4_addr);
    inet_pton(AF_INET, "255.255.255.0", &cfg.v4_netmask);
    inet_pton(AF_INET, "10.9.0.1", &cfg.v4_gw);
    cfg.n_v6 = 1;
    inet_pton(AF_INET6, "fd09::2", cfg.v6[0].addr);
    cfg.v6[0].prefix = 64;
    kstd::Result<int> index = stack_add_device(device, cfg);
    if (!index.ok()) die("stack_add_device", -index.error_code());
    ifindex = index.value();
    listen_fd = open_socket(abi::kSOCK_STREAM, 80);
    if (long r = sys_listen(listen_fd, 16); r < 0) die("listen", r);
    udp_fd = open_socket(abi::kSOCK_DGRAM, 53);
    std::atexit(print_stats);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0 || size > kMaxFrame) return -1;  // not a frame any driver delivers: keep it out of the corpus
    auto* buf = new RxBuf;
    buf->data = static_cast<uint8_t*>(std::malloc(size));  // exactly the frame: ASan sees any overread
    buf->len = static_cast<uint32_t>(size);
    buf->release = release_rx;
    std::memcpy(buf->data, data, size);
    fix_icmp_checksum(buf->data, size);
    {
        StackGuard guard;
        device.fix_tcp_numbers(buf->data, size);
        device.sink->receive(buf);
    }
    serve();
    if (++inputs % kTickEvery == 0) {
        clock_offset_ms.fetch_add(kTickMs, std::memory_order_relaxed);
        StackGuard guard;
        sys_check_timeouts();
    }
    return 0;
}
