#include "arch/x86_64/ioapic.h"

#include "arch/x86_64/lapic.h"
#include "mm/page_table.h"

namespace pollux::ioapic {
namespace {

// 82093AA datasheet 3.0: IOREGSEL at +0x00, IOWIN at +0x10; IOAPICVER = register 1, bits
// 16-23 the highest redirection entry; entry n at registers 0x10 + 2n (low), 0x11 + 2n (high).
constexpr uint32_t kRegVersion = 0x01, kRegRedirection = 0x10;
constexpr uint32_t kRedirMasked = 1u << 16, kRedirLevel = 1u << 15, kRedirRemoteIrr = 1u << 14,
                   kRedirActiveLow = 1u << 13;

struct Chip {
    volatile uint32_t* regs;
    uint32_t base_gsi, pins;

    uint32_t read(uint32_t reg) const {
        regs[0] = reg;
        return regs[4];
    }
    void write(uint32_t reg, uint32_t value) const {
        regs[0] = reg;
        regs[4] = value;
    }
};
Chip chips[kMaxChips];
int count = 0;

// The chip whose pins cover gsi, and the pin.
const Chip* owner(uint32_t gsi, uint32_t& pin) {
    for (int i = 0; i < count; ++i) {
        if (gsi >= chips[i].base_gsi && gsi - chips[i].base_gsi < chips[i].pins) {
            pin = gsi - chips[i].base_gsi;
            return &chips[i];
        }
    }
    return nullptr;
}

}  // namespace

bool init(uint64_t phys_address, uint32_t gsi_base) {
    if (count == kMaxChips) return false;
    Chip c{static_cast<volatile uint32_t*>(mm::map_mmio(phys_address, 0x20)), gsi_base, 0};
    uint32_t version = c.read(kRegVersion);
    if (version == 0xffffffff) return false;
    c.pins = ((version >> 16) & 0xff) + 1;
    for (uint32_t pin = 0; pin < c.pins; ++pin) {
        c.write(kRegRedirection + 2 * pin, kRedirMasked);
        c.write(kRegRedirection + 2 * pin + 1, 0);
    }
    chips[count++] = c;
    return true;
}

uint32_t pin_count() { return count ? chips[count - 1].pins : 0; }

bool covers(uint32_t gsi) {
    uint32_t pin;
    return owner(gsi, pin) != nullptr;
}

bool route(uint32_t gsi, uint8_t vector, bool active_low, bool level) {
    uint32_t pin;
    const Chip* c = owner(gsi, pin);
    if (c == nullptr) return false;
    c->write(kRegRedirection + 2 * pin + 1, lapic::id() << 24);
    c->write(kRegRedirection + 2 * pin, vector | (active_low ? kRedirActiveLow : 0) | (level ? kRedirLevel : 0));
    return true;
}

void mask(uint32_t gsi) {
    uint32_t pin;
    const Chip* c = owner(gsi, pin);
    if (c == nullptr) return;
    c->write(kRegRedirection + 2 * pin, c->read(kRegRedirection + 2 * pin) | kRedirMasked);
}

bool routed(uint32_t gsi) {
    uint32_t pin;
    const Chip* c = owner(gsi, pin);
    return c != nullptr && !(c->read(kRegRedirection + 2 * pin) & kRedirMasked);
}

bool in_service(uint32_t gsi) {
    uint32_t pin;
    const Chip* c = owner(gsi, pin);
    return c != nullptr && (c->read(kRegRedirection + 2 * pin) & kRedirRemoteIrr);
}

}  // namespace pollux::ioapic
