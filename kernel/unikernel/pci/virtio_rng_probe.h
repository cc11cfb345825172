// A test of the MSI-X path: the smallest use of a virtio device that makes it interrupt. One
// request to a virtio-rng (virtio 1.1 spec, 5.4) over the modern PCI transport (4.1.4) with
// one split virtqueue (2.6), its completion signalled through MSI-X table entry 0. Run by
// `pollux.test=msix` with `-device virtio-rng-pci`.
//
// This is a probe, not the virtio driver: the transport and the virtqueue for virtio-net will
// be written properly (drivers/virtio/) by the session that brings the network up.
#pragma once

namespace pollux::pci {

// True when the device filled the buffer and its MSI-X arrived on the CPU.
bool virtio_rng_msix_probe();

}  // namespace pollux::pci
