#include "net/virtio_net_pci.h"

#include <new>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/lapic.h"
#include "console/printk.h"
#include "drivers/virtio/pci_legacy.h"
#include "drivers/virtio/pci_modern.h"
#include "mm/page_table.h"
#include "net/kernel_dma.h"
#include "pci/pci.h"

namespace pollux::net {
namespace {

class PciAccess final : public virtio::PciFunctionAccess {
public:
    explicit PciAccess(const pci::Function& f) : f_(f) {}
    uint32_t config_read32(uint8_t offset) override { return pci::config_read32(f_.bus, f_.device, f_.function, offset); }
    volatile uint8_t* map_bar(uint8_t bar, uint32_t offset, uint32_t length) override {
        const pci::Bar& b = f_.bars[bar];
        if (b.address == 0 || b.io || uint64_t{offset} + length > b.size) return nullptr;
        return static_cast<volatile uint8_t*>(mm::map_mmio(b.address + offset, length));
    }
    bool msix_enabled() override { return msix; }
    bool msix = false;

private:
    const pci::Function& f_;
};

// The legacy interface's registers: BAR0 in I/O space.
class LegacyPorts final : public virtio::PortIo {
public:
    explicit LegacyPorts(uint16_t base) : base_(base) {}
    uint32_t in(uint16_t offset, unsigned width) override {
        uint16_t port = uint16_t(base_ + offset);
        return width == 1 ? cpu::inb(port) : width == 2 ? cpu::inw(port) : cpu::inl(port);
    }
    void out(uint16_t offset, unsigned width, uint32_t value) override {
        uint16_t port = uint16_t(base_ + offset);
        if (width == 1) cpu::outb(port, uint8_t(value));
        else if (width == 2) cpu::outw(port, uint16_t(value));
        else cpu::outl(port, value);
    }

private:
    uint16_t base_;
};

virtio::VirtioNet* device = nullptr;

void on_rx_interrupt(InterruptFrame&) {
    if (device != nullptr) device->interrupt();
    lapic::eoi();
}

}  // namespace

virtio::VirtioNet* virtio_net_pci_probe(uint8_t vector) {
    const pci::Function* f = nullptr;
    for (size_t i = 0; i < pci::function_count() && f == nullptr; ++i) {
        const pci::Function* c = pci::function(i);
        if (c->vendor_id == virtio::kPciVendor &&
            (c->device_id == virtio::kPciDeviceNetTransitional || c->device_id == virtio::kPciDeviceNetModern))
            f = c;
    }
    if (f == nullptr) {
        printk("virtio-net: no PCI device (QEMU: -device virtio-net-pci)\n");
        return nullptr;
    }
    auto* access = new (std::nothrow) PciAccess(*f);
    auto* modern = new (std::nothrow) virtio::PciModernTransport;
    if (access == nullptr || modern == nullptr) return nullptr;
    idt::set_handler(vector, on_rx_interrupt);
    // Only the RX queue interrupts (entry 0); configuration changes and TX completions do not.
    access->msix = f->msix_cap != 0 && pci::enable_msix(*f, 0, vector);
    if (!access->msix) {
        printk("virtio-net: %02x:%02x.%x has no usable MSI-X (INTx is not wired up yet)\n", f->bus, f->device,
               f->function);
        return nullptr;
    }
    // The modern interface when the device has it; else, for a transitional device without it
    // (disable-modern=on, an old hypervisor), the legacy one in I/O BAR0.
    virtio::Transport* transport = modern;
    const char* kind = "modern";
    if (!modern->init(*access)) {
        const pci::Bar& bar0 = f->bars[0];
        auto* legacy = f->device_id == virtio::kPciDeviceNetTransitional && bar0.io && bar0.address != 0
                           ? new (std::nothrow) virtio::PciLegacyTransport
                           : nullptr;
        auto* ports = legacy != nullptr ? new (std::nothrow) LegacyPorts(uint16_t(bar0.address)) : nullptr;
        if (ports == nullptr) {
            printk("virtio-net: %02x:%02x.%x has neither the virtio 1.x PCI structures nor a legacy I/O BAR0\n",
                   f->bus, f->device, f->function);
            return nullptr;
        }
        legacy->init(*ports, access->msix);
        transport = legacy;
        kind = "legacy";
    }
    const char* why = "";
    device = virtio::VirtioNet::create(*transport, kernel_dma(), "vnet0", virtio::VirtioNetOptions{}, &why);
    if (device == nullptr) {
        printk("virtio-net: %02x:%02x.%x: %s\n", f->bus, f->device, f->function, why);
        return nullptr;
    }
    // The device may have raised its interrupt between DRIVER_OK (inside create) and `device`
    // being set, when the handler had nothing to schedule; with EVENT_IDX it raises no other
    // until a poll moves used_event, so receive would stay off for good (seen on q35, a run in
    // three). One poll now picks up whatever came and re-arms the interrupt.
    device->napi().schedule();
    std::array<uint8_t, 6> mac = device->mac();
    printk(KERN_INFO "virtio-net: %02x:%02x.%x %04x:%04x %s PCI, features %#lx, mac %02x:%02x:%02x:%02x:%02x:%02x, "
           "rx/tx queues %u/%u, RX on MSI-X entry 0 -> vector %#x\n",
           f->bus, f->device, f->function, f->vendor_id, f->device_id, kind, device->negotiated_features(), mac[0], mac[1],
           mac[2], mac[3], mac[4], mac[5], device->rx_queue_size(), device->tx_queue_size(), vector);
    return device;
}

}  // namespace pollux::net
