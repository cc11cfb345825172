#include "pci/virtio_rng_probe.h"

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/tsc.h"
#include "console/printk.h"
#include "mm/direct_map.h"
#include "mm/frame_allocator.h"
#include "mm/page_table.h"
#include "pci/pci.h"

namespace pollux::pci {
namespace {

constexpr uint16_t kVirtioVendor = 0x1af4, kRngTransitional = 0x1005, kRngModern = 0x1044;
// 4.1.4: vendor-specific capabilities (ID 9) name where each structure lives.
constexpr uint8_t kCapVendor = 0x09, kCapCommonCfg = 1, kCapNotifyCfg = 2;
// 4.1.4.3: struct virtio_pci_common_cfg offsets.
constexpr uint32_t kDeviceFeatureSelect = 0x00, kDeviceFeature = 0x04, kDriverFeatureSelect = 0x08,
                   kDriverFeature = 0x0c, kMsixConfig = 0x10, kDeviceStatus = 0x14, kQueueSelect = 0x16,
                   kQueueSize = 0x18, kQueueMsixVector = 0x1a, kQueueEnable = 0x1c, kQueueNotifyOff = 0x1e,
                   kQueueDesc = 0x20, kQueueDriver = 0x28, kQueueDevice = 0x30;
// 2.1: device status bits; 6: VIRTIO_F_VERSION_1 is feature bit 32.
constexpr uint8_t kStatusAcknowledge = 1, kStatusDriver = 2, kStatusDriverOk = 4, kStatusFeaturesOk = 8;
constexpr uint16_t kNoVector = 0xffff;
constexpr uint16_t kDescWrite = 2;  // 2.6.5: the device writes this buffer
constexpr uint8_t kVectorRng = 0x41;
constexpr uint32_t kRequestBytes = 64;

struct VirtqDesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};
static_assert(sizeof(VirtqDesc) == 16);

volatile uint64_t interrupts = 0;
void on_rng_interrupt(InterruptFrame&) {
    interrupts = interrupts + 1;
    lapic::eoi();
}

struct Regions {
    volatile uint8_t* common = nullptr;
    volatile uint8_t* notify = nullptr;
    uint32_t notify_multiplier = 0;
};

// Walks the vendor capabilities for the common and notify structures, mapping each.
Regions find_regions(const Function& f) {
    Regions r;
    uint8_t at = uint8_t(config_read32(f.bus, f.device, f.function, 0x34) & 0xfc);
    for (int guard = 0; at >= 0x40 && guard < 48; ++guard) {
        uint32_t header = config_read32(f.bus, f.device, f.function, at);
        if (uint8_t(header) == kCapVendor) {
            uint8_t type = uint8_t(header >> 24);
            uint8_t bar = uint8_t(config_read32(f.bus, f.device, f.function, uint8_t(at + 4)));
            uint32_t offset = config_read32(f.bus, f.device, f.function, uint8_t(at + 8));
            uint32_t length = config_read32(f.bus, f.device, f.function, uint8_t(at + 12));
            if (bar < 6 && f.bars[bar].address && !f.bars[bar].io) {
                auto* base = static_cast<volatile uint8_t*>(mm::map_mmio(f.bars[bar].address + offset, length));
                if (type == kCapCommonCfg && !r.common) r.common = base;
                if (type == kCapNotifyCfg && !r.notify) {
                    r.notify = base;
                    r.notify_multiplier = config_read32(f.bus, f.device, f.function, uint8_t(at + 16));
                }
            }
        }
        at = uint8_t((header >> 8) & 0xfc);
    }
    return r;
}

template <typename T>
T get(volatile uint8_t* base, uint32_t off) {
    return *reinterpret_cast<volatile T*>(base + off);
}
template <typename T>
void put(volatile uint8_t* base, uint32_t off, T v) {
    *reinterpret_cast<volatile T*>(base + off) = v;
}

}  // namespace

bool virtio_rng_msix_probe() {
    const Function* f = nullptr;
    for (size_t i = 0; i < function_count() && !f; ++i) {
        const Function* c = function(i);
        if (c->vendor_id == kVirtioVendor && (c->device_id == kRngTransitional || c->device_id == kRngModern)) f = c;
    }
    if (!f || !f->msix_cap) {
        printk("msix: no virtio-rng device with MSI-X (run QEMU with -device virtio-rng-pci)\n");
        return false;
    }
    Regions r = find_regions(*f);
    if (!r.common || !r.notify) {
        printk("msix: virtio-rng has no modern common/notify structures\n");
        return false;
    }
    volatile uint8_t* c = r.common;
    put<uint8_t>(c, kDeviceStatus, 0);  // reset (3.1.1), then wait for it to read back 0
    for (int i = 0; i < 1000 && get<uint8_t>(c, kDeviceStatus) != 0; ++i) cpu::pause();
    put<uint8_t>(c, kDeviceStatus, kStatusAcknowledge | kStatusDriver);
    put<uint32_t>(c, kDeviceFeatureSelect, 1);
    if (!(get<uint32_t>(c, kDeviceFeature) & 1)) {
        printk("msix: virtio-rng does not offer VIRTIO_F_VERSION_1\n");
        return false;
    }
    put<uint32_t>(c, kDriverFeatureSelect, 0);
    put<uint32_t>(c, kDriverFeature, 0);
    put<uint32_t>(c, kDriverFeatureSelect, 1);
    put<uint32_t>(c, kDriverFeature, 1);
    put<uint8_t>(c, kDeviceStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk);
    if (!(get<uint8_t>(c, kDeviceStatus) & kStatusFeaturesOk)) {
        printk("msix: virtio-rng refused our features\n");
        return false;
    }

    idt::set_handler(kVectorRng, on_rng_interrupt);
    if (!enable_msix(*f, 0, kVectorRng)) {
        printk("msix: could not program the MSI-X table\n");
        return false;
    }
    put<uint16_t>(c, kMsixConfig, kNoVector);
    put<uint16_t>(c, kQueueSelect, 0);
    uint16_t size = get<uint16_t>(c, kQueueSize);
    if (size > 8) size = 8;
    put<uint16_t>(c, kQueueSize, size);
    put<uint16_t>(c, kQueueMsixVector, 0);
    if (get<uint16_t>(c, kQueueMsixVector) != 0) {  // 4.1.4.3: reads NO_VECTOR if it could not map it
        printk("msix: the device did not take MSI-X entry 0 for its queue\n");
        return false;
    }
    // One frame each for the descriptor table, the available ring, the used ring and the buffer.
    uint64_t desc = mm::frames().alloc(), avail = mm::frames().alloc(), used = mm::frames().alloc(),
             buffer = mm::frames().alloc();
    if (!desc || !avail || !used || !buffer) return false;
    const uint64_t frames[] = {desc, avail, used, buffer};
    for (uint64_t frame : frames) memset(mm::phys_to_virt(frame), 0, mm::kPageSize);
    put<uint64_t>(c, kQueueDesc, desc);
    put<uint64_t>(c, kQueueDriver, avail);
    put<uint64_t>(c, kQueueDevice, used);
    put<uint16_t>(c, kQueueEnable, 1);
    uint16_t notify_off = get<uint16_t>(c, kQueueNotifyOff);
    put<uint8_t>(c, kDeviceStatus, kStatusAcknowledge | kStatusDriver | kStatusFeaturesOk | kStatusDriverOk);

    *mm::phys_to_virt<VirtqDesc>(desc) = VirtqDesc{buffer, kRequestBytes, kDescWrite, 0};
    auto* avail_ring = mm::phys_to_virt<volatile uint16_t>(avail);  // flags, idx, ring[]
    avail_ring[2] = 0;
    asm volatile("" ::: "memory");  // x86 keeps stores in order; the compiler must too
    avail_ring[1] = 1;

    uint64_t start = cpu::rdtsc(), deadline = start + tsc::ns_to_ticks(10'000'000);
    lapic::timer_oneshot(10'000'000);  // wakes the hlt if the message never comes
    put<uint16_t>(r.notify, notify_off * r.notify_multiplier, 0);  // 4.1.4.4: queue index
    while (interrupts == 0 && cpu::rdtsc() < deadline) {
        cpu::sti_hlt();
        cpu::cli();
    }
    auto* used_ring = mm::phys_to_virt<volatile uint16_t>(used);  // flags, idx, then {u32 id, u32 len}
    uint16_t used_idx = used_ring[1];
    uint32_t used_len = *reinterpret_cast<volatile uint32_t*>(used_ring + 4);
    const auto* bytes = mm::phys_to_virt<const uint8_t>(buffer);
    uint32_t nonzero = 0;
    for (uint32_t i = 0; i < kRequestBytes; ++i) nonzero += bytes[i] != 0;
    put<uint8_t>(c, kDeviceStatus, 0);  // reset: the device lets go of our rings
    if (interrupts == 0) {
        printk("msix: no interrupt within 10 ms (used idx %u)\n", used_idx);
        return false;
    }
    printk("msix: virtio-rng queue 0 -> MSI-X entry 0 -> vector %#x after %lu us; %u bytes, %u of them non-zero\n",
           kVectorRng, tsc::ticks_to_ns(cpu::rdtsc() - start) / 1000, used_len, nonzero);
    return used_idx == 1 && used_len > 0 && nonzero > 0;
}

}  // namespace pollux::pci
