// Wait queues: see eventpoll/include/eventpoll/wait_queue.h for the model and locking.
#include "eventpoll/wait_queue.h"

namespace pollux {

void WaitQueueHead::add_locked(WaitQueueEntry& wait) {
    wait.flags &= ~WQ_FLAG_EXCLUSIVE;
    kstd::list_add(&wait.entry, &head_);
    entries_.fetch_add(1, std::memory_order_relaxed);
}

void WaitQueueHead::add_exclusive_locked(WaitQueueEntry& wait) {
    wait.flags |= WQ_FLAG_EXCLUSIVE;
    kstd::list_add_tail(&wait.entry, &head_);
    entries_.fetch_add(1, std::memory_order_relaxed);
}

void WaitQueueHead::remove_locked(WaitQueueEntry& wait) {
    if (wait.entry.empty()) return;  // an autoremove wake-up got there first
    kstd::list_del_init(&wait.entry);
    entries_.fetch_sub(1, std::memory_order_relaxed);
}

void WaitQueueHead::add(WaitQueueEntry& wait) {
    LockGuard guard(lock);
    add_locked(wait);
}

void WaitQueueHead::add_exclusive(WaitQueueEntry& wait) {
    LockGuard guard(lock);
    add_exclusive_locked(wait);
}

void WaitQueueHead::remove(WaitQueueEntry& wait) {
    // A lockless early-out would race with autoremove; the lock is uncontended here.
    LockGuard guard(lock);
    remove_locked(wait);
}

void WaitQueueHead::wake_up(PollMask key, int nr_exclusive, int sync) {
    LockGuard guard(lock);
    wake_up_locked(key, nr_exclusive, sync);
}

void WaitQueueHead::wake_up_locked(PollMask key, int nr_exclusive, int sync) {
    kstd::ListNode* node = head_.next;
    while (node != &head_) {
        kstd::ListNode* next = node->next;  // the function may unlink its own entry
        WaitQueueEntry& wait = *kstd::container_of(node, &WaitQueueEntry::entry);
        unsigned flags = wait.flags;
        int ret = wait.func(wait, 0, sync, key);
        if (ret > 0 && (flags & WQ_FLAG_AUTOREMOVE) != 0) {
            // Safe after the wake: the owner must take `lock` (held here) before it may
            // inspect or free its entry.
            kstd::list_del_init(&wait.entry);
            entries_.fetch_sub(1, std::memory_order_relaxed);
        }
        if (ret < 0) break;
        if (ret != 0 && (flags & WQ_FLAG_EXCLUSIVE) != 0 && --nr_exclusive == 0) break;
        node = next;
    }
}

int default_wake_function(WaitQueueEntry& entry, unsigned, int, PollMask) {
    static_cast<Parker*>(entry.private_data)->unpark();
    return 1;
}

}  // namespace pollux
