// The hosted runtime's network: the NIC and addresses the environment names.
//
//   POLLUX_NIC=tap:NAME        a Linux TAP device (created if missing)
//   POLLUX_NIC=dpdk:EAL-ARGS   the first port DPDK finds with these EAL arguments (space-
//                              separated), e.g. "dpdk:--no-pci --in-memory --no-huge -m 256
//                              --vdev=net_af_packet0,iface=veth1"
//   POLLUX_NIC=wire[:SPEC]     two hosts joined by an in-memory wire (tests): 10.0.0.1/24 and
//                              fd00::1/64 on one end, 10.0.0.2/24 and fd00::2/64 on the other;
//                              SPEC is the wire's fault model ("loss=0.05,seed=7", see wire.h)
//   POLLUX_IP=ADDR/PREFIX[,ADDR/PREFIX]   IPv4 and/or IPv6 addresses (tap; none: DHCP)
//   POLLUX_GW=ADDR[,ADDR]      default gateways
//   POLLUX_POLL_US=N           waits poll N microseconds before they sleep (unset: a figure that
//                              adapts per thread; 0: never; platform_linux.cc)
// Without POLLUX_NIC, AF_INET/AF_INET6 sockets have loopback only. The values are checked when
// the library loads: anything unknown or malformed stops the program with a message saying which
// value is wrong. The device comes up with the stack, at the first socket.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "drivers/dpdk.h"
#include "kernel/platform.h"
#include "drivers/tap.h"
#include "drivers/wire.h"
#include "netstack/inet.h"
#include "netstack/netif.h"
#include "netstack/stack.h"
#include "shim/shim.h"

namespace {

enum class NicKind { none, tap, dpdk, wire };

struct NetEnv {
    NicKind kind = NicKind::none;
    char tap_name[32] = {};
    char dpdk_args[1024] = {};
    pollux::wire::WireConfig wire;
    pollux::net::IfaceConfig iface;
};

// constinit: the load-time constructor below must not run before a dynamic initialiser of this.
constinit NetEnv env;

[[noreturn]] void die(const char* what, const char* value, const char* why) {
    fprintf(stderr, "pollux: %s=%s: %s\n", what, value, why);
    fprintf(stderr, "pollux: expected POLLUX_NIC=tap:NAME, dpdk:EAL-ARGS or wire[:SPEC], "
                    "POLLUX_IP=ADDR/PREFIX[,...], POLLUX_GW=ADDR[,...]\n");
    _exit(2);
}

// Calls fn on each comma-separated item of value.
template <typename Fn>
void each_item(const char* value, Fn fn) {
    char buf[256];
    size_t len = strlen(value);
    if (len >= sizeof(buf)) len = sizeof(buf) - 1;
    memcpy(buf, value, len);
    buf[len] = '\0';
    char* save = nullptr;
    for (char* item = strtok_r(buf, ",", &save); item != nullptr; item = strtok_r(nullptr, ",", &save)) fn(item);
}

void parse_env() {
    const char* nic = getenv("POLLUX_NIC");
    const char* ip = getenv("POLLUX_IP");
    const char* gw = getenv("POLLUX_GW");
    if (nic == nullptr || *nic == '\0') {
        if (ip != nullptr) die("POLLUX_IP", ip, "needs POLLUX_NIC");
        if (gw != nullptr) die("POLLUX_GW", gw, "needs POLLUX_NIC");
        return;
    }
    bool tap = strncmp(nic, "tap:", 4) == 0;
    if (tap || strncmp(nic, "dpdk:", 5) == 0) {
        if (tap) {
            const char* name = nic + 4;
            if (*name == '\0' || strlen(name) >= 16) die("POLLUX_NIC", nic, "a TAP name of 1 to 15 characters");
            env.kind = NicKind::tap;
            memcpy(env.tap_name, name, strlen(name) + 1);
        } else {
            const char* args = nic + 5;
            if (strspn(args, " \t") == strlen(args)) die("POLLUX_NIC", nic, "DPDK EAL arguments after dpdk:");
            if (strlen(args) >= sizeof(env.dpdk_args)) die("POLLUX_NIC", nic, "EAL arguments too long");
            env.kind = NicKind::dpdk;
            memcpy(env.dpdk_args, args, strlen(args) + 1);
        }
        env.iface.dhcp = true;
        if (ip != nullptr) {
            if (*ip == '\0') die("POLLUX_IP", ip, "empty");
            each_item(ip, [&](const char* item) {
                if (!pollux::net::parse_ip_prefix(item, env.iface).ok()) die("POLLUX_IP", ip, "not ADDR/PREFIX");
            });
        }
        if (gw != nullptr) {
            each_item(gw, [&](const char* item) {
                if (!pollux::net::parse_gateway(item, env.iface).ok()) die("POLLUX_GW", gw, "not an address");
            });
        }
        return;
    }
    if (strcmp(nic, "wire") == 0 || strncmp(nic, "wire:", 5) == 0) {
        env.kind = NicKind::wire;
        if (nic[4] == ':') {
            kstd::Result<pollux::wire::WireConfig> cfg = pollux::wire::parse_wire_config(nic + 5);
            if (!cfg.ok()) die("POLLUX_NIC", nic, "a malformed wire spec");
            env.wire = cfg.value();
        }
        if (ip != nullptr) die("POLLUX_IP", ip, "the wire's addresses are fixed (10.0.0.1, 10.0.0.2)");
        return;
    }
    die("POLLUX_NIC", nic, "unknown NIC");
}

void add_device(pollux::net::NetDevice& dev) {
    kstd::Result<int> index = pollux::net::stack_add_device(dev, env.iface);
    if (!index.ok()) {
        fprintf(stderr, "pollux: cannot add %s to the stack: %s\n", dev.name(), strerror(index.error_code()));
        _exit(2);
    }
}

void bring_up() {
    if (env.kind == NicKind::tap) {
        kstd::Result<pollux::tap::TapDevice*> dev = pollux::tap::TapDevice::open(env.tap_name);
        if (!dev.ok()) {
            fprintf(stderr, "pollux: POLLUX_NIC=tap:%s: cannot open the TAP device: %s\n", env.tap_name,
                    strerror(dev.error_code()));
            _exit(2);
        }
        add_device(*dev.value());
    } else if (env.kind == NicKind::dpdk) {
        pollux::shim::host_library("librte_");  // DPDK's own sockets and epolls are the host's
        kstd::Result<pollux::dpdk::DpdkDevice*> dev = pollux::dpdk::DpdkDevice::open(env.dpdk_args);
        if (!dev.ok()) {
            fprintf(stderr, "pollux: POLLUX_NIC=dpdk:%s: cannot start the DPDK port: %s\n", env.dpdk_args,
                    strerror(dev.error_code()));
            _exit(2);
        }
        add_device(*dev.value());
    } else if (env.kind == NicKind::wire) {
        auto* link = new pollux::wire::WireLink(env.wire);  // lives as long as the process
        if (!pollux::net::stack_add_wire_hosts(link->end(0), link->end(1), 0, true).ok()) {
            fprintf(stderr, "pollux: cannot add the wire to the stack\n");
            _exit(2);
        }
    }
}

__attribute__((constructor)) void net_config_init() {
    parse_env();
    pollux::platform::park_spin_ns();  // POLLUX_POLL_US, checked now rather than at the first wait
    pollux::net::inet_register();
    pollux::net::stack_set_bringup(bring_up);
}

}  // namespace
