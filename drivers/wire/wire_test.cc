// The wire under a manual clock: every fault, and the NAPI contract.
#include <gtest/gtest.h>

#include "wire_test_util.h"

namespace pollux::wire {
namespace {

using namespace pollux::wire::test;

struct StreamResult {
    uint64_t delivered = 0, out_of_order = 0, damaged = 0, missing = 0, extra_copies = 0;
    WireStats stats;
};

// Sends `count` frames from end 0 in bursts, a millisecond of clock apart, and checks each
// delivery against what was sent.
StreamResult run_stream(const WireConfig& config, uint32_t count, size_t len = 64) {
    WireLink link(config, manual_clock);
    Sink sink;
    link.end(1).attach(&sink);
    std::vector<uint32_t> seen(count, 0);
    StreamResult r;
    uint32_t highest = 0;
    auto collect = [&] {
        link.run_expired();
        pump();
        for (net::RxBuf* buf : sink.frames) {
            uint32_t seq = seq_of(buf);
            EXPECT_LT(seq, count);
            if (seq >= count) continue;
            int bits = bits_different(buf, make_frame(link.end(0), link.end(1), seq, len));
            EXPECT_TRUE(bits == 0 || bits == 1) << "frame " << seq << " differs in " << bits;
            if (bits != 0) ++r.damaged;
            if (r.delivered != 0 && seq < highest) ++r.out_of_order;
            if (seq > highest) highest = seq;
            ++seen[seq];
            ++r.delivered;
        }
        sink.release_all();
    };
    for (uint32_t seq = 0; seq < count; ++seq) {
        send_frame(link.end(0), make_frame(link.end(0), link.end(1), seq, len));
        if (seq % 256 == 255) {
            manual_time += 1'000'000;
            collect();
        }
    }
    manual_time += 1'000'000'000;
    collect();
    for (uint32_t n : seen) {
        if (n == 0) ++r.missing;
        if (n > 1) r.extra_copies += n - 1;
    }
    r.stats = link.stats();
    EXPECT_EQ(link.end(1).in_flight(), 0u);
    return r;
}

TEST_F(WireTest, EndsHaveDistinctLocallyAdministeredMacs) {
    WireLink a(WireConfig{}, manual_clock);
    WireLink b(WireConfig{}, manual_clock);
    WireEnd* ends[] = {&a.end(0), &a.end(1), &b.end(0), &b.end(1)};
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(ends[i]->mac()[0] & 0x03, 0x02) << "unicast, locally administered";
        for (int j = i + 1; j < 4; ++j) {
            EXPECT_NE(ends[i]->mac(), ends[j]->mac());
            EXPECT_STRNE(ends[i]->name(), ends[j]->name());
            EXPECT_NE(ends[i]->napi().id(), ends[j]->napi().id());
        }
    }
    EXPECT_EQ(a.end(0).mtu(), 1500);
}

TEST_F(WireTest, CleanLinkDeliversInOrderByteExact) {
    WireLink link(WireConfig{}, manual_clock);
    Sink sinks[2];
    link.end(0).attach(&sinks[0]);
    link.end(1).attach(&sinks[1]);
    std::vector<std::vector<uint8_t>> sent[2];
    for (uint32_t seq = 0; seq < 500; ++seq) {
        for (int from = 0; from < 2; ++from) {
            size_t len = 60 + (seq * 37 + static_cast<uint32_t>(from)) % 1455;
            sent[from].push_back(make_frame(link.end(from), link.end(1 - from), seq, len));
            ASSERT_EQ(send_frame(link.end(from), sent[from].back()), 1);
        }
    }
    EXPECT_EQ(pump(), 1000);
    for (int to = 0; to < 2; ++to) {
        const auto& want = sent[1 - to];
        ASSERT_EQ(sinks[to].frames.size(), want.size());
        uint64_t bytes = 0;
        for (size_t i = 0; i < want.size(); ++i) {
            EXPECT_EQ(bits_different(sinks[to].frames[i], want[i]), 0) << "frame " << i;
            EXPECT_EQ(sinks[to].frames[i]->napi_id, link.end(to).napi().id());
            bytes += want[i].size();
        }
        net::DeviceCounters rx = link.end(to).counters();
        net::DeviceCounters tx = link.end(1 - to).counters();
        EXPECT_EQ(rx.rx_packets, 500u);
        EXPECT_EQ(rx.rx_bytes, bytes);
        EXPECT_EQ(tx.tx_packets, 500u);
        EXPECT_EQ(tx.tx_bytes, bytes);
        EXPECT_EQ(tx.tx_dropped + rx.rx_dropped, 0u);
        EXPECT_GE(rx.interrupts, 1u);
        EXPECT_GE(rx.polls, 1u);
    }
    WireStats s = link.stats();
    EXPECT_EQ(s.lost + s.corrupted + s.duplicated + s.reordered + s.queue_drops, 0u);
}

TEST_F(WireTest, LossIsWithinBoundsAndReproducible) {
    WireConfig config = config_of("loss=0.05,seed=7");
    StreamResult a = run_stream(config, 100000);
    EXPECT_GE(a.stats.lost, 4000u);
    EXPECT_LE(a.stats.lost, 6000u);
    EXPECT_EQ(a.missing, a.stats.lost);
    EXPECT_EQ(a.delivered + a.stats.lost, 100000u);
    EXPECT_EQ(a.out_of_order + a.damaged + a.extra_copies, 0u);
    EXPECT_EQ(run_stream(config, 100000).stats.lost, a.stats.lost);
    config.seed = 8;
    EXPECT_NE(run_stream(config, 100000).stats.lost, a.stats.lost);
}

// The drop hook loses exactly the frames a test picks, from the end it names, and counts them.
TEST_F(WireTest, DropHookLosesChosenFrames) {
    struct Picks {
        int calls[2] = {};
    } picks;
    WireConfig config;
    config.drop_ctx = &picks;
    config.drop = [](void* ctx, int from_end, const uint8_t* frame, size_t len) {
        ++static_cast<Picks*>(ctx)->calls[from_end];
        uint32_t seq;
        std::memcpy(&seq, frame + kSeqAt, sizeof(seq));
        return len > kSeqAt + 4 && seq % 3 == 0;
    };
    StreamResult r = run_stream(config, 3000);
    EXPECT_EQ(picks.calls[0], 3000);
    EXPECT_EQ(picks.calls[1], 0);
    EXPECT_EQ(r.stats.lost, 1000u);
    EXPECT_EQ(r.missing, 1000u);
    EXPECT_EQ(r.delivered, 2000u);
}

TEST_F(WireTest, DuplicationIsWithinBoundsAndReproducible) {
    WireConfig config = config_of("dup=0.01,seed=3");
    StreamResult a = run_stream(config, 100000);
    EXPECT_GE(a.stats.duplicated, 700u);
    EXPECT_LE(a.stats.duplicated, 1300u);
    EXPECT_EQ(a.extra_copies, a.stats.duplicated);
    EXPECT_EQ(a.delivered, 100000u + a.stats.duplicated);
    EXPECT_EQ(a.missing + a.damaged, 0u);
    EXPECT_EQ(run_stream(config, 100000).stats.duplicated, a.stats.duplicated);
    config.seed = 4;
    EXPECT_NE(run_stream(config, 100000).stats.duplicated, a.stats.duplicated);
}

TEST_F(WireTest, CorruptionFlipsOneBitAndIsReproducible) {
    WireConfig config = config_of("corrupt=0.01,seed=5");
    StreamResult a = run_stream(config, 100000);
    EXPECT_GE(a.stats.corrupted, 700u);
    EXPECT_LE(a.stats.corrupted, 1300u);
    EXPECT_EQ(a.damaged, a.stats.corrupted);  // run_stream checked: exactly one bit each
    EXPECT_EQ(a.delivered, 100000u);
    EXPECT_EQ(run_stream(config, 100000).stats.corrupted, a.stats.corrupted);
    config.seed = 6;
    EXPECT_NE(run_stream(config, 100000).stats.corrupted, a.stats.corrupted);
}

TEST_F(WireTest, ReorderDeliversEveryFrameSomeOutOfOrder) {
    StreamResult a = run_stream(config_of("reorder=0.05,seed=9"), 20000);
    EXPECT_GT(a.stats.reordered, 0u);
    EXPECT_GT(a.out_of_order, 0u);
    EXPECT_EQ(a.delivered, 20000u);
    EXPECT_EQ(a.missing + a.extra_copies + a.damaged, 0u);
}

TEST_F(WireTest, AllFaultsTogetherStayConsistent) {
    WireConfig config =
        config_of("loss=0.05,reorder=0.05,dup=0.01,corrupt=0.001,delay=200us,jitter=50us,rate=1g,seed=7");
    StreamResult a = run_stream(config, 30000, 200);
    EXPECT_EQ(a.delivered, 30000u - a.stats.lost + a.stats.duplicated);
    StreamResult b = run_stream(config, 30000, 200);
    EXPECT_EQ(a.stats.lost, b.stats.lost);
    EXPECT_EQ(a.stats.reordered, b.stats.reordered);
    EXPECT_EQ(a.out_of_order, b.out_of_order);
}

TEST_F(WireTest, DelayHoldsFramesUntilDue) {
    WireLink link(config_of("delay=200us"), manual_clock);
    Sink sink;
    link.end(1).attach(&sink);
    uint64_t t0 = manual_clock();
    send_frame(link.end(0), make_frame(link.end(0), link.end(1), 1, 100));
    EXPECT_EQ(scheduled_count(), 0u);
    EXPECT_EQ(link.end(1).napi().poll(64), 0);  // a poll before the due time finds nothing
    manual_time = t0 + 199'999;
    link.run_expired();
    EXPECT_EQ(scheduled_count(), 0u);
    manual_time = t0 + 200'000;
    link.run_expired();
    ASSERT_EQ(scheduled_count(), 1u);
    EXPECT_EQ(pump(), 1);
    EXPECT_EQ(sink.frames.size(), 1u);
}

TEST_F(WireTest, JitterStaysWithinItsWindow) {
    WireLink link(config_of("delay=100us,jitter=50us,seed=11"), manual_clock);
    Sink sink;
    link.end(1).attach(&sink);
    uint64_t t0 = manual_clock();
    for (uint32_t seq = 0; seq < 1000; ++seq) send_frame(link.end(0), make_frame(link.end(0), link.end(1), seq, 64));
    size_t arrived_early = 0, arrived_late = 0;
    for (uint64_t t = t0; t <= t0 + 160'000; t += 1'000) {
        manual_time = t;
        link.run_expired();
        pump();
        if (t < t0 + 100'000) arrived_early += sink.frames.size();
        if (t == t0 + 125'000) arrived_late = sink.frames.size();  // by the middle of the window
    }
    EXPECT_EQ(arrived_early, 0u);
    EXPECT_GT(arrived_late, 300u);
    EXPECT_LT(arrived_late, 700u);
    EXPECT_EQ(sink.frames.size(), 1000u);
}

TEST_F(WireTest, RateCapSpacesFramesBySerialisationTime) {
    WireLink link(config_of("rate=12m"), manual_clock);
    Sink sink;
    link.end(1).attach(&sink);
    uint64_t t0 = manual_clock();
    for (uint32_t seq = 0; seq < 10; ++seq) send_frame(link.end(0), make_frame(link.end(0), link.end(1), seq, 1500));
    for (uint64_t k = 1; k <= 10; ++k) {
        manual_time = t0 + k * 1'000'000 - 1;  // 1500 bytes at 12 Mbit/s: 1 ms each
        link.run_expired();
        pump();
        EXPECT_EQ(sink.frames.size(), k - 1);
        manual_time = t0 + k * 1'000'000;
        link.run_expired();
        pump();
        ASSERT_EQ(sink.frames.size(), k);
        EXPECT_EQ(seq_of(sink.frames.back()), k - 1);
    }
}

TEST_F(WireTest, OversizeFramesAreDropped) {
    WireLink link(WireConfig{}, manual_clock);
    Sink sink;
    link.end(1).attach(&sink);
    EXPECT_EQ(send_frame(link.end(0), make_frame(link.end(0), link.end(1), 1, 1514)), 1);
    EXPECT_EQ(send_frame(link.end(0), make_frame(link.end(0), link.end(1), 2, 1515)), 0);
    net::TxFrame empty{nullptr, 0, 0};
    EXPECT_EQ(link.end(0).transmit(&empty, 1), 0);
    EXPECT_EQ(link.end(0).counters().tx_dropped, 2u);
    EXPECT_EQ(pump(), 1);

    WireLink jumbo(config_of("mtu=9000"), manual_clock);
    EXPECT_EQ(send_frame(jumbo.end(0), make_frame(jumbo.end(0), jumbo.end(1), 1, 9014)), 1);
    EXPECT_EQ(send_frame(jumbo.end(0), make_frame(jumbo.end(0), jumbo.end(1), 2, 9015)), 0);
}

TEST_F(WireTest, QueueLimitTailDropsAndCounts) {
    WireLink link(config_of("limit=16,delay=1ms"), manual_clock);
    int taken = 0;
    for (uint32_t seq = 0; seq < 20; ++seq)
        taken += send_frame(link.end(0), make_frame(link.end(0), link.end(1), seq, 64));
    EXPECT_EQ(taken, 16);
    EXPECT_EQ(link.end(1).in_flight(), 16u);
    EXPECT_EQ(link.stats().queue_drops, 4u);
    EXPECT_EQ(link.end(0).counters().tx_dropped, 4u);
    EXPECT_EQ(link.end(0).counters().tx_packets, 16u);
}

TEST_F(WireTest, PollRespectsBudgetAndStaysScheduled) {
    WireLink link(WireConfig{}, manual_clock);
    Sink sink;
    link.end(1).attach(&sink);
    for (uint32_t seq = 0; seq < 10; ++seq) send_frame(link.end(0), make_frame(link.end(0), link.end(1), seq, 64));
    ASSERT_EQ(next_scheduled(), &link.end(1).napi());
    EXPECT_EQ(next_scheduled(), nullptr);  // scheduled once, not once per frame
    net::Napi& napi = link.end(1).napi();
    EXPECT_EQ(napi.poll(4), 4);
    EXPECT_TRUE(napi.scheduled());
    EXPECT_EQ(napi.poll(4), 4);
    EXPECT_TRUE(napi.scheduled());
    EXPECT_EQ(napi.poll(4), 2);
    EXPECT_FALSE(napi.scheduled());
    EXPECT_EQ(scheduled_count(), 0u);
    EXPECT_EQ(sink.frames.size(), 10u);
}

// The clock moves on the moment the context completes: a frame falls due in the window
// between the poll's last look and complete(), which only the re-check after it can catch.
std::atomic<net::Napi*> watched_napi{nullptr};
uint64_t clock_that_ticks_on_complete() {
    net::Napi* napi = watched_napi.load();
    return manual_clock() + (napi != nullptr && !napi->scheduled() ? 1 : 0);
}

TEST_F(WireTest, PollRechecksAfterComplete) {
    WireLink link(config_of("delay=1ns"), clock_that_ticks_on_complete);
    Sink sink;
    link.end(1).attach(&sink);
    send_frame(link.end(0), make_frame(link.end(0), link.end(1), 1, 64));  // due T+1
    manual_time += 1;
    link.run_expired();
    send_frame(link.end(0), make_frame(link.end(0), link.end(1), 2, 64));  // due T+2
    watched_napi = &link.end(1).napi();
    ASSERT_EQ(next_scheduled(), &link.end(1).napi());
    EXPECT_EQ(link.end(1).napi().poll(64), 1);
    EXPECT_EQ(scheduled_count(), 1u) << "frame 2 fell due at complete() and was left behind";
    watched_napi = nullptr;
    manual_time += 1;
    EXPECT_EQ(pump(), 1);
    EXPECT_EQ(sink.frames.size(), 2u);
}

TEST_F(WireTest, NoSinkDropsAndCounts) {
    WireLink link(WireConfig{}, manual_clock);
    for (uint32_t seq = 0; seq < 3; ++seq) send_frame(link.end(0), make_frame(link.end(0), link.end(1), seq, 64));
    EXPECT_EQ(pump(), 3);
    EXPECT_EQ(link.end(1).counters().rx_dropped, 3u);
    EXPECT_EQ(link.end(1).counters().rx_packets, 0u);
}

}  // namespace
}  // namespace pollux::wire
