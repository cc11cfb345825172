// Constants and layouts from the VIRTIO 1.1 specification (OASIS, csprd01 numbering), each
// with its section. Everything the device reads or writes is little-endian; x86 is too, so the
// structures are used as they are (a big-endian port would add byte swaps here).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::virtio {

// 2.1: device status field.
inline constexpr uint8_t kStatusAcknowledge = 1;
inline constexpr uint8_t kStatusDriver = 2;
inline constexpr uint8_t kStatusDriverOk = 4;
inline constexpr uint8_t kStatusFeaturesOk = 8;
inline constexpr uint8_t kStatusNeedsReset = 64;
inline constexpr uint8_t kStatusFailed = 128;

// 6: reserved (transport/ring) feature bits.
inline constexpr unsigned kFeatRingIndirectDesc = 28;
inline constexpr unsigned kFeatRingEventIdx = 29;  // 2.6.7, 2.6.10: used_event / avail_event
inline constexpr unsigned kFeatVersion1 = 32;
inline constexpr unsigned kFeatAccessPlatform = 33;

// 5.1.3: virtio-net feature bits.
inline constexpr unsigned kNetFeatCsum = 0;
inline constexpr unsigned kNetFeatGuestCsum = 1;
inline constexpr unsigned kNetFeatMtu = 3;
inline constexpr unsigned kNetFeatMac = 5;
inline constexpr unsigned kNetFeatMrgRxbuf = 15;
inline constexpr unsigned kNetFeatStatus = 16;

inline constexpr uint64_t feature(unsigned bit) { return uint64_t{1} << bit; }

// 2.6.5: struct virtq_desc and its flags.
struct VirtqDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
static_assert(sizeof(VirtqDesc) == 16);
inline constexpr uint16_t kDescNext = 1;
inline constexpr uint16_t kDescWrite = 2;  // device writes (else reads) the buffer

// 2.6.6: struct virtq_avail is {flags, idx, ring[size], used_event}; 2.6.8: struct virtq_used
// is {flags, idx, ring[size] of virtq_used_elem, avail_event}.
inline constexpr uint16_t kAvailNoInterrupt = 1;  // 2.6.7: ignored by the device under EVENT_IDX
inline constexpr uint16_t kUsedNoNotify = 1;      // 2.6.10: likewise
struct VirtqUsedElem {
    uint32_t id;  // head of the chain (u32 for padding reasons, says the spec)
    uint32_t len;  // bytes the device wrote into the chain
};
static_assert(sizeof(VirtqUsedElem) == 8);

// 2.6: queue size is a power of two, at most 32768; alignment of the three parts (2.6, table
// "Virtqueue Part Alignment"): descriptors 16, available ring 2, used ring 4.
inline constexpr uint16_t kMaxQueueSize = 32768;
inline constexpr size_t avail_bytes(uint16_t size) { return 6 + 2 * size_t{size}; }
inline constexpr size_t used_bytes(uint16_t size) { return 6 + 8 * size_t{size}; }

// 2.6.7.2 / 2.6.10: vring_need_event(). True when the index moved from `old_idx` to `new_idx`
// across `event` (all mod 2^16): the other side asked to hear about exactly that step.
inline constexpr bool need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx) {
    return uint16_t(new_idx - event - 1) < uint16_t(new_idx - old_idx);
}

// 5.1.6: struct virtio_net_hdr; with VERSION_1 num_buffers is always there (12 bytes).
struct VirtioNetHdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
static_assert(sizeof(VirtioNetHdr) == 12);
inline constexpr uint8_t kNetHdrGsoNone = 0;

// 5.1.4: struct virtio_net_config offsets and the status bit.
inline constexpr uint32_t kNetCfgMac = 0;
inline constexpr uint32_t kNetCfgStatus = 6;
inline constexpr uint32_t kNetCfgMtu = 10;
inline constexpr uint16_t kNetStatusLinkUp = 1;

// 5.1.2: virtqueue numbers of the first queue pair.
inline constexpr uint16_t kNetQueueRx = 0;
inline constexpr uint16_t kNetQueueTx = 1;

// 4.1.2.1: PCI ids; modern devices are 0x1040 + the device type (5: net is type 1).
inline constexpr uint16_t kPciVendor = 0x1af4;
inline constexpr uint16_t kPciDeviceNetTransitional = 0x1000;
inline constexpr uint16_t kPciDeviceNetModern = 0x1041;

// 4.1.4: virtio PCI capabilities (vendor-specific, ID 9) and their cfg_type.
inline constexpr uint8_t kPciCapVendor = 0x09;
inline constexpr uint8_t kPciCapCommonCfg = 1;
inline constexpr uint8_t kPciCapNotifyCfg = 2;
inline constexpr uint8_t kPciCapIsrCfg = 3;
inline constexpr uint8_t kPciCapDeviceCfg = 4;
// struct virtio_pci_cap field offsets from the capability's start.
inline constexpr uint8_t kPciCapCfgType = 3, kPciCapBar = 4, kPciCapOffset = 8, kPciCapLength = 12,
                         kPciCapNotifyMultiplier = 16;

// 4.1.4.3: struct virtio_pci_common_cfg offsets.
inline constexpr uint32_t kCommonDeviceFeatureSelect = 0x00, kCommonDeviceFeature = 0x04,
                          kCommonDriverFeatureSelect = 0x08, kCommonDriverFeature = 0x0c,
                          kCommonMsixConfig = 0x10, kCommonNumQueues = 0x12, kCommonDeviceStatus = 0x14,
                          kCommonConfigGeneration = 0x15, kCommonQueueSelect = 0x16, kCommonQueueSize = 0x18,
                          kCommonQueueMsixVector = 0x1a, kCommonQueueEnable = 0x1c, kCommonQueueNotifyOff = 0x1e,
                          kCommonQueueDesc = 0x20, kCommonQueueDriver = 0x28, kCommonQueueDevice = 0x30;
inline constexpr uint16_t kNoMsixVector = 0xffff;  // 4.1.5.1.2

}  // namespace pollux::virtio
