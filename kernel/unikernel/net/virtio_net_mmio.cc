// microvm's layout (QEMU hw/i386/microvm.c): VIRTIO_NUM_TRANSPORTS windows of 512 bytes from
// 0xfeb00000, slot n on GSI 5 + n of the first I/O APIC, or, when QEMU adds the second I/O
// APIC (ioapic2, along with ACPI; its GSIs start at 24), on GSI 24 + n. QEMU also writes the
// slot on the command line (virtio_mmio.device=512@0xfeb00e00:12, Linux's syntax) and in the
// DSDT, which agree; scanning needs neither.
#include "net/virtio_net_mmio.h"

#include <new>

#include "arch/x86_64/idt.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "console/printk.h"
#include "drivers/virtio/mmio.h"
#include "mm/page_table.h"
#include "net/kernel_dma.h"

namespace pollux::net {
namespace {

constexpr uint64_t kMmioBase = 0xfeb00000;
// 8 transports, or 24 with ioapic2 (one per pin of it); QEMU fills them from the last.
constexpr uint32_t kSlotBytes = 512, kSlots = 24;
constexpr uint32_t kFirstGsi = 5;
constexpr uint32_t kSecondIoApicGsi = 24;  // IO_APIC_SECONDARY_IRQBASE
constexpr uint32_t kDeviceIdNet = 1;  // virtio 1.1, 5: device types

virtio::VirtioNet* device = nullptr;

void on_interrupt(InterruptFrame&) {
    // Level-triggered: interrupt() acknowledges InterruptStatus, which lowers the line before
    // the EOI lets the I/O APIC look at it again.
    if (device != nullptr) device->interrupt();
    lapic::eoi();
}

}  // namespace

virtio::VirtioNet* virtio_net_mmio_probe(uint8_t vector) {
    auto* window = static_cast<volatile uint8_t*>(mm::map_mmio(kMmioBase, kSlotBytes * kSlots));
    auto* transport = new (std::nothrow) virtio::MmioTransport;
    if (window == nullptr || transport == nullptr) return nullptr;
    uint32_t slot = 0;
    bool legacy = false;
    for (; slot < kSlots; ++slot) {
        if (transport->init(window + slot * kSlotBytes) && transport->device_id() == kDeviceIdNet) break;
        legacy = legacy || (transport->version() == 1 && transport->device_id() == kDeviceIdNet);
    }
    if (slot == kSlots) {
        printk("virtio-net: no virtio-mmio device of version 2%s\n",
               legacy ? " (a legacy one: QEMU needs -global virtio-mmio.force-legacy=false)" : "");
        return nullptr;
    }
    uint32_t gsi = (ioapic::covers(kSecondIoApicGsi) ? kSecondIoApicGsi : kFirstGsi) + slot;
    idt::set_handler(vector, on_interrupt);
    const char* why = "";
    device = virtio::VirtioNet::create(*transport, kernel_dma(), "vnet0", virtio::VirtioNetOptions{}, &why);
    if (device == nullptr) {
        printk("virtio-net: virtio-mmio slot %u: %s\n", slot, why);
        return nullptr;
    }
    // The device may have raised its interrupt between DRIVER_OK (inside create) and `device`
    // being set, when the handler had nothing to schedule; with EVENT_IDX it raises no other
    // until a poll moves used_event, so receive would stay off for good (seen on q35, a run in
    // three). One poll now picks up whatever came and re-arms the interrupt.
    device->napi().schedule();
    ioapic::route(gsi, vector, false, true);
    std::array<uint8_t, 6> mac = device->mac();
    printk(KERN_INFO "virtio-net: virtio-mmio at %#lx, features %#lx, mac %02x:%02x:%02x:%02x:%02x:%02x, "
           "rx/tx queues %u/%u, GSI %u -> vector %#x\n",
           kMmioBase + slot * kSlotBytes, device->negotiated_features(), mac[0], mac[1], mac[2], mac[3], mac[4],
           mac[5], device->rx_queue_size(), device->tx_queue_size(), gsi, vector);
    return device;
}

}  // namespace pollux::net
