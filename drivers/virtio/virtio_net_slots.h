// The per-buffer bookkeeping of VirtioNet, shared by its transmit and receive files.
#pragma once

#include <cstdint>

#include "drivers/virtio/virtio_net.h"

namespace pollux::virtio {

// A frame of 1514 bytes plus the 12-byte header fits with room to spare; 2 KiB keeps two
// buffers to a page, so no buffer crosses a page boundary.
inline constexpr uint32_t kBufferBytes = 2048;

struct VirtioNet::RxSlot {
    net::RxBuf buf;  // what the stack sees; buf.driver_private points back here
    VirtioNet* dev = nullptr;
    uint8_t* mem = nullptr;  // header, then the frame
    uint64_t addr = 0;
    RxSlot* next_returned = nullptr;  // link of VirtioNet::returned_
};

struct VirtioNet::TxSlot {
    uint8_t* mem;
    uint64_t addr;
    uint16_t index;
};

}  // namespace pollux::virtio
