// Unit tests for timerfd (eventpoll/timerfd.h): creation flags and clocks, settime/gettime
// (relative, absolute, periodic, disarm, old value, ktime saturation), validation order,
// expiration counts and their forwarding, poll masks, faults, TFD_IOC_SET_TICKS, the wake-up
// key, blocked readers woken by an expiry, and races of settime/release against the timer
// callback (run under ASan). Durations are bounded, never asserted exactly. Expected values were
// measured on Linux 6.18 (fs/timerfd.c) with small C probes.
#include "eventpoll/timerfd.h"
#include "wake_recorder.h"

#include <gtest/gtest.h>
#include <linux/errno.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <future>
#include <string>
#include <thread>

#include "eventpoll/eventfd.h"
#include "eventpoll/fd_table.h"
#include "eventpoll/printer.h"
#include "eventpoll/sys.h"

namespace pollux {
namespace {

using namespace std::chrono_literals;

constexpr int64_t kMs = 1000000;
constexpr int64_t kSec = 1000000000;
constexpr auto kBound = 5s;

long result(const kstd::Result<size_t>& r) { return r.ok() ? static_cast<long>(r.value()) : -r.error_code(); }

int64_t clock_now(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return static_cast<int64_t>(ts.tv_sec) * kSec + ts.tv_nsec;
}

abi::Timespec ts_of(int64_t ns) { return abi::Timespec{ns / kSec, ns % kSec}; }
int64_t ns_of(const abi::Timespec& ts) { return ts.tv_sec * kSec + ts.tv_nsec; }

abi::Itimerspec its(int64_t value_ns, int64_t interval_ns = 0) {
    return abi::Itimerspec{ts_of(interval_ns), ts_of(value_ns)};
}

FileRef make(int clockid = abi::kCLOCK_MONOTONIC, int flags = abi::kTFD_NONBLOCK) {
    kstd::Result<FileRef> r = TimerFd::create(clockid, flags);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.release_value() : FileRef();
}

TimerFd& tfd(const FileRef& f) { return static_cast<TimerFd&>(*f); }

void arm(const FileRef& f, int64_t value_ns, int64_t interval_ns = 0, int flags = 0) {
    ASSERT_TRUE(tfd(f).settime(flags, its(value_ns, interval_ns), nullptr).ok());
}

long read_raw(File& f, void* buf, size_t n, bool nonblock = true) {
    IoVec seg{buf, n};
    IoIter it(&seg, 1);
    return result(f.read(it, nonblock));
}

// The count a non-blocking read returns, or -errno.
long long take(File& f) {
    uint64_t v = 0;
    long r = read_raw(f, &v, sizeof(v));
    return r == 8 ? static_cast<long long>(v) : r;
}

bool wait_readable(File& f, std::chrono::milliseconds bound = std::chrono::duration_cast<std::chrono::milliseconds>(kBound)) {
    auto deadline = std::chrono::steady_clock::now() + bound;
    while (f.poll(nullptr) == 0) {
        if (std::chrono::steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

long set_ticks(File& f, uint64_t ticks) {
    kstd::Result<long> r = f.ioctl(kTFD_IOC_SET_TICKS, reinterpret_cast<uintptr_t>(&ticks));
    return r.ok() ? r.value() : -r.error_code();
}

std::string fdinfo(File& f) {
    char buf[512];
    Printer out(buf, sizeof(buf));
    f.show_fdinfo(out);
    return std::string(buf);
}

unsigned long long fdinfo_ticks(File& f) {
    std::string text = fdinfo(f);
    size_t at = text.find("ticks: ");
    return at == std::string::npos ? ~0ull : std::strtoull(text.c_str() + at + 7, nullptr, 10);
}

using test::WakeRecorder;

class TimerFdTest : public ::testing::Test {
protected:
    void TearDown() override {
        for (int i = 0; i < nfds_; ++i) EXPECT_EQ(sys_close(fds_[i]), 0);
    }
    int open(int clockid, int flags) {
        long fd = sys_timerfd_create(clockid, flags);
        EXPECT_GE(fd, 0);
        if (fd >= 0) fds_[nfds_++] = static_cast<int>(fd);
        return static_cast<int>(fd);
    }
    int fds_[8] = {};
    int nfds_ = 0;
};

TEST_F(TimerFdTest, CreateClocksFlagsAndModes) {
    int mono = open(abi::kCLOCK_MONOTONIC, 0);
    int real = open(abi::kCLOCK_REALTIME, abi::kTFD_NONBLOCK);
    int boot = open(abi::kCLOCK_BOOTTIME, abi::kTFD_CLOEXEC);
    open(abi::kCLOCK_REALTIME_ALARM, 0);  // Linux wants CAP_WAKE_ALARM, which root has
    open(abi::kCLOCK_BOOTTIME_ALARM, abi::kTFD_NONBLOCK | abi::kTFD_CLOEXEC);
    FileRef m = FdTable::instance().get(mono);
    EXPECT_EQ(m->flags(), abi::kO_RDWR);  // F_GETFL: 02 and 04002
    EXPECT_EQ(FdTable::instance().get(real)->flags(), abi::kO_RDWR | abi::kO_NONBLOCK);
    EXPECT_FALSE(FdTable::instance().cloexec(mono).value());
    EXPECT_TRUE(FdTable::instance().cloexec(boot).value());
    EXPECT_EQ(m->kind(), FileKind::timerfd);
    EXPECT_EQ(m->mode(), FMODE_READ | FMODE_WRITE);
    EXPECT_TRUE(m->can_read());
    EXPECT_FALSE(m->can_write());
    EXPECT_EQ(tfd(m).clockid(), abi::kCLOCK_MONOTONIC);
}

TEST_F(TimerFdTest, CreateRejectsBadClocksAndFlags) {
    for (int clock : {2, 3, 4, 5, 6, 10, 11, 12, -1, 100}) {  // CPU-time, RAW, COARSE, TAI...
        EXPECT_EQ(sys_timerfd_create(clock, 0), -EINVAL) << clock;
    }
    EXPECT_EQ(sys_timerfd_create(abi::kCLOCK_MONOTONIC, 1), -EINVAL);
    EXPECT_EQ(sys_timerfd_create(abi::kCLOCK_MONOTONIC, abi::kTFD_NONBLOCK | 2), -EINVAL);
    EXPECT_EQ(sys_timerfd_create(abi::kCLOCK_MONOTONIC, -1), -EINVAL);
    EXPECT_EQ(sys_timerfd_create(-1, 1), -EINVAL);
}

TEST_F(TimerFdTest, FreshTimerIsDisarmed) {
    FileRef f = make();
    abi::Itimerspec cur = tfd(f).gettime();
    EXPECT_EQ(ns_of(cur.it_value), 0);
    EXPECT_EQ(ns_of(cur.it_interval), 0);
    EXPECT_EQ(f->poll(nullptr), 0u);
    EXPECT_EQ(take(*f), -EAGAIN);
}

TEST_F(TimerFdTest, ReadSizeWriteAndIoctlErrors) {
    int fd = open(abi::kCLOCK_MONOTONIC, 0);
    FileRef f = FdTable::instance().get(fd);
    char buf[16];
    EXPECT_EQ(read_raw(*f, buf, 7, false), -EINVAL);  // before blocking
    EXPECT_EQ(read_raw(*f, buf, 0, true), -EINVAL);
    uint64_t eight = 1;
    EXPECT_EQ(sys_write(fd, &eight, 8), -EINVAL);  // opened O_RDWR, but no write method
    int n = 0;
    EXPECT_EQ(sys_ioctl(fd, abi::kFIONREAD, reinterpret_cast<unsigned long>(&n)), -ENOTTY);
}

TEST_F(TimerFdTest, OneShotExpiresExactlyOnce) {
    FileRef f = make();
    arm(f, 20 * kMs);
    EXPECT_EQ(f->poll(nullptr), 0u);
    ASSERT_TRUE(wait_readable(*f));
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLIN);  // no RDNORM
    abi::Itimerspec cur = tfd(f).gettime();
    EXPECT_EQ(ns_of(cur.it_value), 0);  // expired one-shot: nothing remaining
    EXPECT_EQ(take(*f), 1);
    EXPECT_EQ(f->poll(nullptr), 0u);
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(take(*f), -EAGAIN);
}

TEST_F(TimerFdTest, BlockedReaderIsWokenByExpiry) {
    FileRef f = make(abi::kCLOCK_MONOTONIC, 0);
    std::promise<long long> got;
    std::future<long long> fut = got.get_future();
    std::thread reader([&] {
        uint64_t v = 0;
        long r = read_raw(*f, &v, sizeof(v), false);
        got.set_value(r == 8 ? static_cast<long long>(v) : r);
    });
    EXPECT_EQ(fut.wait_for(30ms), std::future_status::timeout);
    int64_t t0 = clock_now(CLOCK_MONOTONIC);
    arm(f, 20 * kMs);
    bool ready = fut.wait_for(kBound) == std::future_status::ready;
    if (!ready) set_ticks(*f, 99);  // unblock the thread before failing
    reader.join();
    ASSERT_TRUE(ready);
    EXPECT_EQ(fut.get(), 1);
    EXPECT_GE(clock_now(CLOCK_MONOTONIC) - t0, 20 * kMs);
}

TEST_F(TimerFdTest, PeriodicCountsEveryExpiration) {
    FileRef f = make();
    int64_t t0 = clock_now(CLOCK_MONOTONIC);
    arm(f, 10 * kMs, 10 * kMs);
    std::this_thread::sleep_for(120ms);
    long long n = take(*f);
    int64_t elapsed = clock_now(CLOCK_MONOTONIC) - t0;
    // Overruns come from the clock, so a late wake-up loses no period.
    EXPECT_GE(n, 10);
    EXPECT_LE(n, elapsed / (10 * kMs) + 1);
    abi::Itimerspec cur = tfd(f).gettime();
    EXPECT_EQ(cur.it_interval.tv_sec, 0);
    EXPECT_EQ(cur.it_interval.tv_nsec, 10 * kMs);
    EXPECT_GT(ns_of(cur.it_value), 0);
    EXPECT_LE(ns_of(cur.it_value), 10 * kMs);
}

TEST_F(TimerFdTest, PeriodicIsRearmedOnlyByRead) {
    FileRef f = make();
    arm(f, 5 * kMs, 5 * kMs);
    ASSERT_TRUE(wait_readable(*f));
    std::this_thread::sleep_for(40ms);
    // timerfd_tmrproc() returns HRTIMER_NORESTART: one callback, one tick, until a read.
    EXPECT_EQ(fdinfo_ticks(*f), 1u);
    long long n = take(*f);
    EXPECT_GE(n, 8);
    EXPECT_EQ(f->poll(nullptr), 0u);
    ASSERT_TRUE(wait_readable(*f));  // the read re-armed it
    EXPECT_GE(take(*f), 1);
}

TEST_F(TimerFdTest, GettimeBanksMissedPeriods) {
    FileRef f = make();
    arm(f, 5 * kMs, 5 * kMs);
    ASSERT_TRUE(wait_readable(*f));
    std::this_thread::sleep_for(40ms);
    abi::Itimerspec cur = tfd(f).gettime();  // forwards and re-arms, as do_timerfd_gettime()
    EXPECT_GT(ns_of(cur.it_value), 0);
    EXPECT_LE(ns_of(cur.it_value), 5 * kMs);
    unsigned long long banked = fdinfo_ticks(*f);
    EXPECT_GE(banked, 8u);
    long long n = take(*f);
    EXPECT_GE(n, static_cast<long long>(banked));  // nothing banked is lost
}

TEST_F(TimerFdTest, AbstimeInThePastCountsEveryPeriod) {
    FileRef f = make();
    int64_t now = clock_now(CLOCK_MONOTONIC);
    arm(f, now - kSec, 100 * kMs, abi::kTFD_TIMER_ABSTIME);
    ASSERT_TRUE(wait_readable(*f));
    long long n = take(*f);
    EXPECT_GE(n, 10);  // the expiry a second ago plus every 100 ms since
    EXPECT_LT(n, 1000);
    FileRef once = make();
    arm(once, 1, 0, abi::kTFD_TIMER_ABSTIME);  // 1 ns after boot: long past, one-shot
    ASSERT_TRUE(wait_readable(*once));
    EXPECT_EQ(take(*once), 1);
}

TEST_F(TimerFdTest, AbstimeInTheFuture) {
    FileRef f = make(abi::kCLOCK_MONOTONIC, 0);
    int64_t t0 = clock_now(CLOCK_MONOTONIC);
    arm(f, t0 + 30 * kMs, 0, abi::kTFD_TIMER_ABSTIME);
    abi::Itimerspec cur = tfd(f).gettime();
    EXPECT_GT(ns_of(cur.it_value), 0);
    EXPECT_LE(ns_of(cur.it_value), 30 * kMs);
    ASSERT_TRUE(wait_readable(*f));
    EXPECT_GE(clock_now(CLOCK_MONOTONIC), t0 + 30 * kMs);
    uint64_t v = 0;
    EXPECT_EQ(read_raw(*f, &v, sizeof(v), false), 8);
    EXPECT_EQ(v, 1u);
}

TEST_F(TimerFdTest, SettimeReturnsOldValueAndDisarms) {
    FileRef f = make();
    arm(f, 10 * kSec, 500 * kMs);
    abi::Itimerspec old = its(1, 1);
    ASSERT_TRUE(tfd(f).settime(0, its(0), &old).ok());
    EXPECT_GT(ns_of(old.it_value), 5 * kSec);
    EXPECT_LE(ns_of(old.it_value), 10 * kSec);
    EXPECT_EQ(ns_of(old.it_interval), 500 * kMs);
    abi::Itimerspec cur = tfd(f).gettime();
    EXPECT_EQ(ns_of(cur.it_value), 0);
    EXPECT_EQ(ns_of(cur.it_interval), 0);
    EXPECT_EQ(take(*f), -EAGAIN);
    // The old value of an expired periodic timer is its next expiration.
    arm(f, 2 * kMs, 50 * kMs);
    ASSERT_TRUE(wait_readable(*f));
    ASSERT_TRUE(tfd(f).settime(0, its(0), &old).ok());
    EXPECT_GT(ns_of(old.it_value), 0);
    EXPECT_LE(ns_of(old.it_value), 50 * kMs);
}

TEST_F(TimerFdTest, SettimeDropsPendingExpirations) {
    FileRef f = make();
    arm(f, 1 * kMs);
    ASSERT_TRUE(wait_readable(*f));
    arm(f, 10 * kSec);  // re-arming resets the unread count too
    EXPECT_EQ(f->poll(nullptr), 0u);
    EXPECT_EQ(take(*f), -EAGAIN);
    EXPECT_EQ(fdinfo_ticks(*f), 0u);
}

TEST_F(TimerFdTest, SettimeChecksInLinuxOrder) {
    int fd = open(abi::kCLOCK_MONOTONIC, abi::kTFD_NONBLOCK);
    abi::Itimerspec good = its(100 * kMs);
    EXPECT_EQ(sys_timerfd_settime(fd, 4, &good, nullptr), -EINVAL);
    EXPECT_EQ(sys_timerfd_settime(fd, -1, &good, nullptr), -EINVAL);
    abi::Itimerspec bad = good;
    bad.it_value.tv_nsec = kSec;
    EXPECT_EQ(sys_timerfd_settime(fd, 0, &bad, nullptr), -EINVAL);
    bad = good;
    bad.it_value.tv_sec = -1;
    EXPECT_EQ(sys_timerfd_settime(fd, 0, &bad, nullptr), -EINVAL);
    bad = good;
    bad.it_value.tv_nsec = -1;
    EXPECT_EQ(sys_timerfd_settime(fd, 0, &bad, nullptr), -EINVAL);
    bad = good;
    bad.it_interval.tv_nsec = kSec;
    EXPECT_EQ(sys_timerfd_settime(fd, 0, &bad, nullptr), -EINVAL);
    // A failed settime changes nothing.
    abi::Itimerspec cur{};
    EXPECT_EQ(sys_timerfd_gettime(fd, &cur), 0);
    EXPECT_EQ(ns_of(cur.it_value), 0);
    // Copy-in first, then flags and timespecs, then the fd.
    EXPECT_EQ(sys_timerfd_settime(-1, 0, nullptr, nullptr), -EFAULT);
    EXPECT_EQ(sys_timerfd_settime(-1, 4, &good, nullptr), -EINVAL);
    EXPECT_EQ(sys_timerfd_settime(-1, 0, &good, nullptr), -EBADF);
    int efd = static_cast<int>(sys_eventfd2(0, 0));
    ASSERT_GE(efd, 0);
    fds_[nfds_++] = efd;
    EXPECT_EQ(sys_timerfd_settime(efd, 0, &good, nullptr), -EINVAL);
    // TFD_TIMER_CANCEL_ON_SET is accepted with or without ABSTIME.
    EXPECT_EQ(sys_timerfd_settime(fd, abi::kTFD_TIMER_CANCEL_ON_SET, &good, nullptr), 0);
    abi::Itimerspec old{};
    EXPECT_EQ(sys_timerfd_settime(fd, 0, &good, &old), 0);
    EXPECT_GT(ns_of(old.it_value), 0);
}

TEST_F(TimerFdTest, GettimeChecksInLinuxOrder) {
    int fd = open(abi::kCLOCK_MONOTONIC, abi::kTFD_NONBLOCK);
    abi::Itimerspec cur{};
    EXPECT_EQ(sys_timerfd_gettime(-1, &cur), -EBADF);
    EXPECT_EQ(sys_timerfd_gettime(-1, nullptr), -EBADF);  // the fd before the copy-out
    int efd = static_cast<int>(sys_eventfd2(0, 0));
    ASSERT_GE(efd, 0);
    fds_[nfds_++] = efd;
    EXPECT_EQ(sys_timerfd_gettime(efd, &cur), -EINVAL);
    EXPECT_EQ(sys_timerfd_gettime(fd, nullptr), -EFAULT);
    EXPECT_EQ(sys_timerfd_gettime(fd, &cur), 0);
}

TEST_F(TimerFdTest, IntervalWithoutValueStaysDisarmed) {
    FileRef f = make();
    arm(f, 0, 1 * kMs);
    abi::Itimerspec cur = tfd(f).gettime();
    EXPECT_EQ(ns_of(cur.it_value), 0);
    EXPECT_EQ(ns_of(cur.it_interval), 1 * kMs);  // kept and reported, as Linux does
    std::this_thread::sleep_for(10ms);
    EXPECT_EQ(take(*f), -EAGAIN);
}

TEST_F(TimerFdTest, HugeValuesSaturateAtKtimeMax) {
    FileRef f = make();
    constexpr int64_t kKtimeMax = INT64_MAX;
    abi::Itimerspec huge{abi::Timespec{INT64_MAX, 999999999}, abi::Timespec{INT64_MAX, 999999999}};
    ASSERT_TRUE(tfd(f).settime(0, huge, nullptr).ok());
    int64_t now = clock_now(CLOCK_MONOTONIC);
    abi::Itimerspec cur = tfd(f).gettime();
    // Relative: now + KTIME_MAX saturates at KTIME_MAX; the interval reads back as KTIME_MAX.
    EXPECT_LE(ns_of(cur.it_value), kKtimeMax - now);
    EXPECT_GT(ns_of(cur.it_value), kKtimeMax - now - kSec);
    EXPECT_EQ(cur.it_interval.tv_sec, 9223372036);
    EXPECT_EQ(cur.it_interval.tv_nsec, 854775807);
    huge.it_value.tv_sec = 9223372036;  // KTIME_SEC_MAX: still "never"
    huge.it_value.tv_nsec = 0;
    ASSERT_TRUE(tfd(f).settime(abi::kTFD_TIMER_ABSTIME, huge, nullptr).ok());
    cur = tfd(f).gettime();
    EXPECT_LE(ns_of(cur.it_value), kKtimeMax - now);
    EXPECT_GT(ns_of(cur.it_value), kKtimeMax - now - kSec);
    EXPECT_EQ(take(*f), -EAGAIN);
}

TEST_F(TimerFdTest, RealtimeAndBoottimeRemaining) {
    for (int clock : {abi::kCLOCK_REALTIME, abi::kCLOCK_BOOTTIME, abi::kCLOCK_REALTIME_ALARM}) {
        FileRef f = make(clock);
        arm(f, 5 * kSec);
        int64_t left = ns_of(tfd(f).gettime().it_value);
        EXPECT_GT(left, 3 * kSec) << clock;
        EXPECT_LE(left, 5 * kSec) << clock;
        clockid_t host = clock == abi::kCLOCK_BOOTTIME ? CLOCK_BOOTTIME : CLOCK_REALTIME;
        arm(f, clock_now(host) + 5 * kSec, 0, abi::kTFD_TIMER_ABSTIME | abi::kTFD_TIMER_CANCEL_ON_SET);
        left = ns_of(tfd(f).gettime().it_value);
        EXPECT_GT(left, 3 * kSec) << clock;
        EXPECT_LE(left, 5 * kSec) << clock;
        EXPECT_NE(fdinfo(*f).find("settime flags: 03\n"), std::string::npos) << fdinfo(*f);
    }
    FileRef real = make(abi::kCLOCK_REALTIME);
    arm(real, clock_now(CLOCK_REALTIME) + 20 * kMs, 0, abi::kTFD_TIMER_ABSTIME);
    ASSERT_TRUE(wait_readable(*real));
    EXPECT_EQ(take(*real), 1);
}

TEST_F(TimerFdTest, ExpiryAndSetTicksWakeWithEpollin) {
    FileRef f = make();
    WakeRecorder rec(f);
    ASSERT_TRUE(rec.queued());
    arm(f, 2 * kMs);
    EXPECT_EQ(rec.count(), 0);  // arming wakes nobody
    ASSERT_TRUE(wait_readable(*f));
    ASSERT_EQ(rec.count(), 1);
    EXPECT_EQ(rec.key(0), abi::kEPOLLIN);  // wake_up_locked_poll(EPOLLIN)
    EXPECT_EQ(take(*f), 1);
    EXPECT_EQ(rec.count(), 1);  // reads wake nobody
    EXPECT_EQ(set_ticks(*f, 4), 0);
    ASSERT_EQ(rec.count(), 2);
    EXPECT_EQ(rec.key(1), abi::kEPOLLIN);
}

TEST_F(TimerFdTest, SetTicksIoctl) {
    FileRef f = make();
    EXPECT_EQ(set_ticks(*f, 5), 0);
    EXPECT_EQ(f->poll(nullptr), abi::kEPOLLIN);
    EXPECT_EQ(take(*f), 5);
    EXPECT_EQ(set_ticks(*f, 0), -EINVAL);
    EXPECT_EQ(f->ioctl(kTFD_IOC_SET_TICKS, 0).error_code(), EFAULT);
    int n = 0;
    EXPECT_EQ(f->ioctl(abi::kFIONREAD, reinterpret_cast<uintptr_t>(&n)).error_code(), ENOTTY);
    EXPECT_EQ(take(*f), -EAGAIN);
}

TEST_F(TimerFdTest, FaultingReadConsumesTicks) {
    FileRef f = make();
    EXPECT_EQ(read_raw(*f, nullptr, 8), -EAGAIN);  // nothing to copy: no fault
    ASSERT_EQ(set_ticks(*f, 3), 0);
    EXPECT_EQ(read_raw(*f, nullptr, 8), -EFAULT);
    EXPECT_EQ(take(*f), -EAGAIN);
    // copy_to_iter() may stop halfway: timerfd returns the bytes it copied.
    ASSERT_EQ(set_ticks(*f, 0x0000000700000009ull), 0);
    uint32_t lo = 0;
    IoVec segs[2] = {{&lo, 4}, {nullptr, 4}};
    IoIter it(segs, 2);
    EXPECT_EQ(result(f->read(it, true)), 4);
    EXPECT_EQ(lo, 9u);
    EXPECT_EQ(take(*f), -EAGAIN);
}

TEST_F(TimerFdTest, ReleaseWhileArmedOrFiring) {
    // The last reference goes while the timer is queued or its callback runs; release() must
    // cancel and wait, or ASan reports the callback touching freed memory.
    for (int i = 0; i < 300; ++i) {
        FileRef f = make();
        arm(f, 1000 + (i % 7) * 5000, (i % 3) * 1000);
        if (i % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(i % 50));
    }
}

TEST_F(TimerFdTest, SettimeRacingTheCallbackLeavesNoStaleTicks) {
    FileRef f = make();
    std::atomic<bool> stop{false};
    std::thread poker([&] {
        while (!stop.load()) {
            (void)tfd(f).gettime();  // may re-arm a periodic timer between cancel and lock
            (void)take(*f);
        }
    });
    for (int i = 0; i < 2000; ++i) {
        arm(f, 1 + (i % 5) * 2000, (i % 2) * 3000);
        if (i % 10 == 0) std::this_thread::sleep_for(std::chrono::microseconds(5));
        arm(f, 0);
    }
    stop.store(true);
    poker.join();
    arm(f, 0);
    std::this_thread::sleep_for(20ms);
    // Any firing left from an earlier setting belongs to a replaced arming: ignored.
    EXPECT_EQ(f->poll(nullptr), 0u);
    EXPECT_EQ(take(*f), -EAGAIN);
    EXPECT_EQ(ns_of(tfd(f).gettime().it_value), 0);
}

TEST_F(TimerFdTest, FdinfoFormat) {
    FileRef f = make(abi::kCLOCK_REALTIME);
    arm(f, 100 * kSec, kSec + 5);
    std::string text = fdinfo(*f);
    EXPECT_EQ(text.rfind("clockid: 0\nticks: 0\nsettime flags: 00\nit_value: (9", 0), 0u) << text;
    EXPECT_NE(text.find("\nit_interval: (1, 5)\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace pollux
