// Hosted shim: poll, ppoll, select, pselect.
//
// Sets of only host descriptors go to the host, sets of only Pollux descriptors to Pollux. A
// set that mixes both is polled in rounds: Pollux's part and the host's part without waiting,
// then a sleep on Pollux's queues of at most 1 ms before the next round, so host readiness is
// seen within about a millisecond. (A host fd cannot wake a Pollux sleeper; see the README.)
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/select.h>
#include <time.h>

#include <vector>

#include "eventpoll/sys.h"
#include "kernel/platform.h"
#include "shim.h"

using pollux::shim::host;
using pollux::shim::ours;
using pollux::shim::ret;

static_assert(sizeof(struct pollfd) == sizeof(pollux::PollFd));

namespace {

enum class Mix { none, host_only, ours_only, mixed };

Mix classify(const struct pollfd* fds, nfds_t nfds) {
    bool h = false, p = false;
    for (nfds_t i = 0; i < nfds; ++i) {
        if (fds[i].fd < 0) continue;
        if (ours(fds[i].fd)) {
            p = true;
        } else {
            h = true;
        }
    }
    if (h && p) return Mix::mixed;
    if (p) return Mix::ours_only;
    return h ? Mix::host_only : Mix::none;
}

// timeout_ns < 0: forever.
int mixed_poll(struct pollfd* fds, nfds_t nfds, int64_t timeout_ns) {
    std::vector<struct pollfd> mine, theirs;
    std::vector<nfds_t> mine_at, theirs_at;
    for (nfds_t i = 0; i < nfds; ++i) {
        fds[i].revents = 0;
        if (fds[i].fd < 0) continue;
        if (ours(fds[i].fd)) {
            mine.push_back(fds[i]);
            mine_at.push_back(i);
        } else {
            theirs.push_back(fds[i]);
            theirs_at.push_back(i);
        }
    }
    uint64_t deadline = timeout_ns < 0 ? 0 : pollux::platform::monotonic_ns() + static_cast<uint64_t>(timeout_ns);
    for (;;) {
        long a = pollux::sys_poll(reinterpret_cast<pollux::PollFd*>(mine.data()), mine.size(), 0);
        if (a < 0) return static_cast<int>(ret(a));
        long b = host(SYS_poll, theirs.data(), theirs.size(), 0);
        if (b < 0) return -1;
        if (a + b > 0 || (deadline != 0 && pollux::platform::monotonic_ns() >= deadline) || timeout_ns == 0) {
            for (size_t i = 0; i < mine.size(); ++i) fds[mine_at[i]].revents = mine[i].revents;
            for (size_t i = 0; i < theirs.size(); ++i) fds[theirs_at[i]].revents = theirs[i].revents;
            return static_cast<int>(a + b);
        }
        int64_t slice = 1000000;
        if (deadline != 0) {
            int64_t left = static_cast<int64_t>(deadline - pollux::platform::monotonic_ns());
            if (left < slice) slice = left > 0 ? left : 0;
        }
        pollux::abi::Timespec ts{0, slice};
        long w = pollux::sys_ppoll(reinterpret_cast<pollux::PollFd*>(mine.data()), mine.size(), &ts, nullptr, 0);
        if (w == -EINTR) {
            errno = EINTR;
            return -1;
        }
    }
}

int64_t ns_of(const struct timespec* ts) {
    return ts == nullptr ? -1 : static_cast<int64_t>(ts->tv_sec) * 1000000000 + ts->tv_nsec;
}

}  // namespace

extern "C" {

int poll(struct pollfd* fds, nfds_t nfds, int timeout) {
    // do_sys_poll() refuses nfds above RLIMIT_NOFILE before reading the array.
    if (nfds > static_cast<nfds_t>(pollux::platform::fd_limit())) return static_cast<int>(host(SYS_poll, fds, nfds, timeout));
    switch (classify(fds, nfds)) {
    case Mix::none:
    case Mix::host_only:
        return static_cast<int>(host(SYS_poll, fds, nfds, timeout));
    case Mix::ours_only:
        return static_cast<int>(ret(pollux::sys_poll(reinterpret_cast<pollux::PollFd*>(fds), nfds, timeout)));
    case Mix::mixed:
        return mixed_poll(fds, nfds, timeout < 0 ? -1 : static_cast<int64_t>(timeout) * 1000000);
    }
    return -1;
}

int __poll_chk(struct pollfd* fds, nfds_t nfds, int timeout, size_t fdslen) {
    if (fdslen / sizeof(*fds) < nfds) abort();
    return poll(fds, nfds, timeout);
}

int ppoll(struct pollfd* fds, nfds_t nfds, const struct timespec* timeout, const sigset_t* sigmask) {
    if (nfds > static_cast<nfds_t>(pollux::platform::fd_limit()))
        return static_cast<int>(host(SYS_ppoll, fds, nfds, timeout, sigmask, 8));
    switch (classify(fds, nfds)) {
    case Mix::none:
    case Mix::host_only:
        return static_cast<int>(host(SYS_ppoll, fds, nfds, timeout, sigmask, 8));
    case Mix::ours_only:
        return static_cast<int>(ret(pollux::sys_ppoll(reinterpret_cast<pollux::PollFd*>(fds), nfds,
                                                      reinterpret_cast<const pollux::abi::Timespec*>(timeout),
                                                      reinterpret_cast<const pollux::KernelSigset*>(sigmask), 8)));
    case Mix::mixed: {
        sigset_t old;
        if (sigmask != nullptr) pthread_sigmask(SIG_SETMASK, sigmask, &old);
        int r = mixed_poll(fds, nfds, ns_of(timeout));
        int saved = errno;
        if (sigmask != nullptr) pthread_sigmask(SIG_SETMASK, &old, nullptr);
        errno = saved;
        return r;
    }
    }
    return -1;
}

int __ppoll_chk(struct pollfd* fds, nfds_t nfds, const struct timespec* timeout, const sigset_t* sigmask,
                size_t fdslen) {
    if (fdslen / sizeof(*fds) < nfds) abort();
    return ppoll(fds, nfds, timeout, sigmask);
}

// select() over mixed sets becomes a poll() over the same descriptors.
static int select_common(int nfds, fd_set* in, fd_set* out, fd_set* ex, int64_t timeout_ns, bool* handled) {
    bool h = false, p = false;
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; ++fd) {
        bool any = (in && FD_ISSET(fd, in)) || (out && FD_ISSET(fd, out)) || (ex && FD_ISSET(fd, ex));
        if (!any) continue;
        if (ours(fd)) {
            p = true;
        } else {
            h = true;
        }
    }
    *handled = h && p;
    if (!*handled) return 0;
    std::vector<struct pollfd> fds;
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; ++fd) {
        short ev = 0;
        if (in && FD_ISSET(fd, in)) ev |= POLLIN;
        if (out && FD_ISSET(fd, out)) ev |= POLLOUT;
        if (ex && FD_ISSET(fd, ex)) ev |= POLLPRI;
        if (ev != 0) fds.push_back({fd, ev, 0});
    }
    int r = mixed_poll(fds.data(), fds.size(), timeout_ns);
    if (r < 0) return r;
    int count = 0;
    if (in) FD_ZERO(in);
    if (out) FD_ZERO(out);
    if (ex) FD_ZERO(ex);
    for (const struct pollfd& f : fds) {
        if (f.revents & POLLNVAL) {
            errno = EBADF;
            return -1;
        }
        if (in && (f.events & POLLIN) && (f.revents & (POLLIN | POLLHUP | POLLERR))) {
            FD_SET(f.fd, in);
            ++count;
        }
        if (out && (f.events & POLLOUT) && (f.revents & (POLLOUT | POLLERR))) {
            FD_SET(f.fd, out);
            ++count;
        }
        if (ex && (f.events & POLLPRI) && (f.revents & POLLPRI)) {
            FD_SET(f.fd, ex);
            ++count;
        }
    }
    return count;
}

int select(int nfds, fd_set* in, fd_set* out, fd_set* ex, struct timeval* timeout) {
    int64_t timeout_ns = timeout == nullptr ? -1 : static_cast<int64_t>(timeout->tv_sec) * 1000000000 + timeout->tv_usec * 1000;
    bool mixed = false;
    int r = select_common(nfds, in, out, ex, timeout_ns, &mixed);
    if (mixed) return r;
    bool any_ours = false;
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; ++fd) {
        if (((in && FD_ISSET(fd, in)) || (out && FD_ISSET(fd, out)) || (ex && FD_ISSET(fd, ex))) && ours(fd)) any_ours = true;
    }
    if (!any_ours) return static_cast<int>(host(SYS_select, nfds, in, out, ex, timeout));
    return static_cast<int>(ret(pollux::sys_select(nfds, reinterpret_cast<unsigned long*>(in),
                                                   reinterpret_cast<unsigned long*>(out),
                                                   reinterpret_cast<unsigned long*>(ex),
                                                   reinterpret_cast<pollux::Timeval*>(timeout))));
}

int pselect(int nfds, fd_set* in, fd_set* out, fd_set* ex, const struct timespec* timeout, const sigset_t* sigmask) {
    bool any_ours = false;
    for (int fd = 0; fd < nfds && fd < FD_SETSIZE; ++fd) {
        if (((in && FD_ISSET(fd, in)) || (out && FD_ISSET(fd, out)) || (ex && FD_ISSET(fd, ex))) && ours(fd)) any_ours = true;
    }
    if (!any_ours) {
        struct {
            const sigset_t* mask;
            size_t size;
        } data = {sigmask, 8};
        struct timespec copy;
        struct timespec* tp = nullptr;
        if (timeout != nullptr) {
            copy = *timeout;  // pselect must not change the caller's timeout; the syscall does
            tp = &copy;
        }
        return static_cast<int>(host(SYS_pselect6, nfds, in, out, ex, tp, &data));
    }
    pollux::abi::Timespec copy{};
    pollux::abi::Timespec* tp = nullptr;
    if (timeout != nullptr) {
        copy = {timeout->tv_sec, timeout->tv_nsec};
        tp = &copy;
    }
    return static_cast<int>(ret(pollux::sys_pselect6(nfds, reinterpret_cast<unsigned long*>(in),
                                                     reinterpret_cast<unsigned long*>(out),
                                                     reinterpret_cast<unsigned long*>(ex), tp,
                                                     reinterpret_cast<const pollux::KernelSigset*>(sigmask), 8)));
}

}  // extern "C"
