#include "net/virtio_net_pci.h"

#include <new>

#include "acpi/acpi.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/ioapic.h"
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

// INTx without MSI-X (vectors=0, old hypervisors and NICs). Which I/O APIC pin carries the
// function's INTx is the ACPI _PRT's to say, an AML method this kernel does not interpret. So
// every pin it may be goes to the vector, level-triggered: the ISA IRQ the firmware wrote into
// the interrupt line register (SeaBIOS routes PCI INTx to IRQ 5, 10 or 11 on pc and q35), the
// IRQ a PIIX routes the function's PIRQ to (pc; qboot's line register disagrees with it), and
// GSIs 16-23 (q35's ICH9 wires PIRQ A-H there). The first interrupt the
// device claims (its ISR status) is on the pin whose Remote IRR is set: that pin stays, the
// others are masked. A candidate in service that the device does not claim is someone else's,
// and is masked at once, so another device's line cannot storm.
constexpr int kMaxIntxPins = 9;
struct IntxPins {
    uint32_t gsi[kMaxIntxPins];
    int count = 0;
    int own = -1;  // index into gsi once known
    uint8_t pin = 0;
} intx;

void on_intx_interrupt(InterruptFrame&) {
    bool ours = device != nullptr && device->interrupt();
    if (intx.own >= 0) {  // found, the others masked: no I/O APIC reads per interrupt from here
        lapic::eoi();
        return;
    }
    // Still looking: a candidate in service is the device's pin if the device claimed the
    // interrupt (then the rest are masked for good), else someone else's (masked at once).
    for (int i = 0; i < intx.count && intx.own < 0; ++i) {
        if (!ioapic::in_service(intx.gsi[i])) continue;
        if (ours) intx.own = i;
        else ioapic::mask(intx.gsi[i]);
    }
    if (intx.own >= 0) {
        for (int i = 0; i < intx.count; ++i)
            if (i != intx.own) ioapic::mask(intx.gsi[i]);
        printk(KERN_INFO "virtio-net: INT%c arrives on GSI %u\n", 'A' + intx.pin - 1, intx.gsi[intx.own]);
    }
    lapic::eoi();
}

bool route_intx(const pci::Function& f, uint8_t vector) {
    if (f.interrupt_pin < 1 || f.interrupt_pin > 4) return false;
    intx.pin = f.interrupt_pin;
    auto add = [](uint32_t gsi) {
        if (intx.count == kMaxIntxPins || !ioapic::covers(gsi) || ioapic::routed(gsi)) return;
        for (int i = 0; i < intx.count; ++i)
            if (intx.gsi[i] == gsi) return;
        intx.gsi[intx.count++] = gsi;
    };
    if (f.interrupt_line >= 1 && f.interrupt_line < 16) add(acpi::interrupts().isa[f.interrupt_line].gsi);
    // A PIRQ no firmware routed goes to IRQ 11, one SeaBIOS uses.
    constexpr uint8_t kPiixIrq = 11;
    uint8_t piix_irq = pci::route_piix_intx(f, kPiixIrq);
    if (piix_irq >= 1 && piix_irq < 16) add(acpi::interrupts().isa[piix_irq].gsi);
    for (uint32_t gsi = 16; gsi < 24; ++gsi) add(gsi);
    if (intx.count == 0) return false;
    idt::set_handler(vector, on_intx_interrupt);
    pci::enable_intx(f);
    for (int i = 0; i < intx.count; ++i) ioapic::route(intx.gsi[i], vector, false, true);
    return true;
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
    // Only the RX queue interrupts (entry 0); configuration changes and TX completions do not.
    idt::set_handler(vector, on_rx_interrupt);
    access->msix = f->msix_cap != 0 && pci::enable_msix(*f, 0, vector);
    if (!access->msix && !route_intx(*f, vector)) {
        printk("virtio-net: %02x:%02x.%x has neither usable MSI-X nor an INTx pin\n", f->bus, f->device, f->function);
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
    char irq[48];
    if (access->msix) ksnprintf(irq, sizeof irq, "RX on MSI-X entry 0");
    else ksnprintf(irq, sizeof irq, "INT%c on one of %d pins", 'A' + f->interrupt_pin - 1, intx.count);
    printk(KERN_INFO "virtio-net: %02x:%02x.%x %04x:%04x %s PCI, features %#lx, mac %02x:%02x:%02x:%02x:%02x:%02x, "
           "rx/tx queues %u/%u, %s -> vector %#x\n",
           f->bus, f->device, f->function, f->vendor_id, f->device_id, kind, device->negotiated_features(), mac[0], mac[1],
           mac[2], mac[3], mac[4], mac[5], device->rx_queue_size(), device->tx_queue_size(), irq, vector);
    return device;
}

}  // namespace pollux::net
