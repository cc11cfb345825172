// Memory barriers between a virtio driver and its device (virtio 1.1, 2.6.13 and Linux's
// virtio_wmb/virtio_rmb/virtio_mb). The device is another agent reading and writing the same
// RAM (a host thread under QEMU), so what matters is the CPU's ordering, not just the
// compiler's. On x86 (TSO) stores are not reordered with stores nor loads with loads, so the
// write and read barriers only have to stop the compiler; a store followed by a load of a
// different location CAN be reordered (the store buffer), so the full barrier is an mfence.
// The std fences give exactly that on x86 and the right instructions elsewhere.
#pragma once

#include <atomic>

namespace pollux::virtio {

// Ring contents (descriptors, ring entries) before the index that publishes them.
inline void wmb() { std::atomic_thread_fence(std::memory_order_release); }
// An index before the contents it publishes.
inline void rmb() { std::atomic_thread_fence(std::memory_order_acquire); }
// Our index or event store before reading the device's side: the notification-suppression
// checks (2.6.7, 2.6.10), where a missing fence loses a kick or an interrupt for good.
inline void mb() { std::atomic_thread_fence(std::memory_order_seq_cst); }

}  // namespace pollux::virtio
