// epoll_ctl: insert, modify and remove items (Linux's ep_insert, ep_modify, __ep_remove).
// The model and the locking order are in eventpoll/include/eventpoll/event_poll.h.
#include <linux/errno.h>

#include <new>

#include "eventpoll/event_poll.h"
#include "kernel/platform.h"

namespace pollux {

namespace {

// Every watch in the process, against fs.epoll.max_user_watches (Linux counts per user; a
// unikernel has one).
std::atomic<long> epoll_watches{0};

// The queue procedure hands over the item being inserted through the PollTable.
struct EpQueue {
    PollTable pt;
    EpItem* epi;
};

}  // namespace

Mutex epnested_mutex;
uint64_t loop_check_gen = 0;

EpItem* EventPoll::find(File* file, int fd) { return rbr_.find(ItemKey{file, fd}); }

// Linux's ep_ptable_queue_proc(): hook the item on one of the target's wait queues.
// EPOLLEXCLUSIVE items queue exclusively, so one event on the target wakes one of them.
void EventPoll::ptable_queue_proc(File&, WaitQueueHead& whead, PollTable& pt) {
    EpQueue& epq = *reinterpret_cast<EpQueue*>(&pt);
    EpItem* epi = epq.epi;
    if (epi == nullptr) return;
    if (epi->nwait < 0 || epi->nwait >= EpItem::kMaxPollQueues) {
        epi->nwait = -1;  // reported as ENOMEM, as a failed allocation is in Linux
        return;
    }
    EppollEntry& pwq = epi->pwq[epi->nwait++];
    pwq.wait.func = &EventPoll::poll_callback;
    pwq.wait.private_data = &pwq;
    pwq.wait.flags = 0;
    pwq.whead = &whead;
    pwq.base = epi;
    if ((epi->events.load(std::memory_order_relaxed) & abi::kEPOLLEXCLUSIVE) != 0) {
        whead.add_exclusive(pwq.wait);
    } else {
        whead.add(pwq.wait);
    }
}

void EventPoll::unregister_pollwait(EpItem& epi) {
    int n = epi.nwait < 0 ? EpItem::kMaxPollQueues : epi.nwait;
    for (int i = 0; i < n; ++i) {
        EppollEntry& pwq = epi.pwq[i];
        if (pwq.whead == nullptr) continue;
        pwq.whead->remove(pwq.wait);
        pwq.whead = nullptr;
    }
    epi.nwait = 0;
}

kstd::Result<void> EventPoll::insert(const abi::EpollEvent& event, File& target, int fd, bool full_check) {
    if (epoll_watches.load(std::memory_order_relaxed) >= platform::max_user_watches()) return kstd::err(ENOSPC);
    auto* epi = new (std::nothrow) EpItem();
    if (epi == nullptr) return kstd::err(ENOMEM);
    epoll_watches.fetch_add(1, std::memory_order_relaxed);
    epi->ep = this;
    epi->file = &target;
    epi->fd = fd;
    epi->events.store(event.events, std::memory_order_relaxed);
    epi->data = event.data;
    if (unsigned id = target.napi_id()) napi_id_.store(id, std::memory_order_relaxed);
    ref();

    {
        LockGuard guard(target.f_lock);
        kstd::list_add_tail(&epi->fllink, &target.f_ep);
    }
    bool inserted = rbr_.insert(*epi);
    (void)inserted;  // the caller looked the key up under mtx_
    if (full_check && !ep_reverse_path_check(target)) {
        remove(*epi, false);
        return kstd::err(EINVAL);
    }

    EpQueue epq;
    epq.pt.qproc = &EventPoll::ptable_queue_proc;
    epq.pt.key = event.events;
    epq.epi = epi;
    PollMask revents = target.poll(&epq.pt) & event.events;
    if (epi->nwait < 0) {
        remove(*epi, false);
        return kstd::err(ENOMEM);
    }

    bool pwake = false;
    if (revents != 0) {
        LockGuard guard(lock_);
        if (!epi->rdllink.linked()) {
            kstd::list_add_tail(&epi->rdllink, &rdllist_);
            if (wq_.active()) wq_.wake_up(0);
            pwake = poll_wait_.active();
        }
    }
    if (pwake) safewake_pollers();
    return {};
}

// Linux's ep_modify(): new events and data, then re-poll; a ready item goes (back) on the
// ready list, which is also how MOD re-arms an EPOLLONESHOT item.
kstd::Result<void> EventPoll::modify(EpItem& epi, const abi::EpollEvent& event) {
    epi.events.store(event.events, std::memory_order_seq_cst);
    epi.data = event.data;
    // The seq_cst store above orders the new mask before the re-poll, pairing with the
    // callback's read (Linux's smp_mb() here): either it sees the new mask or we see its event.
    PollTable pt;
    bool pwake = false;
    if (item_poll(epi, &pt) != 0) {
        LockGuard guard(lock_);
        if (!epi.rdllink.linked()) {
            kstd::list_add_tail(&epi.rdllink, &rdllist_);
            if (wq_.active()) wq_.wake_up(0);
            pwake = poll_wait_.active();
        }
    }
    if (pwake) safewake_pollers();
    return {};
}

// Linux's __ep_remove(). Returns true when this dropped the eventpoll's last pin; the caller
// frees it after unlocking mtx_.
bool EventPoll::remove(EpItem& epi, bool force) {
    File& file = *epi.file;
    unregister_pollwait(epi);
    {
        LockGuard guard(file.f_lock);
        if (epi.dying && !force) return false;
        kstd::list_del_init(&epi.fllink);
    }
    rbr_.erase(epi);
    {
        LockGuard guard(lock_);
        if (epi.rdllink.linked()) kstd::list_del_init(&epi.rdllink);
    }
    delete &epi;
    epoll_watches.fetch_sub(1, std::memory_order_relaxed);
    return unref();
}

// Linux's do_epoll_ctl() from the point where both files are known.
// Conditional locking of epnested_mutex is beyond the static analysis.
kstd::Result<void> EventPoll::ctl(int op, int fd, File& target, const abi::EpollEvent* event)
    NO_THREAD_SAFETY_ANALYSIS {
    bool has_event = op != abi::kEPOLL_CTL_DEL;
    abi::EpollEvent ev{};
    if (has_event) ev = *event;
    if (!target.can_poll()) return kstd::err(EPERM);
    if (&target == this) return kstd::err(EINVAL);
    EventPoll* target_ep = as_eventpoll(target);
    if (has_event && (ev.events & abi::kEPOLLEXCLUSIVE) != 0) {
        if (op == abi::kEPOLL_CTL_MOD) return kstd::err(EINVAL);
        if (op == abi::kEPOLL_CTL_ADD && (target_ep != nullptr || (ev.events & ~EPOLLEXCLUSIVE_OK_BITS) != 0))
            return kstd::err(EINVAL);
    }

    // Adding into an epoll that is itself watched, or adding an epoll, may create a loop or
    // a chain that is too deep: check under epnested_mutex (Linux's "full_check").
    bool full_check = false;
    bool nested_locked = false;
    if (op == abi::kEPOLL_CTL_ADD) {
        bool watched;
        {
            LockGuard guard(f_lock);
            watched = !f_ep.empty();
        }
        if (watched || target_ep != nullptr) {
            epnested_mutex.lock();
            nested_locked = true;
            full_check = true;
            ++loop_check_gen;
            if (target_ep != nullptr && !ep_loop_check(*this, *target_ep)) {
                epnested_mutex.unlock();
                return kstd::err(ELOOP);
            }
        }
    }

    kstd::Result<void> result = kstd::err(EINVAL);
    mtx_.lock();
    EpItem* epi = find(&target, fd);
    switch (op) {
    case abi::kEPOLL_CTL_ADD:
        if (epi == nullptr) {
            ev.events |= abi::kEPOLLERR | abi::kEPOLLHUP;
            result = insert(ev, target, fd, full_check);
        } else {
            result = kstd::err(EEXIST);
        }
        break;
    case abi::kEPOLL_CTL_DEL:
        if (epi != nullptr) {
            // We hold a reference on the epoll file, so this cannot drop the last pin.
            remove(*epi, false);
            result = {};
        } else {
            result = kstd::err(ENOENT);
        }
        break;
    case abi::kEPOLL_CTL_MOD:
        if (epi != nullptr) {
            if ((epi->events.load(std::memory_order_relaxed) & abi::kEPOLLEXCLUSIVE) == 0) {
                ev.events |= abi::kEPOLLERR | abi::kEPOLLHUP;
                result = modify(*epi, ev);
            }
        } else {
            result = kstd::err(ENOENT);
        }
        break;
    default:
        break;
    }
    mtx_.unlock();
    if (nested_locked) epnested_mutex.unlock();
    return result;
}

}  // namespace pollux
