// Readiness and delivery: ep_poll_callback, the ready-list scan, ep_send_events and ep_poll.
// The model and the locking order are in eventpoll/include/eventpoll/event_poll.h.
#include <linux/errno.h>

#include <cstring>

#include "eventpoll/busy_poll.h"
#include "eventpoll/event_poll.h"
#include "kernel/platform.h"

namespace pollux {

// Linux's ep_poll_callback(). Runs from wake_up() on a watched file's queue, with that
// queue's lock held: O(1), no allocation, no sleeping, only ep->lock.
int EventPoll::poll_callback(WaitQueueEntry& wait, unsigned, int, PollMask key) {
    EppollEntry& pwq = *static_cast<EppollEntry*>(wait.private_data);
    EpItem& epi = *pwq.base;
    EventPoll& ep = *epi.ep;
    int ewake = 0;
    bool pwake = false;
    uint32_t events = epi.events.load(std::memory_order_seq_cst);
    {
        LockGuard guard(ep.lock_);
        // A disarmed EPOLLONESHOT item keeps only private bits; a keyed wake-up that has
        // nothing the item asked for is not an event for it.
        if ((events & ~EP_PRIVATE_BITS) == 0) return (events & abi::kEPOLLEXCLUSIVE) ? 0 : 1;
        if (key != 0 && (key & events) == 0) return (events & abi::kEPOLLEXCLUSIVE) ? 0 : 1;

        if (ep.ovflist_ != EpItem::kUnactive) {
            // A scan owns the ready items: chain on ovflist, unless already there.
            if (epi.next == EpItem::kUnactive) {
                epi.next = ep.ovflist_;
                ep.ovflist_ = &epi;
            }
        } else if (!epi.rdllink.linked()) {
            kstd::list_add_tail(&epi.rdllink, &ep.rdllist_);
        }

        if (ep.wq_.active()) {
            if ((events & abi::kEPOLLEXCLUSIVE) != 0) {
                // An exclusive item counts as "woke a waiter" only for the events it asked for,
                // so a wake-up for IN does not stop at an item that only wants OUT.
                switch (key & EPOLLINOUT_BITS) {
                case abi::kEPOLLIN:
                    if (events & abi::kEPOLLIN) ewake = 1;
                    break;
                case abi::kEPOLLOUT:
                    if (events & abi::kEPOLLOUT) ewake = 1;
                    break;
                case 0:
                    ewake = 1;
                    break;
                default:
                    break;
                }
            }
            ep.wq_.wake_up(0);
        }
        pwake = ep.poll_wait_.active();
    }
    if (pwake) ep.safewake_pollers();
    if ((events & abi::kEPOLLEXCLUSIVE) == 0) ewake = 1;
    return ewake;
}

// Linux's ep_poll_safewake(): tell the eventpolls that watch this one. Depth is bounded by
// the loop check, so the nested callbacks this triggers cannot recurse without end.
// The key is EPOLLIN alone, as Linux's wake_up_poll(&ep->poll_wait, EPOLLIN): an outer item
// watching only RDNORM is not woken.
void EventPoll::safewake_pollers() { poll_wait_.wake_up(abi::kEPOLLIN); }

bool EventPoll::events_available() {
    LockGuard guard(lock_);
    return rdllist_.linked() || ovflist_ != EpItem::kUnactive;
}

// Linux's ep_start_scan(): take the ready list; callbacks go to ovflist until done_scan().
void EventPoll::start_scan(kstd::ListNode& txlist) {
    LockGuard guard(lock_);
    kstd::list_splice_init(&rdllist_, &txlist);
    ovflist_ = nullptr;
}

// Linux's ep_done_scan(). The resulting order is Linux's: items left on txlist (not yet
// delivered), then items that became ready during the scan in arrival order, then the
// level-triggered items re-queued by the scan.
void EventPoll::done_scan(kstd::ListNode& txlist) {
    LockGuard guard(lock_);
    EpItem* next;
    for (EpItem* epi = ovflist_; epi != nullptr; epi = next) {
        next = epi->next;
        epi->next = EpItem::kUnactive;
        // ovflist is LIFO; adding each at the head restores arrival order.
        if (!epi->rdllink.linked()) kstd::list_add(&epi->rdllink, &rdllist_);
    }
    ovflist_ = EpItem::kUnactive;
    kstd::list_splice_init(&txlist, &rdllist_);
    if (rdllist_.linked() && wq_.active()) wq_.wake_up(0);
}

PollMask EventPoll::item_poll(EpItem& epi, PollTable* pt) {
    uint32_t events = epi.events.load(std::memory_order_relaxed);
    pt->key = events;
    return epi.file->poll(pt) & events;
}

// Linux's ep_send_events(): deliver up to maxevents, re-polling each ready item so that only
// current events are reported; level-triggered items go back on the ready list, one-shot ones
// are disarmed.
int EventPoll::send_events(abi::EpollEvent* events, int maxevents) {
    kstd::ListNode txlist;
    PollTable pt;
    int res = 0;
    LockGuard guard(mtx_);
    start_scan(txlist);
    kstd::ListNode* node = txlist.next;
    while (node != &txlist && res < maxevents) {
        kstd::ListNode* next = node->next;
        EpItem& epi = *kstd::container_of(node, &EpItem::rdllink);
        {
            LockGuard rdl(lock_);
            kstd::list_del_init(&epi.rdllink);
        }
        PollMask revents = item_poll(epi, &pt);
        if (revents != 0) {
            if (events == nullptr) {
                // Linux's epoll_put_uevent() failing: the item stays ready.
                LockGuard rdl(lock_);
                kstd::list_add(&epi.rdllink, &txlist);
                if (res == 0) res = -EFAULT;
                break;
            }
            // ep_set_busy_poll_napi_id(): follow where the traffic arrives.
            if (unsigned id = epi.file->napi_id()) napi_id_.store(id, std::memory_order_relaxed);
            abi::EpollEvent out{revents, epi.data};
            std::memcpy(&events[res], &out, sizeof(out));
            ++res;
            uint32_t watched = epi.events.load(std::memory_order_relaxed);
            if ((watched & abi::kEPOLLONESHOT) != 0) {
                epi.events.store(watched & EP_PRIVATE_BITS, std::memory_order_relaxed);
            } else if ((watched & abi::kEPOLLET) == 0) {
                LockGuard rdl(lock_);
                kstd::list_add_tail(&epi.rdllink, &rdllist_);
            }
        }
        node = next;
    }
    done_scan(txlist);
    return res;
}

// Linux's __ep_eventpoll_poll() scan: is any ready item really ready? Idle ones leave the list.
bool EventPoll::has_ready_items() {
    kstd::ListNode txlist;
    PollTable pt;
    bool ready = false;
    start_scan(txlist);
    kstd::ListNode* node = txlist.next;
    while (node != &txlist) {
        kstd::ListNode* next = node->next;
        EpItem& epi = *kstd::container_of(node, &EpItem::rdllink);
        if (item_poll(epi, &pt) != 0) {
            ready = true;
            break;
        }
        LockGuard rdl(lock_);
        kstd::list_del_init(&epi.rdllink);
        node = next;
    }
    done_scan(txlist);
    return ready;
}

namespace {

constexpr int kBusyPollBudget = 8;  // Linux's BUSY_POLL_BUDGET
std::atomic<BusyPollFn> busy_hook{nullptr};
std::atomic<uint64_t> busy_loops{0}, busy_rounds{0}, busy_found{0};

}  // namespace

void set_busy_poll_hook(BusyPollFn fn) { busy_hook.store(fn, std::memory_order_release); }
BusyPollFn busy_poll_hook() { return busy_hook.load(std::memory_order_acquire); }

BusyPollCounters busy_poll_counters() {
    BusyPollCounters c;
    c.loops = busy_loops.load(std::memory_order_relaxed);
    c.rounds = busy_rounds.load(std::memory_order_relaxed);
    c.found = busy_found.load(std::memory_order_relaxed);
    return c;
}

// Linux's ep_busy_loop(): spin the items' NAPI context for up to busy_poll_usecs, or until
// events are ready.
bool EventPoll::busy_loop() {
    uint32_t usecs = busy_poll_usecs_.load(std::memory_order_relaxed);
    unsigned napi_id = napi_id_.load(std::memory_order_relaxed);
    BusyPollFn hook = busy_poll_hook();
    if (usecs == 0 || napi_id == 0 || hook == nullptr) return false;
    int budget = busy_poll_budget_.load(std::memory_order_relaxed);
    if (budget == 0) budget = kBusyPollBudget;
    uint64_t end = platform::monotonic_ns() + uint64_t{usecs} * 1000u;
    busy_loops.fetch_add(1, std::memory_order_relaxed);
    do {
        if (hook(napi_id, budget)) busy_rounds.fetch_add(1, std::memory_order_relaxed);
        if (events_available()) {
            busy_found.fetch_add(1, std::memory_order_relaxed);
            return true;
        }
        platform::cpu_relax();
    } while (platform::monotonic_ns() < end);
    return false;
}

// Linux's ep_poll(). Waiters queue exclusively, so one ready item wakes one thread; a thread
// that leaves items behind wakes the next (done_scan). A signal gives EINTR, as on Linux,
// whatever SA_RESTART says.
kstd::Result<int> EventPoll::wait(abi::EpollEvent* events, int maxevents, int64_t timeout_ns) {
    bool timed_out = timeout_ns == 0;
    uint64_t deadline = 0;
    if (timeout_ns > 0) {
        deadline = platform::monotonic_ns() + static_cast<uint64_t>(timeout_ns);
        if (deadline == 0) deadline = 1;
    }
    bool eavail = events_available();
    bool interrupted = false;
    bool busy_polled = false;
    for (;;) {
        if (eavail) {
            int res = send_events(events, maxevents);
            if (res < 0) return kstd::err(-res);
            if (res > 0) return res;
        }
        if (timed_out) return 0;
        if (interrupted) return kstd::err(EINTR);
        if (!busy_polled) {
            busy_polled = true;
            if (busy_loop()) {
                eavail = true;
                continue;
            }
        }

        Parker parker;
        WaitQueueEntry wait(default_wake_function, &parker);
        wait.flags = WQ_FLAG_AUTOREMOVE;
        {
            LockGuard guard(lock_);
            eavail = rdllist_.linked() || ovflist_ != EpItem::kUnactive;
            if (!eavail) wq_.add_exclusive(wait);
        }
        if (eavail) continue;
        platform::WaitStatus status = parker.park(deadline, /*poll_first=*/true);
        LockGuard guard(lock_);
        // Unlinked means a wake-up chose us: there are events to collect even if the
        // deadline passed at the same moment.
        bool woken = !wait.entry.linked();
        wq_.remove(wait);
        if (status == platform::WaitStatus::timed_out) {
            timed_out = true;
            eavail = woken;
        } else {
            // Like Linux, collect what is there before reporting a signal.
            interrupted = status == platform::WaitStatus::interrupted;
            eavail = true;
        }
    }
}

}  // namespace pollux
