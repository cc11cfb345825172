// EventPoll lifecycle, nesting (poll of an epoll), ioctls and introspection.
// The model and the locking order are in eventpoll/include/eventpoll/event_poll.h.
#include "eventpoll/event_poll.h"

#include <linux/errno.h>

#include <cstring>

#include "eventpoll/printer.h"
#include "kernel/platform.h"

namespace pollux {

EpItem* const EpItem::kUnactive = reinterpret_cast<EpItem*>(~uintptr_t{0});

// The anon inode of an epoll is opened O_RDWR (fs/eventpoll.c: do_epoll_create).
EventPoll::EventPoll() : File(FileKind::eventpoll, FMODE_READ | FMODE_WRITE, abi::kO_RDWR) {}

kstd::Result<FileRef> EventPoll::create(int flags) {
    if ((flags & ~abi::kEPOLL_CLOEXEC) != 0) return kstd::err(EINVAL);
    return FileRef(new EventPoll());
}

// Linux's ep_clear_and_put(): the file is gone, so unhook every item, then drop the file's
// pin on the structure. An item a concurrent eventpoll_release_file() already claimed (dying)
// is left to it; its pin keeps us alive until it is done.
void EventPoll::release() {
    if (poll_wait_.active()) safewake_pollers();
    mtx_.lock();
    for (EpItem* epi = rbr_.first(); epi != nullptr; epi = rbr_.next(*epi)) unregister_pollwait(*epi);
    for (EpItem* epi = rbr_.first(); epi != nullptr;) {
        EpItem* next = rbr_.next(*epi);
        remove(*epi, false);
        epi = next;
    }
    dispose_on_destroy_ = unref();
    mtx_.unlock();
}

void EventPoll::destroy() {
    if (dispose_on_destroy_) delete this;
}

// Linux's ep_eventpoll_poll(): an epoll is readable when one of its ready items really has an
// event; items on the ready list that turn out idle are dropped from it here.
PollMask EventPoll::poll(PollTable* pt) {
    poll_wait(*this, poll_wait_, pt);
    LockGuard guard(mtx_);
    return has_ready_items() ? (abi::kEPOLLIN | abi::kEPOLLRDNORM) : 0;
}

abi::EpollParams EventPoll::busy_poll_params() const {
    abi::EpollParams params{};
    params.busy_poll_usecs = busy_poll_usecs_.load(std::memory_order_relaxed);
    params.busy_poll_budget = busy_poll_budget_.load(std::memory_order_relaxed);
    params.prefer_busy_poll = prefer_busy_poll_.load(std::memory_order_relaxed);
    return params;
}

// Linux's ep_eventpoll_ioctl() (6.9+): validated exactly as there.
kstd::Result<long> EventPoll::ioctl(unsigned long cmd, uintptr_t arg) {
    constexpr uint16_t kNapiPollWeight = 64;
    auto* user = reinterpret_cast<abi::EpollParams*>(arg);
    switch (cmd) {
    case abi::kEPIOCSPARAMS: {
        if (user == nullptr) return kstd::err(EFAULT);
        abi::EpollParams params;
        std::memcpy(&params, user, sizeof(params));
        if (params.pad != 0) return kstd::err(EINVAL);
        if (params.busy_poll_usecs > 0x7fffffffu) return kstd::err(EINVAL);
        if (params.prefer_busy_poll > 1) return kstd::err(EINVAL);
        if (params.busy_poll_budget > kNapiPollWeight && !platform::capable_net_admin()) return kstd::err(EPERM);
        busy_poll_usecs_.store(params.busy_poll_usecs, std::memory_order_relaxed);
        busy_poll_budget_.store(params.busy_poll_budget, std::memory_order_relaxed);
        prefer_busy_poll_.store(params.prefer_busy_poll, std::memory_order_relaxed);
        return 0L;
    }
    case abi::kEPIOCGPARAMS: {
        if (user == nullptr) return kstd::err(EFAULT);
        abi::EpollParams params = busy_poll_params();
        std::memcpy(user, &params, sizeof(params));
        return 0L;
    }
    default:
        return kstd::err(EINVAL);  // ep_eventpoll_ioctl() answers EINVAL, not ENOTTY
    }
}

// The lines of /proc/PID/fdinfo/N for an epoll (ep_show_fdinfo), plus whether each item sits
// on the ready list: the first question when a server seems stuck.
void EventPoll::show_fdinfo(Printer& out) {
    LockGuard guard(mtx_);
    for (EpItem* epi = rbr_.first(); epi != nullptr; epi = rbr_.next(*epi)) {
        bool ready;
        {
            LockGuard rdl(lock_);
            ready = epi->rdllink.linked() || epi->next != EpItem::kUnactive;
        }
        out.print("tfd: %8d events: %8x data: %16llx  pos:%lli ino:%llx sdev:%x ready:%d\n", epi->fd,
                  epi->events.load(std::memory_order_relaxed), static_cast<unsigned long long>(epi->data), 0LL,
                  static_cast<unsigned long long>(epi->file->ino()), 0u, ready ? 1 : 0);
    }
}

// Linux's eventpoll_release_file(): the file's last reference is gone. Each item is claimed
// (dying) under f_lock so a concurrent ep_clear_and_put() leaves it to us; the item's pin on
// its eventpoll keeps that alive while we take its mutex.
void EventPoll::release_file(File& file) {
    for (;;) {
        file.f_lock.lock();
        if (file.f_ep.empty()) {
            file.f_lock.unlock();
            return;
        }
        EpItem* epi = kstd::container_of(file.f_ep.next, &EpItem::fllink);
        epi->dying = true;
        file.f_lock.unlock();
        EventPoll* ep = epi->ep;
        ep->mtx_.lock();
        bool dispose = ep->remove(*epi, true);
        ep->mtx_.unlock();
        if (dispose) delete ep;
    }
}

void eventpoll_release_file(File& file) { EventPoll::release_file(file); }

}  // namespace pollux
