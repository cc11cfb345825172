#include "two_hosts.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <mutex>

#include "drivers/wire.h"
#include "eventpoll/sys.h"
#include "netstack/inet.h"
#include "netstack/netif.h"
#include "netstack/stack.h"

namespace nettest {

namespace {

pollux::wire::WireLink* links[kLinks];  // live for the whole process, frames in flight included

}  // namespace

void setup_hosts() {
    static std::once_flag once;
    std::call_once(once, [] {
        pollux::net::inet_register();
        pollux::net::stack_init();
        for (int link = 0; link < kLinks; ++link) {
            pollux::wire::WireConfig cfg;
            cfg.seed = 42 + static_cast<uint64_t>(link);
            if (link == 1) cfg.loss = cfg.reorder = cfg.duplicate = 0.05;
            auto* wire = links[link] = new pollux::wire::WireLink(cfg);
            ASSERT_TRUE(pollux::net::stack_add_wire_hosts(wire->end(0), wire->end(1), link, false).ok());
        }
    });
}

sockaddr_in addr4(int link, int host, uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    std::string s = "10.0." + std::to_string(link) + "." + std::to_string(host);
    inet_pton(AF_INET, s.c_str(), &sa.sin_addr);
    return sa;
}

sockaddr_in6 addr6(int link, int host, uint16_t port) {
    sockaddr_in6 sa{};
    sa.sin6_family = AF_INET6;
    sa.sin6_port = htons(port);
    std::string s = "fd00:" + std::to_string(link) + "::" + std::to_string(host);
    inet_pton(AF_INET6, s.c_str(), &sa.sin6_addr);
    return sa;
}

int tcp_listener(const sockaddr* addr, socklen_t len, int backlog, uint16_t* port) {
    int fd = static_cast<int>(pollux::sys_socket(addr->sa_family, SOCK_STREAM, 0));
    EXPECT_GE(fd, 0);
    if (fd < 0) return -1;
    EXPECT_EQ(pollux::sys_bind(fd, addr, static_cast<int>(len)), 0);
    EXPECT_EQ(pollux::sys_listen(fd, backlog), 0);
    if (port != nullptr) *port = port_of(fd);
    return fd;
}

int tcp_connect(const sockaddr* addr, socklen_t len) {
    int fd = static_cast<int>(pollux::sys_socket(addr->sa_family, SOCK_STREAM, 0));
    EXPECT_GE(fd, 0);
    if (fd < 0) return -1;
    long r = pollux::sys_connect(fd, addr, static_cast<int>(len));
    EXPECT_EQ(r, 0) << "connect: " << strerror(static_cast<int>(-r));
    return fd;
}

uint16_t port_of(int fd) {
    sockaddr_storage ss{};
    unsigned len = sizeof(ss);
    EXPECT_EQ(pollux::sys_getsockname(fd, &ss, &len), 0);
    return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

}  // namespace nettest
