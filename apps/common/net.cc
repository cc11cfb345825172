#include "net.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace apps {

namespace {

int bind_any(int family, int type, uint16_t port) {
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    int zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_storage storage;
    memset(&storage, 0, sizeof storage);
    socklen_t len;
    if (family == AF_INET6) {
        // Dual stack: IPv4 peers arrive as v4-mapped addresses on the same socket.
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
        auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        a->sin6_addr = in6addr_any;
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&storage);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        a->sin_addr.s_addr = htonl(INADDR_ANY);
        len = sizeof *a;
    }
    if (bind(fd, reinterpret_cast<sockaddr*>(&storage), len) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// IPv6 and IPv4 on one socket where the system has IPv6, IPv4 alone where it has not (IPv6
// disabled, or no IPv6 in the stack).
int bound_socket(int type, uint16_t port) {
    int fd = bind_any(AF_INET6, type, port);
    if (fd >= 0 || (errno != EAFNOSUPPORT && errno != EADDRNOTAVAIL && errno != EPROTONOSUPPORT)) return fd;
    return bind_any(AF_INET, type, port);
}

}  // namespace

int listen_tcp(uint16_t port, int backlog) {
    int fd = bound_socket(SOCK_STREAM, port);
    if (fd >= 0 && listen(fd, backlog) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int bind_udp(uint16_t port) { return bound_socket(SOCK_DGRAM, port); }

}  // namespace apps
