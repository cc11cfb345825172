// The epoll system calls, checked in the order Linux checks them (fs/eventpoll.c:
// do_epoll_create, do_epoll_ctl, do_epoll_wait, epoll_pwait/pwait2).
#include <linux/errno.h>

#include "eventpoll/event_poll.h"
#include "eventpoll/fd_table.h"
#include "eventpoll/printer.h"
#include "eventpoll/scoped_sigmask.h"
#include "eventpoll/sys.h"
#include "kernel/platform.h"

namespace pollux {

namespace {

long to_long(const kstd::Result<void>& r) { return r.ok() ? 0 : -r.error_code(); }


long do_epoll_wait(int epfd, abi::EpollEvent* events, int maxevents, int64_t timeout_ns) {
    // Linux 6.x looks the descriptor up first (fdget in the syscall), then maxevents.
    FileRef file = FdTable::instance().get(epfd);
    if (!file) return -EBADF;
    if (maxevents <= 0 || maxevents > EP_MAX_EVENTS) return -EINVAL;
    EventPoll* ep = as_eventpoll(*file);
    if (ep == nullptr) return -EINVAL;
    kstd::Result<int> r = ep->wait(events, maxevents, timeout_ns);
    return r.ok() ? r.value() : -r.error_code();
}

// ep_poll() with a signal already pending: events that are there win, else EINTR.
long interrupted_wait(int epfd, abi::EpollEvent* events, int maxevents) {
    long r = do_epoll_wait(epfd, events, maxevents, 0);
    return r == 0 ? -EINTR : r;
}

int64_t ms_to_ns(int timeout_ms) { return timeout_ms < 0 ? -1 : static_cast<int64_t>(timeout_ms) * 1000000; }

}  // namespace

long sys_epoll_create1(int flags) {
    kstd::Result<FileRef> ep = EventPoll::create(flags);
    if (!ep.ok()) return -ep.error_code();
    kstd::Result<int> fd = FdTable::instance().install(ep.release_value(), (flags & abi::kEPOLL_CLOEXEC) != 0);
    return fd.ok() ? fd.value() : -fd.error_code();
}

long sys_epoll_create(int size) {
    if (size <= 0) return -EINVAL;
    return sys_epoll_create1(0);
}

long sys_epoll_ctl(int epfd, int op, int fd, const abi::EpollEvent* event) {
    // Linux copies the event before looking at anything else, for every op but DEL.
    if (op != abi::kEPOLL_CTL_DEL && event == nullptr) return -EFAULT;
    FileRef file = FdTable::instance().get(epfd);
    if (!file) return -EBADF;
    FileRef target = FdTable::instance().get(fd);
    if (!target) return -EBADF;
    if (!target->can_poll()) return -EPERM;
    EventPoll* ep = as_eventpoll(*file);
    if (ep == nullptr || file.get() == target.get()) return -EINVAL;
    return to_long(ep->ctl(op, fd, *target, event));
}

long sys_epoll_wait(int epfd, abi::EpollEvent* events, int maxevents, int timeout_ms) {
    return do_epoll_wait(epfd, events, maxevents, ms_to_ns(timeout_ms));
}

long sys_epoll_pwait(int epfd, abi::EpollEvent* events, int maxevents, int timeout_ms,
                     const KernelSigset* sigmask, size_t sigsetsize) {
    if (sigmask != nullptr && sigsetsize != sizeof(KernelSigset)) return -EINVAL;
    ScopedSigmask mask(sigmask);
    if (mask.delivered()) return interrupted_wait(epfd, events, maxevents);
    return do_epoll_wait(epfd, events, maxevents, ms_to_ns(timeout_ms));
}

long sys_epoll_pwait2(int epfd, abi::EpollEvent* events, int maxevents, const abi::Timespec* timeout,
                      const KernelSigset* sigmask, size_t sigsetsize) {
    int64_t timeout_ns = -1;
    if (timeout != nullptr) {
        if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000) return -EINVAL;
        constexpr int64_t kMaxSec = 0x7fffffffffffffffLL / 1000000000 - 1;
        timeout_ns = timeout->tv_sec > kMaxSec ? -1 : timeout->tv_sec * 1000000000 + timeout->tv_nsec;
    }
    if (sigmask != nullptr && sigsetsize != sizeof(KernelSigset)) return -EINVAL;
    ScopedSigmask mask(sigmask);
    if (mask.delivered()) return interrupted_wait(epfd, events, maxevents);
    return do_epoll_wait(epfd, events, maxevents, timeout_ns);
}

long pollux_epoll_fdinfo(int epfd, char* buf, size_t size) {
    FileRef file = FdTable::instance().get(epfd);
    if (!file) return -EBADF;
    EventPoll* ep = as_eventpoll(*file);
    if (ep == nullptr) return -EINVAL;
    if (buf == nullptr && size > 0) return -EFAULT;
    Printer out(buf, size);
    ep->show_fdinfo(out);
    return static_cast<long>(out.truncated() ? (size > 0 ? size - 1 : 0) : out.length());
}

}  // namespace pollux
