#include "pci/edu_probe.h"

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/tsc.h"
#include "console/printk.h"
#include "mm/page_table.h"
#include "pci/pci.h"

namespace pollux::pci {
namespace {

constexpr uint16_t kEduVendor = 0x1234, kEduDevice = 0x11e8;
constexpr uint32_t kRegIdent = 0x00, kRegLiveness = 0x04, kRegIrqStatus = 0x24, kRegIrqRaise = 0x60,
                   kRegIrqAck = 0x64;
constexpr uint8_t kVectorEdu = 0x40;
constexpr uint32_t kRaiseValue = 0x5a;

volatile uint32_t* edu = nullptr;
volatile uint32_t received_status = 0;
volatile uint64_t received = 0;

uint32_t reg(uint32_t offset) { return edu[offset / 4]; }
void set_reg(uint32_t offset, uint32_t v) { edu[offset / 4] = v; }

void on_edu_interrupt(InterruptFrame&) {
    uint32_t status = reg(kRegIrqStatus);
    set_reg(kRegIrqAck, status);
    received_status = status;
    received = received + 1;
    lapic::eoi();
}

}  // namespace

bool edu_msi_probe() {
    const Function* f = nullptr;
    for (size_t i = 0; i < function_count() && !f; ++i)
        if (function(i)->vendor_id == kEduVendor && function(i)->device_id == kEduDevice) f = function(i);
    if (!f || !f->bars[0].address || f->bars[0].io) {
        printk("msi: no edu device with a memory BAR0 (run QEMU with -device edu)\n");
        return false;
    }
    edu = static_cast<volatile uint32_t*>(mm::map_mmio(f->bars[0].address, 0x100));
    uint32_t ident = reg(kRegIdent);
    set_reg(kRegLiveness, 0x12345678);
    bool alive = reg(kRegLiveness) == ~0x12345678u;
    printk("msi: edu at BAR0 %#lx: identification %#x, liveness %s\n", f->bars[0].address, ident,
           alive ? "ok" : "WRONG");
    if ((ident & 0xff) != 0xed || !alive) return false;

    idt::set_handler(kVectorEdu, on_edu_interrupt);
    if (!enable_msi(*f, kVectorEdu)) {
        printk("msi: the edu device has no MSI capability\n");
        return false;
    }
    uint64_t start = cpu::rdtsc(), deadline = start + tsc::ns_to_ticks(10'000'000);
    lapic::timer_oneshot(10'000'000);  // wakes the hlt if the message never comes
    set_reg(kRegIrqRaise, kRaiseValue);
    while (received == 0 && cpu::rdtsc() < deadline) {
        cpu::sti_hlt();
        cpu::cli();
    }
    if (received == 0) {
        printk("msi: no interrupt within 10 ms\n");
        return false;
    }
    printk("msi: interrupt on vector %#x with status %#x after %lu us\n", kVectorEdu, received_status,
           tsc::ticks_to_ns(cpu::rdtsc() - start) / 1000);
    return received_status == kRaiseValue;
}

}  // namespace pollux::pci
