// TCP's timers on virtual time (ctest net.rto): retransmission timeouts and keepalive. Two
// hosts of one lwIP joined by a wire with 5 ms of delay each way. The wire's clock and lwIP's
// (sys_now, wrapped at link time) are one virtual clock that this single thread moves a
// millisecond at a time while it holds the stack lock, so a run sends the same segments at the
// same virtual instants every time. The wire's drop hook loses chosen data segments, their
// retransmissions too; the tests time the pauses that follow and hold them to what Linux's
// timer allows: RTO = srtt + max(4 * rttvar, 200 ms), doubled by each lost retransmission,
// never above 120 s.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "drivers/wire.h"
#include "eventpoll/sys.h"
#include "lwip/def.h"
#include "lwip/ip_addr.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "netstack/inet.h"
#include "netstack/netif.h"
#include "netstack/stack.h"
#include "netstack/tcp_index.h"

namespace {

std::atomic<uint64_t> now_ns{1'000'000'000};
uint64_t virtual_clock() { return now_ns.load(std::memory_order_relaxed); }
uint64_t now_ms() { return virtual_clock() / 1'000'000; }

}  // namespace

// lwIP's clock and its two sources of chance (netstack/lwip/port.cc), replaced at link time
// (-Wl,--wrap=...): the initial sequence numbers (where the window scale's rounding falls
// depends on them) and LWIP_RAND (IPv6's ND and MLD delays put frames on the wire, which draw
// on its fault generator) are the same in every run.
extern "C" uint32_t __wrap_sys_now(void) { return static_cast<uint32_t>(now_ms()); }
extern "C" uint32_t __wrap_pollux_lwip_isn(const ip_addr_t* local_ip, uint16_t, const ip_addr_t*, uint16_t) {
    uint32_t host = IP_IS_V4(local_ip) ? lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(local_ip))) & 0xffu : 0u;
    return 0x10000000u * (host + 1);
}
extern "C" unsigned int __wrap_pollux_lwip_rand(void) {
    static uint32_t x = 2463534242u;  // xorshift32
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

namespace {

using pollux::wire::WireConfig;
using pollux::wire::WireLink;

uint32_t get32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

// What the drop hook loses: the client's data segments that carry byte `offset` of its stream,
// the first `times` times one is sent. It records when each of them was sent.
struct LossPlan {
    uint64_t offset = UINT64_MAX;
    int times = 0;
    bool drop_syns = false;
    std::vector<uint64_t> syn_ms;  // every SYN the client sent
    bool have_isn = false;
    uint32_t isn = 0;
    std::vector<uint64_t> sent_ms;  // every transmission carrying `offset`, lost or not
    std::vector<uint64_t> client_tcp_ms;  // every TCP segment from the client, and when
    bool drop_server = false;             // lose everything the server sends (a dead peer)
    int drop_client_acks = 0;             // lose this many of the client's next bare ACKs
};

// Frames from end 1 (host 2, the client) are IPv4/TCP from the client: its SYN gives the
// initial sequence number, from which a data segment's stream offsets follow.
bool drop_planned(void* ctx, int from_end, const uint8_t* f, size_t len) {
    auto* plan = static_cast<LossPlan*>(ctx);
    // RTO_TRACE=1 prints every TCP segment as it leaves: when a test fails, the story.
    static const bool trace = std::getenv("RTO_TRACE") != nullptr;
    if (trace && len >= 54 && f[23] == 6) {
        size_t ihl = (f[14] & 0xfu) * 4u;
        const uint8_t* t = f + 14 + ihl;
        size_t payload = (size_t{f[16]} << 8 | f[17]) - ihl - (t[12] >> 4) * 4u;
        std::printf("%llu %s seq=%u ack=%u win=%u len=%zu flags=%02x\n", static_cast<unsigned long long>(now_ms()),
                    from_end != 0 ? "C>S" : "S>C", get32(t + 4), get32(t + 8), unsigned{t[14]} << 8 | t[15], payload,
                    t[13]);
    }
    if (from_end == 0) return plan->drop_server;
    if (len < 54 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 6) return false;
    plan->client_tcp_ms.push_back(now_ms());
    size_t ihl = (f[14] & 0xfu) * 4u;
    size_t ip_len = size_t{f[16]} << 8 | f[17];
    const uint8_t* tcp = f + 14 + ihl;
    size_t thl = (tcp[12] >> 4) * 4u;
    uint32_t seq = get32(tcp + 4);
    uint8_t flags = tcp[13];
    if (flags & 0x02) {  // SYN
        plan->isn = seq;
        plan->have_isn = true;
        plan->syn_ms.push_back(now_ms());
        return plan->drop_syns;
    }
    size_t payload = ip_len - ihl - thl;
    if (payload == 0 && flags == 0x10 && plan->drop_client_acks > 0) {
        --plan->drop_client_acks;
        return true;
    }
    if (!plan->have_isn || payload == 0) return false;
    uint64_t first = static_cast<uint32_t>(seq - plan->isn - 1);
    if (plan->offset < first || plan->offset >= first + payload) return false;
    plan->sent_ms.push_back(now_ms());
    return static_cast<int>(plan->sent_ms.size()) <= plan->times;
}

// Moves the clock, delivers what is due and runs lwIP's timers, all under the stack lock: the
// NAPI polls this schedules run as this thread leaves the lock (stack.cc's softirq), so no
// other thread ever sees the clock move.
void step(WireLink& link) {
    pollux::net::StackGuard guard;
    now_ns.fetch_add(1'000'000, std::memory_order_relaxed);
    link.run_expired();
    sys_check_timeouts();
}

uint8_t pattern(size_t i) { return static_cast<uint8_t>(i * 2654435761u >> 13); }

struct Outcome {
    size_t received = 0;
    uint64_t elapsed_ms = 0;  // from the start to the last byte
    uint64_t max_gap_ms = 0;  // the longest the reader waited for more data, once reading
    size_t gap_before = 0;    // stream offset at the end of that gap
    bool intact = true;

    // n bytes of the stream arrived at `now`; `last` is when the previous ones did.
    void take(const uint8_t* data, size_t n, uint64_t now, uint64_t& last) {
        for (size_t i = 0; i < n && intact; ++i) intact = data[i] == pattern(received + i);
        gap(now - last);
        last = now;
        received += n;
    }
    void gap(uint64_t ms) {
        if (ms <= max_gap_ms) return;
        max_gap_ms = ms;
        gap_before = received;
    }
};

// The sending side of a transfer: the pattern's bytes, written as fast as the socket takes them.
struct PatternWriter {
    std::vector<uint8_t> chunk = std::vector<uint8_t>(64 * 1024);
    size_t sent = 0, chunk_at = 0, chunk_end = 0;  // chunk holds [chunk_at, chunk_end)

    // Writes until EAGAIN or the end; false (a test failure) on another error.
    bool pump(int fd, size_t total) {
        while (sent < total) {
            if (sent == chunk_end) {
                chunk_at = sent;
                chunk_end = std::min(total, sent + chunk.size());
                for (size_t i = chunk_at; i < chunk_end; ++i) chunk[i - chunk_at] = pattern(i);
            }
            long w = pollux::sys_write(fd, chunk.data() + (sent - chunk_at), chunk_end - sent);
            if (w == -EAGAIN) return true;
            if (w <= 0) {
                ADD_FAILURE() << "write: " << strerror(static_cast<int>(-w));
                return false;
            }
            sent += static_cast<size_t>(w);
        }
        return true;
    }
};

struct Reader {
    uint64_t start_ms = 0;        // virtual ms after the start when the reader begins
    size_t bytes_per_ms = SIZE_MAX;  // at most this much a millisecond
};

class RtoTest : public ::testing::Test {
protected:
    // A new link (10.0.<n>.0/24; interfaces cannot be removed, so every test has its own) and
    // one connection across it, client on host 2, server on host 1, both non-blocking.
    // A listener's SO_RCVBUF (0: unset) sizes the server's window from the SYN-ACK on.
    void connect(const WireConfig& base, int listener_rcvbuf = 0) {
        ASSERT_NO_FATAL_FAILURE(add_link(base));
        sockaddr_in a = server_addr_;
        int l = static_cast<int>(pollux::sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
        ASSERT_GE(l, 0);
        if (listener_rcvbuf != 0) {
            ASSERT_EQ(pollux::sys_setsockopt(l, SOL_SOCKET, SO_RCVBUF, &listener_rcvbuf, sizeof(listener_rcvbuf)), 0);
        }
        ASSERT_EQ(pollux::sys_bind(l, &a, sizeof(a)), 0);
        ASSERT_EQ(pollux::sys_listen(l, 4), 0);
        unsigned alen = sizeof(a);
        ASSERT_EQ(pollux::sys_getsockname(l, &a, &alen), 0);
        client_ = static_cast<int>(pollux::sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
        ASSERT_GE(client_, 0);
        ASSERT_EQ(pollux::sys_connect(client_, &a, sizeof(a)), -EINPROGRESS);
        for (int ms = 0; ms < 5000 && server_ < 0; ++ms) {
            step(*link_);
            server_ = static_cast<int>(pollux::sys_accept4(l, nullptr, nullptr, SOCK_NONBLOCK));
        }
        ASSERT_GE(server_, 0) << "no connection in 5 s";
        EXPECT_EQ(pollux::sys_close(l), 0);
    }

    void add_link(const WireConfig& base) {
        static int next_link = 10;
        int n = next_link++;
        pollux::net::inet_register();
        pollux::net::stack_init();
        WireConfig config = base;
        config.delay_ns = 5'000'000;
        config.drop = drop_planned;
        config.drop_ctx = plan_;
        link_ = new WireLink(config, virtual_clock);  // lives as long as the stack
        ASSERT_TRUE(pollux::net::stack_add_wire_hosts(link_->end(0), link_->end(1), n, false).ok());
        server_addr_.sin_family = AF_INET;
        server_addr_.sin_addr.s_addr = htonl(0x0a000001u | static_cast<uint32_t>(n) << 8);
    }

    void TearDown() override {
        if (client_ >= 0) pollux::sys_close(client_);
        if (server_ >= 0) pollux::sys_close(server_);
        if (link_ != nullptr) {
            plan_->drop_server = false;
            for (int ms = 0; ms < 1000; ++ms) step(*link_);  // let the FINs go
        }
    }

    // The client writes `total` bytes as fast as its socket takes them; the server reads as the
    // reader says. Stops at the last byte or after `limit_ms` of virtual time.
    Outcome transfer(size_t total, const Reader& reader, uint64_t limit_ms) {
        Outcome out;
        std::vector<uint8_t> buf(64 * 1024);
        PatternWriter writer;
        uint64_t start = now_ms(), last = start + reader.start_ms;
        while (out.received < total && now_ms() - start < limit_ms) {
            if (!writer.pump(client_, total)) return out;
            if (now_ms() - start >= reader.start_ms) {
                size_t budget = reader.bytes_per_ms;
                while (budget > 0) {
                    long r = pollux::sys_read(server_, buf.data(), std::min(buf.size(), budget));
                    if (r == -EAGAIN) break;
                    if (r <= 0) {
                        ADD_FAILURE() << "read: " << (r == 0 ? "EOF" : strerror(static_cast<int>(-r)));
                        return out;
                    }
                    out.take(buf.data(), static_cast<size_t>(r), now_ms(), last);
                    budget -= std::min(budget, static_cast<size_t>(r));
                }
            }
            step(*link_);
        }
        if (out.received < total) out.gap(now_ms() - last);  // still waiting at the end
        out.elapsed_ms = now_ms() - start;
        return out;
    }

    // Echo: the client writes `total` bytes and reads them back from the server, which reads
    // only what it has written back (a 64 KiB buffer), as tests/net/tcp_stream_test.cc's echo
    // server blocks in write: when the client's window closes, so does the server's. Progress
    // is the echo reaching the client.
    Outcome echo(size_t total, uint64_t limit_ms) {
        Outcome out;
        std::vector<uint8_t> in(64 * 1024), mid(64 * 1024);
        PatternWriter writer;
        size_t mid_len = 0, mid_done = 0;
        uint64_t start = now_ms(), last = start;
        while (out.received < total && now_ms() - start < limit_ms) {
            if (!writer.pump(client_, total)) return out;
            for (;;) {
                if (mid_done == mid_len) {
                    long r = pollux::sys_read(server_, mid.data(), mid.size());
                    if (r == -EAGAIN) break;
                    if (r <= 0) {
                        ADD_FAILURE() << "server read: " << (r == 0 ? "EOF" : strerror(static_cast<int>(-r)));
                        return out;
                    }
                    mid_len = static_cast<size_t>(r);
                    mid_done = 0;
                }
                long w = pollux::sys_write(server_, mid.data() + mid_done, mid_len - mid_done);
                if (w == -EAGAIN) break;
                if (w <= 0) {
                    ADD_FAILURE() << "server write: " << strerror(static_cast<int>(-w));
                    return out;
                }
                mid_done += static_cast<size_t>(w);
            }
            for (;;) {
                long r = pollux::sys_read(client_, in.data(), in.size());
                if (r == -EAGAIN) break;
                if (r <= 0) {
                    ADD_FAILURE() << "client read: " << (r == 0 ? "EOF" : strerror(static_cast<int>(-r)));
                    return out;
                }
                out.take(in.data(), static_cast<size_t>(r), now_ms(), last);
            }
            step(*link_);
        }
        if (out.received < total) out.gap(now_ms() - last);  // still waiting at the end
        out.elapsed_ms = now_ms() - start;
        return out;
    }

    // The gaps between successive transmissions of the planned segment.
    std::vector<uint64_t> intervals() const {
        std::vector<uint64_t> v;
        for (size_t i = 1; i < plan_->sent_ms.size(); ++i) v.push_back(plan_->sent_ms[i] - plan_->sent_ms[i - 1]);
        return v;
    }

    // Prints the outcome; the whole stream arrived, intact.
    void expect_whole(const Outcome& o, size_t total) const {
        std::printf("%s\n", describe(o).c_str());
        ASSERT_EQ(o.received, total);
        EXPECT_TRUE(o.intact);
    }

    std::string describe(const Outcome& o) const {
        std::string s = "received " + std::to_string(o.received) + " B in " + std::to_string(o.elapsed_ms) +
                        " ms, longest pause " + std::to_string(o.max_gap_ms) + " ms before offset " +
                        std::to_string(o.gap_before);
        if (plan_->sent_ms.empty()) return s;
        s += "; the lost segment went out at";
        for (uint64_t t : plan_->sent_ms) s += " " + std::to_string(t - plan_->sent_ms[0]);
        return s + " ms";
    }

    // The link's drop hook keeps it after the test (links live as long as the stack): never freed.
    LossPlan* plan_ = new LossPlan;
    sockaddr_in server_addr_{};
    WireLink* link_ = nullptr;
    int client_ = -1, server_ = -1;
};

// Linux's timer with the wire's 10 ms round trip: RTO = 10 + max(4 * rttvar, 200) ms, checked
// every 100 ms here (TCP_TMR_INTERVAL), so a timeout fires between RTO and RTO + 100 ms (and
// the interval between two fires is twice the last one, give or take two timer periods); a
// delayed ACK (up to 100 ms) may lengthen a measured round trip. The first timeout of a
// connection is at most 500 ms.
constexpr uint64_t kFirstRtoMaxMs = 500;
constexpr uint64_t kTimerMs = 100;

// The lossy link: 5 % loss, reordering and duplication each way.
WireConfig lossy(const char* seed) {
    std::string spec = std::string("loss=5%,reorder=5%,dup=5%,seed=") + seed;
    return pollux::wire::parse_wire_config(spec.c_str()).value();
}

// The very first data segment, and its first two retransmissions, are lost. Linux has timed
// the SYN, so its timeouts start near 200 ms; lwIP, with no measurement, started at its 3 s
// (6 s and 12 s next) and paused the connection for 15 s.
TEST_F(RtoTest, LostFirstSegmentRecoversWithinLinuxTimeouts) {
    plan_->offset = 0;
    plan_->times = 3;
    ASSERT_NO_FATAL_FAILURE(connect(WireConfig{}));
    Outcome o = transfer(256 * 1024, Reader{}, 60'000);
    SCOPED_TRACE(describe(o));
    ASSERT_NO_FATAL_FAILURE(expect_whole(o, 256u * 1024));
    ASSERT_EQ(plan_->sent_ms.size(), 4u);
    // Lost: the original and two retransmissions (timeouts, or a fast retransmission and a
    // timeout); the fourth copy arrives.
    uint64_t stall = plan_->sent_ms[3] - plan_->sent_ms[0];
    EXPECT_LE(stall, 3 * kFirstRtoMaxMs + 2 * kTimerMs);
    EXPECT_LE(o.max_gap_ms, 3 * kFirstRtoMaxMs + 2 * kTimerMs + 50);
}

// A segment in mid-stream lost five times: fast retransmit, then timeouts that double.
TEST_F(RtoTest, LostRetransmissionsBackOffByDoubling) {
    plan_->offset = 2u << 20;
    plan_->times = 5;
    ASSERT_NO_FATAL_FAILURE(connect(WireConfig{}));
    Outcome o = transfer(4u << 20, Reader{}, 120'000);
    SCOPED_TRACE(describe(o));
    ASSERT_NO_FATAL_FAILURE(expect_whole(o, 4u << 20));
    std::vector<uint64_t> gaps = intervals();
    ASSERT_EQ(gaps.size(), 5u);
    // gaps[0] is the fast retransmit (a round trip of duplicate ACKs), then four timeouts.
    EXPECT_LE(gaps[0], 50u);
    EXPECT_GE(gaps[1], 200u);  // never below Linux's TCP_RTO_MIN
    EXPECT_LE(gaps[1], kFirstRtoMaxMs);
    for (size_t i = 2; i < gaps.size(); ++i) {
        EXPECT_GE(gaps[i] + 2 * kTimerMs, 2 * gaps[i - 1]) << "timeout " << i;
        EXPECT_LE(gaps[i], 2 * gaps[i - 1] + kTimerMs) << "timeout " << i;
    }
    uint64_t bound = 0;
    for (uint64_t g : gaps) bound += g;
    EXPECT_LE(o.max_gap_ms, bound + 50);
    EXPECT_LE(o.max_gap_ms, 15 * kFirstRtoMaxMs + 4 * kTimerMs + 50);
}

// A lone segment (nothing after it to draw duplicate ACKs) lost eleven times: the timeout
// doubles from about 200 ms until it reaches Linux's TCP_RTO_MAX, 120 s, and stays there.
TEST_F(RtoTest, BackoffStopsAtTwoMinutes) {
    plan_->offset = 1000;
    plan_->times = 11;
    ASSERT_NO_FATAL_FAILURE(connect(WireConfig{}));
    Outcome o = transfer(1400, Reader{}, 1'000'000);
    SCOPED_TRACE(describe(o));
    ASSERT_NO_FATAL_FAILURE(expect_whole(o, 1400u));
    std::vector<uint64_t> gaps = intervals();
    ASSERT_EQ(gaps.size(), 11u);
    EXPECT_GE(gaps[0], 200u);
    EXPECT_LE(gaps[0], kFirstRtoMaxMs);
    for (size_t i = 1; i < gaps.size(); ++i) {
        uint64_t want = std::min<uint64_t>(2 * gaps[i - 1], 120'000);
        EXPECT_GE(gaps[i] + 2 * kTimerMs, want) << "timeout " << i;
        EXPECT_LE(gaps[i], want + kTimerMs) << "timeout " << i;
    }
    EXPECT_GE(gaps.back(), 120'000u);
    EXPECT_LE(gaps.back(), 120'000u + kTimerMs);
}

// Every SYN is lost: they go out after 1, 2, 4, ... 32 s, and connect gives up 64 s after the
// sixth retransmission, 127 s in all, as Linux's tcp_syn_retries = 6 does (lwIP: every 3 s,
// giving up 18 s in).
TEST_F(RtoTest, ConnectBacksOffAndTimesOutAsLinux) {
    plan_->drop_syns = true;
    ASSERT_NO_FATAL_FAILURE(add_link(WireConfig{}));
    sockaddr_in a = server_addr_;
    a.sin_port = htons(9);  // nothing listens, and nothing will answer either
    client_ = static_cast<int>(pollux::sys_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
    ASSERT_GE(client_, 0);
    uint64_t start = now_ms();
    ASSERT_EQ(pollux::sys_connect(client_, &a, sizeof(a)), -EINPROGRESS);
    int err = 0;
    while (err == 0 && now_ms() - start < 300'000) {
        step(*link_);
        unsigned len = sizeof(err);
        ASSERT_EQ(pollux::sys_getsockopt(client_, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    }
    uint64_t failed = now_ms() - start;
    std::string syns;
    for (uint64_t t : plan_->syn_ms) syns += " " + std::to_string(t - start);
    std::printf("SYNs at%s ms; connect failed after %llu ms\n", syns.c_str(), static_cast<unsigned long long>(failed));
    EXPECT_EQ(err, ETIMEDOUT);
    ASSERT_EQ(plan_->syn_ms.size(), 7u) << syns;
    for (size_t i = 1; i < plan_->syn_ms.size(); ++i) {
        uint64_t want = 1000u << (i - 1);
        EXPECT_GE(plan_->syn_ms[i] - plan_->syn_ms[i - 1], want) << "SYN " << i;
        EXPECT_LE(plan_->syn_ms[i] - plan_->syn_ms[i - 1], want + kTimerMs + 2) << "SYN " << i;
    }
    EXPECT_GE(failed, 127'000u);
    EXPECT_LE(failed, 127'000u + 7 * kTimerMs + 200);
}

// 16 MiB over a link that loses, reorders and duplicates 5 % of frames each way, to a reader
// that starts 3 s late and then takes 4 MB/s: its window closes and opens again and again while
// segments are lost. lwIP used to deadlock here (a fast retransmission held back by the closed
// window, then a timeout, left the send queue out of order) and, with its own timer, paused
// for seconds at a time. The longest pause must stay within a few doubled timeouts.
TEST_F(RtoTest, LossyTransferToASlowLateReaderNeverStalls) {
    ASSERT_NO_FATAL_FAILURE(connect(lossy("4")));
    Reader reader;
    reader.start_ms = 3000;
    reader.bytes_per_ms = 4000;
    Outcome o = transfer(16u << 20, reader, 600'000);
    SCOPED_TRACE(describe(o));
    ASSERT_NO_FATAL_FAILURE(expect_whole(o, 16u << 20));
    EXPECT_LE(o.max_gap_ms, 4000u);
}


// 16 MiB echoed over the lossy link (as net.lossy-64m does in real time): when the client stops
// reading, the server stops too and both windows close while segments are being lost. With
// this seed, lwIP's send queue went out of order after a timeout (patch 0009) 7 MB in, and the
// connection never sent again.
TEST_F(RtoTest, EchoOverLossyLinkNeverStalls) {
    ASSERT_NO_FATAL_FAILURE(connect(lossy("1")));
    Outcome o = echo(16u << 20, 300'000);
    SCOPED_TRACE(describe(o));
    ASSERT_NO_FATAL_FAILURE(expect_whole(o, 16u << 20));
    EXPECT_LE(o.max_gap_ms, 4000u);
}

// A fast retransmission that the window holds back in the send queue, then more from the
// application: a FIN (SHUT_WR) or more data. The client writes `s1` bytes, then H (`h_len`
// bytes), then four single bytes that fill the server's window exactly (the SYN-ACK's window
// is not scaled). H is lost. The ACK of the first `s1` bytes moves the left edge, and the
// window, announced in units of 16 bytes (scale 4), now ends short of H's end: H waits in the
// send queue while the duplicate ACKs of the single bytes have it retransmitted. lwIP put a
// FIN on the last segment of that queue and wrote new data into its spare room: here that is
// H, whose end is not the end of the stream. The FIN made the receiver take H as the stream's
// last segment and drop the bytes after it (seen once in net.lossy-64m: 4 bytes short, then
// a clean EOF); new data went over sequence numbers already used.
class HeldRetransmissionTest : public RtoTest {
protected:
    void send_until_held(size_t s1, size_t h_len) {
        plan_->offset = s1;  // H's first byte
        plan_->times = 1;
        int window = static_cast<int>((s1 + h_len + 4 + 15) / 16 * 16);
        ASSERT_LT((window - s1) / 16 * 16, h_len) << "the window seen from H's start must not hold H";
        ASSERT_NO_FATAL_FAILURE(connect(WireConfig{}, window));
        int one = 1;
        ASSERT_EQ(pollux::sys_setsockopt(client_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
        std::vector<uint8_t> data(s1 + h_len + 4);
        for (size_t i = 0; i < data.size(); ++i) data[i] = pattern(i);
        ASSERT_EQ(pollux::sys_write(client_, data.data(), s1), static_cast<long>(s1));
        ASSERT_EQ(pollux::sys_write(client_, &data[s1], h_len), static_cast<long>(h_len));
        for (size_t i = s1 + h_len; i < data.size(); ++i) ASSERT_EQ(pollux::sys_write(client_, &data[i], 1), 1);
        written_ = data.size();
        for (int ms = 0; ms < 50; ++ms) step(*link_);
        ASSERT_EQ(plan_->sent_ms.size(), 1u) << "H is held back, not retransmitted yet";
    }

    // The server reads to EOF (up to 60 s) and checks what it got against the pattern.
    void expect_all_then_eof() {
        Outcome out;
        uint64_t last = now_ms();
        std::vector<uint8_t> buf(4096);
        for (uint64_t start = now_ms(); now_ms() - start < 60'000;) {
            long r = pollux::sys_read(server_, buf.data(), buf.size());
            if (r == 0) break;
            if (r > 0) {
                out.take(buf.data(), static_cast<size_t>(r), now_ms(), last);
                continue;
            }
            ASSERT_EQ(r, -EAGAIN) << strerror(static_cast<int>(-r));
            step(*link_);
        }
        EXPECT_EQ(out.received, written_);
        EXPECT_TRUE(out.intact);
        EXPECT_EQ(pollux::sys_read(server_, buf.data(), buf.size()), 0) << "EOF";
    }

    size_t written_ = 0;
};

TEST_F(HeldRetransmissionTest, FinGoesAfterTheLastByte) {
    ASSERT_NO_FATAL_FAILURE(send_until_held(1460, 1460));
    ASSERT_EQ(pollux::sys_shutdown(client_, SHUT_WR), 0);
    expect_all_then_eof();
}

TEST_F(HeldRetransmissionTest, NewDataGoesAfterTheLastByte) {
    ASSERT_NO_FATAL_FAILURE(send_until_held(1924, 1000));  // H has room for 460 more bytes
    std::vector<uint8_t> more(10);
    for (size_t i = 0; i < more.size(); ++i) more[i] = pattern(written_ + i);
    ASSERT_EQ(pollux::sys_write(client_, more.data(), more.size()), 10);
    written_ += more.size();
    ASSERT_EQ(pollux::sys_shutdown(client_, SHUT_WR), 0);
    expect_all_then_eof();
}

// Keepalive (TCP_KEEPIDLE 5 s, TCP_KEEPINTVL 1 s, TCP_KEEPCNT 3) switched on after the
// connection has been idle long enough for lwIP's timers to stop visiting it (patch 0011):
// setting the option must bring it back to them, or no probe would ever go out.
class KeepaliveTest : public RtoTest {
protected:
    void idle_then_keepalive() {
        ASSERT_NO_FATAL_FAILURE(connect(WireConfig{}));
        char b[64] = {};
        ASSERT_EQ(pollux::sys_write(client_, b, sizeof(b)), 64);  // traffic, then quiet
        for (int ms = 0; ms < 2000; ++ms) step(*link_);
        ASSERT_EQ(pollux::sys_read(server_, b, sizeof(b)), 64);
        for (int ms = 0; ms < 2000; ++ms) step(*link_);
        int on = 1, idle = 5, intvl = 1, cnt = 3;
        ASSERT_EQ(pollux::sys_setsockopt(client_, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)), 0);
        ASSERT_EQ(pollux::sys_setsockopt(client_, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)), 0);
        ASSERT_EQ(pollux::sys_setsockopt(client_, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)), 0);
        plan_->client_tcp_ms.clear();
        keepalive_on_ms_ = now_ms();
        ASSERT_EQ(pollux::sys_setsockopt(client_, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)), 0);
    }

    // When each client segment went out, in ms after the connection last carried data (4 s
    // before keepalive was switched on).
    std::string probes() const {
        std::string s;
        for (uint64_t t : plan_->client_tcp_ms) s += " " + std::to_string(t - (keepalive_on_ms_ - 4000));
        return s;
    }

    uint64_t keepalive_on_ms_ = 0;
};

// A live peer answers every probe: a probe goes out each time the connection has been idle
// for 5 s (the answer restarts the count), and the connection stays up.
TEST_F(KeepaliveTest, ProbesAnIdleConnectionThatLives) {
    ASSERT_NO_FATAL_FAILURE(idle_then_keepalive());
    for (int ms = 0; ms < 20'000; ++ms) step(*link_);
    std::printf("client segments at%s ms\n", probes().c_str());
    // idle since 4 s before keepalive: probes near 5, 10, 15 and 20 s after the last data
    EXPECT_GE(plan_->client_tcp_ms.size(), 3u);
    EXPECT_LE(plan_->client_tcp_ms.size(), 4u);
    char b[8];
    EXPECT_EQ(pollux::sys_read(client_, b, sizeof(b)), -EAGAIN);
}

// A peer that went silent: three probes a second apart after 5 s of idleness, then the
// connection fails with ETIMEDOUT (Linux: tcp_keepalive_timer, then tcp_write_err).
TEST_F(KeepaliveTest, DeadPeerTimesOut) {
    ASSERT_NO_FATAL_FAILURE(idle_then_keepalive());
    plan_->drop_server = true;
    uint64_t start = keepalive_on_ms_ - 4000;  // the connection's last data
    long r = -EAGAIN;
    char b[8];
    while (r == -EAGAIN && now_ms() - start < 60'000) {
        step(*link_);
        r = pollux::sys_read(client_, b, sizeof(b));
    }
    uint64_t failed = now_ms() - start;
    std::printf("client segments at%s ms; failed at %llu ms\n", probes().c_str(), static_cast<unsigned long long>(failed));
    EXPECT_EQ(r, -ETIMEDOUT);
    // idle 5 s + 3 probes 1 s apart; lwIP checks every 200 ms
    EXPECT_GE(failed, 8000u);
    EXPECT_LE(failed, 8000u + 6 * kTimerMs);
    ASSERT_GE(plan_->client_tcp_ms.size(), 3u);  // the probes, then (lwIP, as Linux) a RST
    EXPECT_GE(plan_->client_tcp_ms[0] - start, 5000u);
    EXPECT_LE(plan_->client_tcp_ms[0] - start, 5000u + 4 * kTimerMs);
}

// TIME-WAIT lasts Linux's 60 s (TCP_TIMEWAIT_LEN) from the last FIN, and a retransmitted FIN
// restarts it; since patch 0012 tcp_slowtmr expires TIME-WAIT pcbs from the oldest end of a
// list it keeps newest first, which tcp_index_check verifies.
class TimeWaitTest : public RtoTest {
protected:
    // Records the client's 4-tuple, for client_state() once its descriptor is closed.
    void remember_client_tuple() {
        sockaddr_in local{}, peer{};
        unsigned len = sizeof(local);
        ASSERT_EQ(pollux::sys_getsockname(client_, &local, &len), 0);
        len = sizeof(peer);
        ASSERT_EQ(pollux::sys_getpeername(client_, &peer, &len), 0);
        ip_addr_set_ip4_u32(&lip_, local.sin_addr.s_addr);
        ip_addr_set_ip4_u32(&rip_, peer.sin_addr.s_addr);
        lport_ = ntohs(local.sin_port);
        rport_ = ntohs(peer.sin_port);
    }

    // The state of the client's connection, CLOSED once lwIP has freed it.
    tcp_state client_state() const {
        pollux::net::StackGuard guard;
        tcp_pcb* p = tcp_index_find(&lip_, lport_, &rip_, rport_);
        return p != nullptr ? p->state : CLOSED;
    }

    // The client closes first and so holds TIME-WAIT: when it started and ended, in virtual ms.
    // lose_ack: the client's ACK of the server's FIN is lost.
    // half_open_ms: how long the server keeps its end open after the client's FIN.
    void close_and_time(bool lose_ack, uint64_t* entered, uint64_t* left, int half_open_ms = 100) {
        ASSERT_NO_FATAL_FAILURE(remember_client_tuple());
        auto in_time_wait = [this] { return client_state() == TIME_WAIT; };
        ASSERT_EQ(pollux::sys_close(client_), 0);
        client_ = -1;
        for (int ms = 0; ms < half_open_ms; ++ms) step(*link_);  // the client's FIN, acknowledged
        plan_->drop_client_acks = lose_ack ? 1 : 0;
        ASSERT_EQ(pollux::sys_close(server_), 0);
        server_ = -1;
        for (int ms = 0; ms < 1000 && !in_time_wait(); ++ms) step(*link_);
        ASSERT_TRUE(in_time_wait());
        *entered = now_ms();
        for (int ms = 0; ms < 70'000 && in_time_wait(); ++ms) step(*link_);
        *left = now_ms();
        std::printf("TIME-WAIT from %llu to %llu ms\n", static_cast<unsigned long long>(*entered),
                    static_cast<unsigned long long>(*left));
        EXPECT_EQ(plan_->drop_client_acks, 0);
        pollux::net::StackGuard guard;
        const char* bad = pollux::net::tcp_index_check();
        EXPECT_EQ(bad, nullptr) << bad;
    }

    ip_addr_t lip_{}, rip_{};
    uint16_t lport_ = 0, rport_ = 0;
};

TEST_F(TimeWaitTest, LastsSixtySeconds) {
    ASSERT_NO_FATAL_FAILURE(connect(WireConfig{}));
    uint64_t entered = 0, left = 0;
    ASSERT_NO_FATAL_FAILURE(close_and_time(false, &entered, &left));
    EXPECT_GE(left - entered, 60'000u);
    EXPECT_LE(left - entered, 60'000u + 2 * 2 * kTimerMs);  // checked every 200 ms
}

// The client closed 10 s before the server did: its 2 MSL still start when TIME-WAIT does
// (lwIP counted them from the client's last segment before it closed, 50 s of TIME-WAIT here).
TEST_F(TimeWaitTest, CountsFromEnteringIt) {
    ASSERT_NO_FATAL_FAILURE(connect(WireConfig{}));
    uint64_t entered = 0, left = 0;
    ASSERT_NO_FATAL_FAILURE(close_and_time(false, &entered, &left, 10'000));
    EXPECT_GE(left - entered, 60'000u);
    EXPECT_LE(left - entered, 60'000u + 2 * 2 * kTimerMs);
}

// The server, its FIN unacknowledged, sends it again after a timeout (at least 200 ms), and
// the client's TIME-WAIT starts over from that second FIN.
TEST_F(TimeWaitTest, RetransmittedFinRestartsIt) {
    ASSERT_NO_FATAL_FAILURE(connect(WireConfig{}));
    uint64_t entered = 0, left = 0;
    ASSERT_NO_FATAL_FAILURE(close_and_time(true, &entered, &left));
    EXPECT_GE(left - entered, 60'000u + 200);
    EXPECT_LE(left - entered, 60'000u + kFirstRtoMaxMs + 2 * 2 * kTimerMs);
}

// The client, idle for 10 s, closes; the server never does. The client's orphaned connection
// waits in FIN-WAIT-2 for the server's FIN for 60 s from entering it, Linux's tcp_fin_timeout,
// then is dropped (lwIP counted from the last segment before the close: 50 s here).
TEST_F(TimeWaitTest, OrphanedFinWait2LastsSixtySeconds) {
    ASSERT_NO_FATAL_FAILURE(connect(WireConfig{}));
    ASSERT_NO_FATAL_FAILURE(remember_client_tuple());
    auto state = [this] { return client_state(); };
    for (int ms = 0; ms < 10'000; ++ms) step(*link_);
    uint64_t closed = now_ms();
    ASSERT_EQ(pollux::sys_close(client_), 0);
    client_ = -1;
    for (int ms = 0; ms < 1000 && state() != FIN_WAIT_2; ++ms) step(*link_);
    ASSERT_EQ(state(), FIN_WAIT_2);
    for (int ms = 0; ms < 70'000 && state() == FIN_WAIT_2; ++ms) step(*link_);
    uint64_t gone = now_ms() - closed;
    std::printf("FIN-WAIT-2 ended %llu ms after the close\n", static_cast<unsigned long long>(gone));
    EXPECT_EQ(state(), CLOSED);
    EXPECT_GE(gone, 60'000u);
    EXPECT_LE(gone, 60'000u + 2 * 2 * kTimerMs);
}

}  // namespace
