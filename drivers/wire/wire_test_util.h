// Test helpers for the wire: the fixture, a manual clock, a NAPI runner that records what it
// is handed (the test polls, as the stack's net-rx thread would), a sink that keeps frames, and
// frames that carry their own sequence number.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

#include "drivers/wire.h"

namespace pollux::wire::test {

inline std::atomic<uint64_t> manual_time{1'000'000'000};
inline uint64_t manual_clock() { return manual_time.load(std::memory_order_relaxed); }

struct Runner {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<net::Napi*> queue;
};
inline Runner runner;

inline void record_schedule(net::Napi& napi) {
    std::lock_guard<std::mutex> lock(runner.mu);
    runner.queue.push_back(&napi);
    runner.cv.notify_all();
}

inline net::Napi* next_scheduled() {
    std::lock_guard<std::mutex> lock(runner.mu);
    if (runner.queue.empty()) return nullptr;
    net::Napi* napi = runner.queue.front();
    runner.queue.pop_front();
    return napi;
}

inline size_t scheduled_count() {
    std::lock_guard<std::mutex> lock(runner.mu);
    return runner.queue.size();
}

inline void clear_scheduled() {
    std::lock_guard<std::mutex> lock(runner.mu);
    runner.queue.clear();
}

// Runs the scheduled contexts as the stack's runner does: again while a poll uses its budget.
inline int pump(int budget = 64) {
    int total = 0;
    while (net::Napi* napi = next_scheduled()) {
        int done;
        do {
            done = napi->poll(budget);
            total += done;
        } while (done >= budget);
    }
    return total;
}

class Sink final : public net::RxSink {
public:
    ~Sink() { release_all(); }
    void receive(net::RxBuf* buf) override { frames.push_back(buf); }
    void release_all() {
        for (net::RxBuf* buf : frames) buf->release(buf);
        frames.clear();
    }
    std::vector<net::RxBuf*> frames;
};

// Ethernet header, then the sequence number three times (a flipped bit can spoil only one
// copy, so a corrupted frame still says which frame it was), then a pattern from it.
constexpr size_t kSeqAt = 14;

inline std::vector<uint8_t> make_frame(const WireEnd& from, const WireEnd& to, uint32_t seq, size_t len) {
    std::vector<uint8_t> f(len);
    auto dst = to.mac();
    auto src = from.mac();
    std::memcpy(f.data(), dst.data(), 6);
    std::memcpy(f.data() + 6, src.data(), 6);
    f[12] = 0x88;  // 0x88b5: IEEE 802 local experimental EtherType
    f[13] = 0xb5;
    for (size_t i = kSeqAt + 12; i < len; ++i) f[i] = static_cast<uint8_t>(size_t{seq} * 31 + i);
    for (size_t copy = 0; copy < 3; ++copy) std::memcpy(f.data() + kSeqAt + 4 * copy, &seq, 4);
    return f;
}

inline uint32_t seq_of(const net::RxBuf* buf) {
    uint32_t a, b, c;
    std::memcpy(&a, buf->data + kSeqAt, 4);
    std::memcpy(&b, buf->data + kSeqAt + 4, 4);
    std::memcpy(&c, buf->data + kSeqAt + 8, 4);
    return a == b || a == c ? a : b;
}

// Sends one frame as two segments (header, payload), so transmit must gather.
inline int send_frame(WireEnd& from, const std::vector<uint8_t>& f) {
    net::TxSeg segs[2] = {{f.data(), kSeqAt}, {f.data() + kSeqAt, f.size() - kSeqAt}};
    net::TxFrame frame{segs, 2, f.size()};
    return from.transmit(&frame, 1);
}

inline int bits_different(const net::RxBuf* buf, const std::vector<uint8_t>& want) {
    if (buf->len != want.size()) return -1;
    int bits = 0;
    for (size_t i = 0; i < want.size(); ++i) bits += __builtin_popcount(buf->data[i] ^ want[i]);
    return bits;
}

inline WireConfig config_of(const char* spec) {
    auto parsed = parse_wire_config(spec);
    EXPECT_TRUE(parsed.ok()) << spec;
    return parsed.ok() ? parsed.value() : WireConfig{};
}

// Each test starts with its own runner queue and the manual clock at one second.
class WireTest : public ::testing::Test {
protected:
    void SetUp() override {
        net::napi_set_runner(record_schedule);
        manual_time = 1'000'000'000;
        clear_scheduled();
    }
    void TearDown() override { clear_scheduled(); }
};

}  // namespace pollux::wire::test
