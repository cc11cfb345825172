// Wait queues, after Linux's include/linux/wait.h and kernel/sched/wait.c.
//
// A WaitQueueHead holds entries; each entry has a wake function. wake_up() calls them in
// order: non-exclusive entries sit at the front, exclusive ones at the back, and the walk
// stops after nr_exclusive exclusive entries reported success, which is how EPOLLEXCLUSIVE
// and epoll_wait's one-waiter-per-event wake-ups work. An entry's function may remove its
// own entry (autoremove) during the walk.
//
// Locking: `lock` guards the list. Wake functions run with it held, so they must not sleep,
// allocate, or take a lock that is held while adding to this queue.
#pragma once

#include <atomic>
#include <cstdint>

#include "kernel/parker.h"
#include "kernel/spin_lock.h"
#include "kstd/list.h"

namespace pollux {

using PollMask = uint32_t;

struct WaitQueueEntry;
using WakeFunction = int (*)(WaitQueueEntry& entry, unsigned mode, int sync, PollMask key);

inline constexpr unsigned WQ_FLAG_EXCLUSIVE = 0x01;
// Unlink the entry once its function has woken it (Linux's autoremove_wake_function). The
// owner always takes the queue's lock before looking at or freeing its entry, so the walker
// may unlink it after the wake.
inline constexpr unsigned WQ_FLAG_AUTOREMOVE = 0x02;

struct WaitQueueEntry {
    WaitQueueEntry() = default;
    WaitQueueEntry(WakeFunction fn, void* priv) : func(fn), private_data(priv) {}
    WaitQueueEntry(const WaitQueueEntry&) = delete;
    WaitQueueEntry& operator=(const WaitQueueEntry&) = delete;

    WakeFunction func = nullptr;
    void* private_data = nullptr;
    unsigned flags = 0;
    kstd::ListNode entry;
};

class WaitQueueHead {
public:
    void add(WaitQueueEntry& wait);             // front, non-exclusive
    void add_exclusive(WaitQueueEntry& wait);   // back, exclusive
    void remove(WaitQueueEntry& wait);
    // The add functions keep WQ_FLAG_AUTOREMOVE and set or clear WQ_FLAG_EXCLUSIVE.
    void add_locked(WaitQueueEntry& wait) REQUIRES(lock);
    void add_exclusive_locked(WaitQueueEntry& wait) REQUIRES(lock);
    void remove_locked(WaitQueueEntry& wait) REQUIRES(lock);

    // Linux's __wake_up(): wakes every non-exclusive entry and up to nr_exclusive exclusive
    // ones (0 means all). `key` is the poll mask of what happened (0: unspecified).
    void wake_up(PollMask key, int nr_exclusive = 1, int sync = 0) EXCLUDES(lock);
    void wake_up_locked(PollMask key, int nr_exclusive = 1, int sync = 0) REQUIRES(lock);
    void wake_up_all(PollMask key) EXCLUDES(lock) { wake_up(key, 0); }

    // waitqueue_active(): a lockless peek. The caller orders it after publishing its state
    // change (a full fence, as Linux requires before waitqueue_active()).
    bool active() const { return entries_.load(std::memory_order_acquire) != 0; }

    SpinLock lock;

private:
    kstd::ListNode head_ GUARDED_BY(lock);
    std::atomic<int> entries_{0};
};

// The wake function of a thread blocked on a queue: the entry's private_data is its Parker.
int default_wake_function(WaitQueueEntry& entry, unsigned mode, int sync, PollMask key);

}  // namespace pollux
