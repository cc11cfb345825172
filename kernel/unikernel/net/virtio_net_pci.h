// Finds a virtio-net PCI function and brings it up as a VirtioNet over the modern transport (or
// the legacy one), its RX queue on MSI-X table entry 0 and `vector`, or, without MSI-X, its
// INTx pin on `vector`. The device's DMA addresses are physical
// addresses (no IOMMU), translated through the direct map or the kernel image's mapping.
#pragma once

#include <cstdint>

#include "drivers/virtio/virtio_net.h"

namespace pollux::net {

// Null (and a console line saying why) when there is no usable device.
virtio::VirtioNet* virtio_net_pci_probe(uint8_t vector);

}  // namespace pollux::net
