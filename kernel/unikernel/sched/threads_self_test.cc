// pollux.test=threads: the scheduler, futexes, preemption, sleeping and the core's timer queue
// (kernel/core/timer_queue.cc through the platform layer), each checked with a bound.
#include "sched/threads_self_test.h"

#include <atomic>

#include "console/printk.h"
#include "kernel/platform.h"
#include "kernel/timer.h"
#include "platform/clock.h"
#include "sched/futex.h"
#include "sched/scheduler.h"

namespace pollux::sched {
namespace {

constexpr int kRounds = 200;
constexpr uint64_t kMs = 1'000'000;

std::atomic<uint32_t> turn{0};  // whose turn: 0 = ping, 1 = pong
std::atomic<uint32_t> pongs_done{0};

void wait_for_turn(uint32_t mine) {
    for (;;) {
        uint32_t t = turn.load(std::memory_order_acquire);
        if (t == mine) return;
        platform::futex_wait(turn, t, 0);
    }
}

void pass_turn(uint32_t to) {
    turn.store(to, std::memory_order_release);
    platform::futex_wake(turn, 1);
}

void pong(void*) {
    for (int i = 0; i < kRounds; ++i) {
        wait_for_turn(1);
        pass_turn(0);
    }
    pongs_done.store(1, std::memory_order_release);
    platform::futex_wake(pongs_done, 1);
}

bool ping_pong() {
    uint64_t start = clock::monotonic_ns();
    spawn(pong, nullptr, "pong");
    for (int i = 0; i < kRounds; ++i) {
        wait_for_turn(0);
        pass_turn(1);
    }
    wait_for_turn(0);
    while (!pongs_done.load(std::memory_order_acquire)) platform::futex_wait(pongs_done, 0, 0);
    printk("threads: ping-pong %d round trips through futexes in %lu us\n", kRounds,
           (clock::monotonic_ns() - start) / 1000);
    return true;
}

volatile uint64_t spins = 0;
volatile bool stop_spinning = false;

void spinner(void*) {
    while (!stop_spinning) spins = spins + 1;
}

// The calling thread spins without yielding: the spinner can only count if the timer takes the
// CPU away from us.
bool preemption() {
    spawn(spinner, nullptr, "spinner");
    uint64_t start = clock::monotonic_ns(), limit = start + 2000 * kMs;
    while (spins == 0 && clock::monotonic_ns() < limit) {
    }
    uint64_t waited = clock::monotonic_ns() - start;
    stop_spinning = true;
    if (spins == 0) {
        printk("threads: a busy thread was never preempted in 2 s\n");
        return false;
    }
    printk("threads: a busy thread was preempted after %lu us (slice %lu ms)\n", waited / 1000, kTimeSliceNs / kMs);
    return true;
}

bool sleeper() {
    uint64_t start = clock::monotonic_ns();
    sleep_until(start + 20 * kMs);
    uint64_t slept = clock::monotonic_ns() - start;
    printk("threads: slept 20 ms, woke after %lu us\n", slept / 1000);
    // Never early; late by at most a few ms (a TCG vCPU shares a loaded host).
    return slept >= 20 * kMs && slept < 40 * kMs;
}

std::atomic<uint32_t> timer_fired{0};
uint64_t timer_fired_at = 0;

void on_core_timer(Timer&) {
    timer_fired_at = clock::monotonic_ns();
    timer_fired.store(1, std::memory_order_release);
    platform::futex_wake(timer_fired, 1);
}

bool core_timer() {
    static Timer timer(on_core_timer);
    uint64_t start = clock::monotonic_ns();
    timer_arm(timer, start + 15 * kMs);
    uint64_t limit = start + 1000 * kMs;
    while (!timer_fired.load(std::memory_order_acquire) && clock::monotonic_ns() < limit)
        platform::futex_wait(timer_fired, 0, limit);
    if (!timer_fired.load()) {
        printk("threads: the core timer did not fire within 1 s\n");
        return false;
    }
    uint64_t after = timer_fired_at - start;
    printk("threads: core timer of 15 ms fired after %lu us\n", after / 1000);
    return after >= 15 * kMs && after < 40 * kMs;
}

}  // namespace

bool run_threads_self_test() {
    bool ok = ping_pong();
    ok = preemption() && ok;
    ok = sleeper() && ok;
    ok = core_timer() && ok;
    printk("threads: %s\n", ok ? "all passed" : "FAILED");
    return ok;
}

}  // namespace pollux::sched
