// Hosted shim: the file types Pollux implements (eventfd, timerfd, pipes, AF_UNIX stream
// pairs). The socket calls are in shim_socket.cc.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>

#include "eventpoll/sys.h"
#include "shim.h"

using pollux::shim::host;
using pollux::shim::ours;
using pollux::shim::ret;

static_assert(sizeof(struct itimerspec) == sizeof(pollux::abi::Itimerspec));
static_assert(O_NONBLOCK == pollux::abi::kO_NONBLOCK && O_CLOEXEC == pollux::abi::kO_CLOEXEC);
static_assert(EFD_SEMAPHORE == pollux::abi::kEFD_SEMAPHORE && TFD_TIMER_ABSTIME == pollux::abi::kTFD_TIMER_ABSTIME);
static_assert(MSG_NOSIGNAL == pollux::abi::kMSG_NOSIGNAL && MSG_DONTWAIT == pollux::abi::kMSG_DONTWAIT);

extern "C" {

int eventfd(unsigned int initval, int flags) {
    if (pollux::shim::for_host_library(__builtin_return_address(0))) return static_cast<int>(host(SYS_eventfd2, initval, flags));
    return static_cast<int>(ret(pollux::sys_eventfd2(initval, flags)));
}

// glibc's helpers call its internal read/write, which would miss Pollux descriptors.
int eventfd_read(int fd, eventfd_t* value) { return read(fd, value, sizeof(*value)) == sizeof(*value) ? 0 : -1; }
int eventfd_write(int fd, eventfd_t value) { return write(fd, &value, sizeof(value)) == sizeof(value) ? 0 : -1; }

int timerfd_create(int clockid, int flags) {
    if (pollux::shim::for_host_library(__builtin_return_address(0))) return static_cast<int>(host(SYS_timerfd_create, clockid, flags));
    return static_cast<int>(ret(pollux::sys_timerfd_create(clockid, flags)));
}

int timerfd_settime(int fd, int flags, const struct itimerspec* new_value, struct itimerspec* old_value) {
    if (!ours(fd)) return static_cast<int>(host(SYS_timerfd_settime, fd, flags, new_value, old_value));
    return static_cast<int>(ret(pollux::sys_timerfd_settime(fd, flags,
                                                            reinterpret_cast<const pollux::abi::Itimerspec*>(new_value),
                                                            reinterpret_cast<pollux::abi::Itimerspec*>(old_value))));
}

int timerfd_gettime(int fd, struct itimerspec* curr_value) {
    if (!ours(fd)) return static_cast<int>(host(SYS_timerfd_gettime, fd, curr_value));
    return static_cast<int>(
        ret(pollux::sys_timerfd_gettime(fd, reinterpret_cast<pollux::abi::Itimerspec*>(curr_value))));
}

int pipe(int fds[2]) {
    if (pollux::shim::for_host_library(__builtin_return_address(0))) return static_cast<int>(host(SYS_pipe2, fds, 0));
    return static_cast<int>(ret(pollux::sys_pipe(fds)));
}
int pipe2(int fds[2], int flags) {
    if (pollux::shim::for_host_library(__builtin_return_address(0))) return static_cast<int>(host(SYS_pipe2, fds, flags));
    return static_cast<int>(ret(pollux::sys_pipe2(fds, flags)));
}

int socketpair(int domain, int type, int protocol, int sv[2]) {
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    bool ours = base == SOCK_STREAM || base == SOCK_DGRAM || base == SOCK_RAW || base == SOCK_SEQPACKET;
    if (domain != AF_UNIX || !ours || pollux::shim::for_host_library(__builtin_return_address(0)))
        return static_cast<int>(host(SYS_socketpair, domain, type, protocol, sv));
    return static_cast<int>(ret(pollux::sys_socketpair(domain, type, protocol, sv)));
}

}  // extern "C"
