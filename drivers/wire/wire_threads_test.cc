// The wire across threads: release from anywhere, transmit and poll side by side, and the
// default clock, where frames reach the runner through the kernel timer service.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "wire_test_util.h"

namespace pollux::wire {
namespace {

using namespace pollux::wire::test;

TEST_F(WireTest, FramesOutliveTheLinkAndReleaseFromAnyThread) {
    Sink sink;
    {
        WireLink link(config_of("delay=1ms"), manual_clock);
        link.end(1).attach(&sink);
        for (uint32_t seq = 0; seq < 4000; ++seq)
            send_frame(link.end(0), make_frame(link.end(0), link.end(1), seq, 128));
        manual_time += 1'000'000;
        link.run_expired();
        pump();
        for (uint32_t seq = 0; seq < 100; ++seq)
            send_frame(link.end(0), make_frame(link.end(0), link.end(1), seq, 128));
        clear_scheduled();
    }  // 100 frames still in flight: the link frees them
    ASSERT_EQ(sink.frames.size(), 4000u);
    std::vector<std::thread> threads;
    for (size_t t = 0; t < 4; ++t) {
        threads.emplace_back([&sink, t] {
            for (size_t i = t; i < sink.frames.size(); i += 4) {
                EXPECT_EQ(seq_of(sink.frames[i]), i);
                sink.frames[i]->release(sink.frames[i]);
            }
        });
    }
    for (std::thread& t : threads) t.join();
    sink.frames.clear();
}

// Duplicates too: the copy must be taken before the original is queued, since the poller may
// deliver and release the original at once (ASan sees it if not).
TEST_F(WireTest, TransmitAndPollOnDifferentThreads) {
    WireLink link(config_of("limit=64,dup=0.2"), manual_clock);
    Sink sink;
    link.end(1).attach(&sink);
    constexpr uint32_t kFrames = 20000;
    std::thread sender([&link] {
        for (uint32_t seq = 0; seq < kFrames; ++seq) {
            auto f = make_frame(link.end(0), link.end(1), seq, 64);
            while (send_frame(link.end(0), f) == 0) std::this_thread::yield();  // tail drop: retry
        }
    });
    uint32_t next = 0;
    uint64_t copies = 0, wrong = 0;
    auto receive = [&] {
        link.end(1).napi().poll(16);
        for (net::RxBuf* buf : sink.frames) {
            uint32_t seq = seq_of(buf);
            if (seq + 1 == next) {
                ++copies;
            } else if (seq == next) {
                ++next;
            } else {
                ++wrong;
            }
        }
        sink.release_all();
    };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (next < kFrames && wrong == 0 && std::chrono::steady_clock::now() < deadline) receive();
    sender.join();
    receive();  // the last frame's copy
    EXPECT_EQ(wrong, 0u);
    EXPECT_EQ(next, kFrames);
    EXPECT_EQ(copies, link.stats().duplicated);
    EXPECT_GT(copies, 0u);
    clear_scheduled();
}

TEST_F(WireTest, RealTimeFrameArrivesThroughTimerService) {
    WireLink link(config_of("delay=2ms"));
    ASSERT_TRUE(link.real_time());
    Sink sink;
    link.end(1).attach(&sink);
    uint64_t t0 = platform::monotonic_ns();
    send_frame(link.end(0), make_frame(link.end(0), link.end(1), 42, 64));
    {
        std::unique_lock<std::mutex> lock(runner.mu);
        ASSERT_TRUE(runner.cv.wait_for(lock, std::chrono::seconds(2), [] { return !runner.queue.empty(); }));
    }
    EXPECT_EQ(pump(), 1);
    ASSERT_EQ(sink.frames.size(), 1u);
    EXPECT_GE(platform::monotonic_ns() - t0, 2'000'000u);
    EXPECT_EQ(seq_of(sink.frames[0]), 42u);
}

// Frames due one after another: each poll re-arms the timer for the next, or they would strand.
TEST_F(WireTest, RealTimeRateCapKeepsTheTimerArmed) {
    WireLink link(config_of("rate=12m"));
    Sink sink;
    link.end(1).attach(&sink);
    uint64_t t0 = platform::monotonic_ns();
    for (uint32_t seq = 0; seq < 5; ++seq) send_frame(link.end(0), make_frame(link.end(0), link.end(1), seq, 1500));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (sink.frames.size() < 5) {
        std::unique_lock<std::mutex> lock(runner.mu);
        if (!runner.cv.wait_until(lock, deadline, [] { return !runner.queue.empty(); })) break;
        lock.unlock();
        pump();
    }
    ASSERT_EQ(sink.frames.size(), 5u);
    EXPECT_GE(platform::monotonic_ns() - t0, 5'000'000u);
    for (uint32_t seq = 0; seq < 5; ++seq) EXPECT_EQ(seq_of(sink.frames[seq]), seq);
}

TEST_F(WireTest, DestroyingCancelsTimersAndFreesFramesInFlight) {
    {
        WireLink link(config_of("delay=50ms"));
        for (uint32_t seq = 0; seq < 10; ++seq) send_frame(link.end(0), make_frame(link.end(0), link.end(1), seq, 64));
    }
    // Had the timer outlived its link, its callback would now run on freed memory (ASan).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(scheduled_count(), 0u);
}

}  // namespace
}  // namespace pollux::wire
