// The unikernel's network: the first virtio-net device (PCI, else microvm's MMIO slots) joined
// to the stack as eth0 with the command line's addresses, before the application starts.
//
//   ip=ADDR/PREFIX[,ADDR/PREFIX]   IPv4 and/or IPv6 addresses (none, or ip=dhcp: DHCP)
//   gw=ADDR[,ADDR]                 default gateways
//
// A malformed value stops the boot with a message naming it, as the hosted runtime does with
// POLLUX_IP: a server that came up on the wrong address would fail much later and quietly.
#pragma once

namespace pollux {
class Cmdline;
}

namespace pollux::net {

// False when the command line is malformed (the caller stops the machine); true otherwise,
// including when there is no device (a console line says so and the app runs without one).
bool net_init(const Cmdline& cmdline);

}  // namespace pollux::net
