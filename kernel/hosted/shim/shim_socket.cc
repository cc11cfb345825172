// Hosted shim: the socket calls. AF_INET and AF_INET6 sockets are Pollux's (its lwIP stack on
// the NIC POLLUX_NIC names, or loopback only); AF_UNIX and every other family go to the host,
// as do calls on host descriptors.
#include <stdlib.h>
#include <sys/socket.h>

#include "eventpoll/sys.h"
#include "shim.h"

using pollux::shim::host;
using pollux::shim::ours;
using pollux::shim::ret;

static_assert(sizeof(struct msghdr) == sizeof(pollux::abi::MsgHdr));
static_assert(MSG_WAITALL == pollux::abi::kMSG_WAITALL && MSG_PEEK == pollux::abi::kMSG_PEEK);
static_assert(SO_BUSY_POLL == pollux::abi::kSO_BUSY_POLL && SO_INCOMING_NAPI_ID == pollux::abi::kSO_INCOMING_NAPI_ID);

namespace {

bool pollux_family(int domain) { return domain == AF_INET || domain == AF_INET6; }

}  // namespace

extern "C" {

int socket(int domain, int type, int protocol) {
    if (!pollux_family(domain) || pollux::shim::for_host_library(__builtin_return_address(0)))
        return static_cast<int>(host(SYS_socket, domain, type, protocol));
    return static_cast<int>(ret(pollux::sys_socket(domain, type, protocol)));
}

int bind(int fd, const struct sockaddr* addr, socklen_t len) {
    if (!ours(fd)) return static_cast<int>(host(SYS_bind, fd, addr, len));
    return static_cast<int>(ret(pollux::sys_bind(fd, addr, static_cast<int>(len))));
}

int connect(int fd, const struct sockaddr* addr, socklen_t len) {
    if (!ours(fd)) return static_cast<int>(host(SYS_connect, fd, addr, len));
    return static_cast<int>(ret(pollux::sys_connect(fd, addr, static_cast<int>(len))));
}

int listen(int fd, int backlog) {
    if (!ours(fd)) return static_cast<int>(host(SYS_listen, fd, backlog));
    return static_cast<int>(ret(pollux::sys_listen(fd, backlog)));
}

int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
    if (!ours(fd)) return static_cast<int>(host(SYS_accept4, fd, addr, len, flags));
    return static_cast<int>(ret(pollux::sys_accept4(fd, addr, len, flags)));
}

int accept(int fd, struct sockaddr* addr, socklen_t* len) { return accept4(fd, addr, len, 0); }

int getsockname(int fd, struct sockaddr* addr, socklen_t* len) {
    if (!ours(fd)) return static_cast<int>(host(SYS_getsockname, fd, addr, len));
    return static_cast<int>(ret(pollux::sys_getsockname(fd, addr, len)));
}

int getpeername(int fd, struct sockaddr* addr, socklen_t* len) {
    if (!ours(fd)) return static_cast<int>(host(SYS_getpeername, fd, addr, len));
    return static_cast<int>(ret(pollux::sys_getpeername(fd, addr, len)));
}

int setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
    if (!ours(fd)) return static_cast<int>(host(SYS_setsockopt, fd, level, name, val, len));
    return static_cast<int>(ret(pollux::sys_setsockopt(fd, level, name, val, static_cast<int>(len))));
}

int getsockopt(int fd, int level, int name, void* val, socklen_t* len) {
    if (!ours(fd)) return static_cast<int>(host(SYS_getsockopt, fd, level, name, val, len));
    return static_cast<int>(ret(pollux::sys_getsockopt(fd, level, name, val, len)));
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

ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
    if (!ours(fd)) return host(SYS_sendmsg, fd, msg, flags);
    return ret(pollux::sys_sendmsg(fd, reinterpret_cast<const pollux::abi::MsgHdr*>(msg), flags));
}

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
    if (!ours(fd)) return host(SYS_recvmsg, fd, msg, flags);
    return ret(pollux::sys_recvmsg(fd, reinterpret_cast<pollux::abi::MsgHdr*>(msg), flags));
}

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
