#include "arch/x86_64/ioapic.h"

#include "arch/x86_64/lapic.h"
#include "mm/page_table.h"

namespace pollux::ioapic {
namespace {

// 82093AA datasheet 3.0: IOREGSEL at +0x00, IOWIN at +0x10; IOAPICVER = register 1, bits
// 16-23 the highest redirection entry; entry n at registers 0x10 + 2n (low), 0x11 + 2n (high).
constexpr uint32_t kRegVersion = 0x01, kRegRedirection = 0x10;
constexpr uint32_t kRedirMasked = 1u << 16, kRedirLevel = 1u << 15, kRedirActiveLow = 1u << 13;

volatile uint32_t* regs = nullptr;
uint32_t pins = 0, base_gsi = 0;

uint32_t read(uint32_t reg) {
    regs[0] = reg;
    return regs[4];
}
void write(uint32_t reg, uint32_t value) {
    regs[0] = reg;
    regs[4] = value;
}

}  // namespace

bool init(uint64_t phys_address, uint32_t gsi_base) {
    regs = static_cast<volatile uint32_t*>(mm::map_mmio(phys_address, 0x20));
    uint32_t version = read(kRegVersion);
    if (version == 0xffffffff) return false;
    pins = ((version >> 16) & 0xff) + 1;
    base_gsi = gsi_base;
    for (uint32_t pin = 0; pin < pins; ++pin) {
        write(kRegRedirection + 2 * pin, kRedirMasked);
        write(kRegRedirection + 2 * pin + 1, 0);
    }
    return true;
}

uint32_t pin_count() { return pins; }

bool route(uint32_t gsi, uint8_t vector, bool active_low, bool level) {
    if (!regs || gsi < base_gsi || gsi - base_gsi >= pins) return false;
    uint32_t pin = gsi - base_gsi;
    write(kRegRedirection + 2 * pin + 1, lapic::id() << 24);
    write(kRegRedirection + 2 * pin, vector | (active_low ? kRedirActiveLow : 0) | (level ? kRedirLevel : 0));
    return true;
}

void mask(uint32_t gsi) {
    if (!regs || gsi < base_gsi || gsi - base_gsi >= pins) return;
    uint32_t pin = gsi - base_gsi;
    write(kRegRedirection + 2 * pin, read(kRegRedirection + 2 * pin) | kRedirMasked);
}

}  // namespace pollux::ioapic
