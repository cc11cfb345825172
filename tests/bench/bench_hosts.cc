#include "bench_hosts.h"

#include <arpa/inet.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "drivers/wire.h"
#include "netstack/inet.h"
#include "netstack/netif.h"
#include "netstack/stack.h"

namespace tcpbench {

namespace {

pollux::net::IfaceConfig host_config(int host) {
    pollux::net::IfaceConfig cfg;
    cfg.has_v4 = true;
    cfg.v4_addr = pollux_addr(host, 0).sin_addr.s_addr;
    cfg.v4_netmask = htonl(0xffffff00);
    cfg.make_default = false;
    return cfg;
}

}  // namespace

void setup_pollux_hosts() {
    static std::once_flag once;
    std::call_once(once, [] {
        pollux::net::inet_register();
        pollux::net::stack_init();
        // Clean (the default WireConfig: no faults, no delay, no rate cap); lives as long as the
        // process, since frames the stack holds point into it.
        auto* wire = new pollux::wire::WireLink(pollux::wire::WireConfig{});
        kstd::Result<int> a = pollux::net::stack_add_device(wire->end(0), host_config(1));
        kstd::Result<int> b = pollux::net::stack_add_device(wire->end(1), host_config(2));
        if (!a.ok() || !b.ok()) {
            std::fprintf(stderr, "tcp-bench: the stack refused a wire end\n");
            std::abort();
        }
        pollux::net::stack_pair_wire(a.value(), b.value());
    });
}

sockaddr_in pollux_addr(int host, uint16_t port) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl((10u << 24) | static_cast<uint32_t>(host));
    return sa;
}

}  // namespace tcpbench
