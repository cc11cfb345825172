// pollux.test=virtio-net and virtio-net-burst: the virtio-net driver against QEMU's user
// network (slirp), whose gateway 10.0.2.2 answers ARP and ICMP echo itself. Frames are built
// by hand (there is no stack yet); nothing is sent anywhere but to the gateway. The device is
// the first virtio-net PCI function, else the first virtio-mmio one (microvm).
//   virtio-net        ARP for 10.0.2.2, then 4 pings; status 0 when all replies arrive
//   virtio-net-burst  2000 pings in batches of 32 (EVENT_IDX required): every frame taken by
//                     the TX ring without a stall, completions reclaimed, the replies counted
#pragma once

namespace pollux::net {

// Status for machine_exit: 0 pass, 5 fail.
int virtio_net_self_test(bool burst);

}  // namespace pollux::net
