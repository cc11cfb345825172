// Hosted shim: epoll, plus the introspection entry point pollux_epoll_fdinfo().
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>

#include "eventpoll/sys.h"
#include "shim.h"

using pollux::shim::host;
using pollux::shim::ours;
using pollux::shim::ret;

static_assert(sizeof(struct epoll_event) == sizeof(pollux::abi::EpollEvent));
static_assert(EPOLLIN == pollux::abi::kEPOLLIN && EPOLLET == pollux::abi::kEPOLLET);
static_assert(EPOLLEXCLUSIVE == pollux::abi::kEPOLLEXCLUSIVE && EPOLLRDHUP == pollux::abi::kEPOLLRDHUP);
static_assert(EPOLL_CLOEXEC == pollux::abi::kEPOLL_CLOEXEC);

namespace {
auto* events_of(struct epoll_event* e) { return reinterpret_cast<pollux::abi::EpollEvent*>(e); }
const auto* sigmask_of(const sigset_t* s) { return reinterpret_cast<const pollux::KernelSigset*>(s); }
}  // namespace

extern "C" {

int epoll_create(int size) {
    if (pollux::shim::for_host_library(__builtin_return_address(0))) return static_cast<int>(host(SYS_epoll_create, size));
    return static_cast<int>(ret(pollux::sys_epoll_create(size)));
}
int epoll_create1(int flags) {
    if (pollux::shim::for_host_library(__builtin_return_address(0))) return static_cast<int>(host(SYS_epoll_create1, flags));
    return static_cast<int>(ret(pollux::sys_epoll_create1(flags)));
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
    if (!ours(epfd) && !ours(fd)) return static_cast<int>(host(SYS_epoll_ctl, epfd, op, fd, event));
    if (ours(epfd) && !ours(fd) && fd >= 0 && host(SYS_fcntl, fd, F_GETFD) >= 0) {
        // A host descriptor cannot wake a Pollux eventpoll: refuse it the way Linux refuses
        // a descriptor it cannot poll, and say so once.
        pollux::shim::warn_once("epoll_ctl: host descriptors cannot join a Pollux epoll (EPERM)");
        errno = EPERM;
        return -1;
    }
    return static_cast<int>(
        ret(pollux::sys_epoll_ctl(epfd, op, fd, reinterpret_cast<const pollux::abi::EpollEvent*>(event))));
}

int epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) {
    if (!ours(epfd)) return static_cast<int>(host(SYS_epoll_wait, epfd, events, maxevents, timeout));
    return static_cast<int>(ret(pollux::sys_epoll_wait(epfd, events_of(events), maxevents, timeout)));
}

int epoll_pwait(int epfd, struct epoll_event* events, int maxevents, int timeout, const sigset_t* sigmask) {
    if (!ours(epfd)) return static_cast<int>(host(SYS_epoll_pwait, epfd, events, maxevents, timeout, sigmask, 8));
    return static_cast<int>(ret(pollux::sys_epoll_pwait(epfd, events_of(events), maxevents, timeout,
                                                        sigmask_of(sigmask), sizeof(pollux::KernelSigset))));
}

int epoll_pwait2(int epfd, struct epoll_event* events, int maxevents, const struct timespec* timeout,
                 const sigset_t* sigmask) {
    if (!ours(epfd)) return static_cast<int>(host(SYS_epoll_pwait2, epfd, events, maxevents, timeout, sigmask, 8));
    return static_cast<int>(ret(pollux::sys_epoll_pwait2(epfd, events_of(events), maxevents,
                                                         reinterpret_cast<const pollux::abi::Timespec*>(timeout),
                                                         sigmask_of(sigmask), sizeof(pollux::KernelSigset))));
}

// Writes eventpoll epfd's interest list in /proc/PID/fdinfo format, one line per item with
// a trailing ready:0/1; returns the length, or -1 with errno.
long pollux_epoll_fdinfo(int epfd, char* buf, size_t size) { return ret(pollux::pollux_epoll_fdinfo(epfd, buf, size)); }

}  // extern "C"
