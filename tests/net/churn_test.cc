// Connection churn: 100 000 short connections in a row (connect, request, reply, close), the
// server closing first as HTTP servers do, so its TIME-WAIT pcbs pile up (60 s each, as on
// Linux) while clients keep reusing the 16 384 ephemeral ports. lwIP as shipped slows down with
// every TIME-WAIT (each SYN walks them all) and refuses or stalls a SYN that reuses a tuple
// still in TIME-WAIT; patches 0003/0004 fix both. Runs as its own ctest entry (net.churn) so
// that the memory it measures is this test's alone.
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <thread>
#include <vector>

#include "eventpoll/sys.h"
#include "netstack/stack.h"
#include "netstack/tcp_index.h"
#include "two_hosts.h"

#if defined(__SANITIZE_ADDRESS__)
#define CHURN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CHURN_ASAN 1
#endif
#endif
#ifdef CHURN_ASAN
#include <sanitizer/allocator_interface.h>
#else
#include <malloc.h>
#endif

namespace {

size_t heap_in_use() {
#ifdef CHURN_ASAN
    return __sanitizer_get_current_allocated_bytes();
#else
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
#endif
}

pollux::net::TcpIndexStats index_stats() {
    pollux::net::StackGuard g;
    return pollux::net::tcp_index_stats();
}

size_t time_wait_pcbs() { return index_stats().time_wait; }

const char* index_check() {
    pollux::net::StackGuard g;
    return pollux::net::tcp_index_check();
}

bool read_exact(int fd, char* buf, size_t len) {
    size_t got = 0;
    while (got < len) {
        long r = pollux::sys_read(fd, buf + got, len - got);
        if (r <= 0) return false;
        got += static_cast<size_t>(r);
    }
    return true;
}

// One connection's whole life; false (with a failure recorded) if any step misbehaves.
double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

bool one_exchange(int listener, const sockaddr_in& srv, int n) {
    int c = nettest::tcp_connect(reinterpret_cast<const sockaddr*>(&srv), sizeof(srv));
    if (c < 0) return false;
    int s = static_cast<int>(pollux::sys_accept4(listener, nullptr, nullptr, 0));
    EXPECT_GE(s, 0) << "accept " << n << ": " << strerror(static_cast<int>(-s));
    if (s < 0) return false;
    char req[64] = {};
    char got[64];
    std::snprintf(req, sizeof(req), "request %d", n);
    bool ok = pollux::sys_write(c, req, sizeof(req)) == static_cast<long>(sizeof(req)) && read_exact(s, got, sizeof(got)) &&
              std::memcmp(req, got, sizeof(req)) == 0;
    got[0] = 'R';  // the reply is the request with its first letter capitalised
    ok = ok && pollux::sys_write(s, got, sizeof(got)) == static_cast<long>(sizeof(got));
    ok = ok && pollux::sys_close(s) == 0;  // the server closes first: its side keeps TIME-WAIT
    char reply[64];
    ok = ok && read_exact(c, reply, sizeof(reply)) && reply[0] == 'R' &&
         std::memcmp(reply + 1, req + 1, sizeof(req) - 1) == 0;
    char extra;
    ok = ok && pollux::sys_read(c, &extra, 1) == 0;  // then the server's FIN
    ok = ok && pollux::sys_close(c) == 0;
    EXPECT_TRUE(ok) << "connection " << n << " went wrong";
    return ok;
}

TEST(Churn, HundredThousandShortConnectionsKeepTheirRateAndGiveMemoryBack) {
    nettest::setup_hosts();
    sockaddr_in srv = nettest::addr4(0, 1, 0);
    uint16_t port = 0;
    int l = nettest::tcp_listener(reinterpret_cast<sockaddr*>(&srv), sizeof(srv), 128, &port);
    ASSERT_GE(l, 0);
    srv.sin_port = htons(port);
    ASSERT_TRUE(one_exchange(l, srv, -1));  // ARP and first-use allocations before the baseline
    const size_t baseline = heap_in_use();

    constexpr int kConns = 100000;
    constexpr int kWindow = 10000;
    // Per window: connections per second of wall time (printed), and per second of the
    // process's CPU time (asserted on): a collapse is CPU spent per connection, and CPU time
    // leaves out the time other programs on a shared machine take.
    std::vector<double> rates, cpu_rates;
    using Clock = std::chrono::steady_clock;
    auto start = Clock::now();
    for (int base = 0; base < kConns; base += kWindow) {
        auto t0 = Clock::now();
        double cpu0 = process_cpu_seconds();
        for (int i = base; i < base + kWindow; ++i) ASSERT_TRUE(one_exchange(l, srv, i));
        double secs = std::chrono::duration<double>(Clock::now() - t0).count();
        rates.push_back(kWindow / secs);
        cpu_rates.push_back(kWindow / std::max(process_cpu_seconds() - cpu0, 1e-6));
    }
    double total = std::chrono::duration<double>(Clock::now() - start).count();
    size_t tw = time_wait_pcbs();
    size_t peak = heap_in_use();
    pollux::net::TcpIndexStats st = index_stats();
    std::printf("churn: %d connections in %.1f s; per window of %d:", kConns, total, kWindow);
    for (double r : rates) std::printf(" %.0f", r);
    std::printf(" conn/s\nchurn: per CPU second:");
    for (double r : cpu_rates) std::printf(" %.0f", r);
    std::printf(" conn/s\nchurn: %zu in TIME-WAIT at the end, heap +%zu B (%zu B per TIME-WAIT), index %zu in "
                "%zu buckets, longest chain %zu\n",
                tw, peak - std::min(peak, baseline), (peak - std::min(peak, baseline)) / std::max<size_t>(tw, 1),
                st.connections, st.buckets, st.longest_chain);

    const char* bad = index_check();
    EXPECT_EQ(bad, nullptr) << bad;
    // TIME-WAIT really built up, and clients really reused ports their server still held in
    // TIME-WAIT: a tuple's TIME-WAIT lives until a new SYN reuses it (as on Linux), so one
    // client address holds at most the 16 384 ephemeral ports' worth, each port reused about
    // 6 times over the run.
    EXPECT_GE(tw, 16000u);
    // No collapse: lwIP's linear walks made the last windows several times slower than the
    // first, in CPU as in wall time; CPU time's noise stays well inside a factor of 2.5.
    double best = *std::max_element(cpu_rates.begin(), cpu_rates.end());
    double worst = *std::min_element(cpu_rates.begin(), cpu_rates.end());
    EXPECT_GE(worst, best / 2.5) << "rate collapsed from " << best << " to " << worst << " conn per CPU second";
    EXPECT_LE(st.longest_chain, 16u);

    // TIME-WAIT ends after 60 s; then every pcb, the index's table and all buffers are gone.
    auto deadline = Clock::now() + std::chrono::seconds(100);
    while (time_wait_pcbs() != 0 && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::seconds(1));
    EXPECT_EQ(time_wait_pcbs(), 0u);
    bad = index_check();
    EXPECT_EQ(bad, nullptr) << bad;
    size_t after = heap_in_use();
    std::printf("churn: heap baseline %zu B, after TIME-WAIT expired %zu B\n", baseline, after);
    EXPECT_LE(after, baseline + 64 * 1024) << "memory did not come back";
    pollux::sys_close(l);
}

}  // namespace
