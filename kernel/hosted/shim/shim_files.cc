// Hosted shim: the file types Pollux implements (eventfd, timerfd, pipes, AF_UNIX stream
// pairs) and the socket calls on them. Other socket families and types go to the host.
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

int eventfd(unsigned int initval, int flags) { return static_cast<int>(ret(pollux::sys_eventfd2(initval, flags))); }

// glibc's helpers call its internal read/write, which would miss Pollux descriptors.
int eventfd_read(int fd, eventfd_t* value) { return read(fd, value, sizeof(*value)) == sizeof(*value) ? 0 : -1; }
int eventfd_write(int fd, eventfd_t value) { return write(fd, &value, sizeof(value)) == sizeof(value) ? 0 : -1; }

int timerfd_create(int clockid, int flags) { return static_cast<int>(ret(pollux::sys_timerfd_create(clockid, flags))); }

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

int pipe(int fds[2]) { return static_cast<int>(ret(pollux::sys_pipe(fds))); }
int pipe2(int fds[2], int flags) { return static_cast<int>(ret(pollux::sys_pipe2(fds, flags))); }

int socketpair(int domain, int type, int protocol, int sv[2]) {
    int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (domain != AF_UNIX || base != SOCK_STREAM) return static_cast<int>(host(SYS_socketpair, domain, type, protocol, sv));
    return static_cast<int>(ret(pollux::sys_socketpair(domain, type, protocol, sv)));
}

int shutdown(int fd, int how) {
    if (!ours(fd)) return static_cast<int>(host(SYS_shutdown, fd, how));
    return static_cast<int>(ret(pollux::sys_shutdown(fd, how)));
}

ssize_t sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* addr, socklen_t addrlen) {
    if (!ours(fd)) return host(SYS_sendto, fd, buf, len, flags, addr, addrlen);
    return ret(pollux::sys_sendto(fd, buf, len, flags, addr, addrlen));
}

ssize_t send(int fd, const void* buf, size_t len, int flags) { return sendto(fd, buf, len, flags, nullptr, 0); }

ssize_t recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* addr, socklen_t* addrlen) {
    if (!ours(fd)) return host(SYS_recvfrom, fd, buf, len, flags, addr, addrlen);
    return ret(pollux::sys_recvfrom(fd, buf, len, flags, addr, addrlen));
}

ssize_t recv(int fd, void* buf, size_t len, int flags) { return recvfrom(fd, buf, len, flags, nullptr, nullptr); }

ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags) {
    if (len > buflen) abort();
    return recv(fd, buf, len, flags);
}

ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags, struct sockaddr* addr,
                       socklen_t* addrlen) {
    if (len > buflen) abort();
    return recvfrom(fd, buf, len, flags, addr, addrlen);
}

}  // extern "C"
