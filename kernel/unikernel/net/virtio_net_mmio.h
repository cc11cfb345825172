// Finds a virtio-net device among microvm's virtio-mmio slots and brings it up as a VirtioNet
// over the MMIO transport, its interrupt line routed through the I/O APIC to `vector`.
#pragma once

#include <cstdint>

#include "drivers/virtio/virtio_net.h"

namespace pollux::net {

// Null (and a console line saying why) when there is no usable device.
virtio::VirtioNet* virtio_net_mmio_probe(uint8_t vector);

}  // namespace pollux::net
