#include "bench_hosts.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "drivers/wire.h"
#include "netstack/inet.h"
#include "netstack/netif.h"
#include "netstack/stack.h"
#include "netstack/tcp_index.h"

namespace tcpbench {


void setup_pollux_hosts() {
    static std::once_flag once;
    std::call_once(once, [] {
        pollux::net::inet_register();
        pollux::net::stack_init();
        // Clean (the default WireConfig: no faults, no delay, no rate cap); lives as long as the
        // process, since frames the stack holds point into it.
        auto* wire = new pollux::wire::WireLink(pollux::wire::WireConfig{});
        if (!pollux::net::stack_add_wire_hosts(wire->end(0), wire->end(1), 0, false).ok()) {
            std::fprintf(stderr, "tcp-bench: the stack refused a wire end\n");
            std::abort();
        }
    });
}

sockaddr_in pollux_addr(int host, uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl((10u << 24) | static_cast<uint32_t>(host));
    return sa;
}

size_t pollux_timer_armed() {
    pollux::net::StackGuard guard;
    return pollux::net::tcp_index_stats().timer_armed;
}

}  // namespace tcpbench
