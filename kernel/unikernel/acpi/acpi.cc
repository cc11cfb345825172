#include "acpi/acpi.h"

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "console/printk.h"
#include "mm/page_table.h"

namespace pollux::acpi {
namespace {

// Table layouts: ACPI 6.4, 5.2.5.3 (RSDP), 5.2.6 (header), 5.2.9 (FADT), 5.2.3.2 (GAS).
struct __attribute__((packed)) Rsdp {
    char signature[8];
    uint8_t checksum;
    char oem[6];
    uint8_t revision;
    uint32_t rsdt;
    uint32_t length;
    uint64_t xsdt;
};
struct __attribute__((packed)) Header {
    char signature[4];
    uint32_t length;
    uint8_t revision, checksum;
    char oem[6], oem_table[8];
    uint32_t oem_revision, creator, creator_revision;
};
static_assert(sizeof(Header) == 36);
struct __attribute__((packed)) Gas {
    uint8_t space, bit_width, bit_offset, access_size;
    uint64_t address;
};
constexpr size_t kFadtDsdt = 40, kFadtPm1aCnt = 64, kFadtPm1bCnt = 68, kFadtFlags = 112, kFadtXDsdt = 140,
                 kFadtSleepControl = 244;
constexpr uint32_t kFadtHwReduced = 1u << 20;
constexpr uint8_t kGasMemory = 0, kGasIo = 1;
constexpr uint16_t kPm1SleepEnable = 1 << 13;  // PM1 control: SLP_EN; SLP_TYP at bits 10-12
constexpr uint8_t kSleepControlEnable = 1 << 5;  // sleep control: SLP_EN; SLP_TYP at bits 2-4
constexpr uint8_t kAmlDWordPrefix = 0x0c, kAmlQWordPrefix = 0x0e, kAmlReturnOp = 0xa4;
constexpr uint8_t kAmlPackageOp = 0x12, kAmlBytePrefix = 0x0a, kAmlZeroOp = 0x00, kAmlOneOp = 0x01;

InterruptInfo interrupt_info;
PciEcam ecam;
bool ready = false;
bool hw_reduced = false;
uint32_t pm1a_cnt = 0, pm1b_cnt = 0;
Gas sleep_control{};
uint8_t slp_typ_a = 0, slp_typ_b = 0;

// Firmware tables live outside the RAM the direct map covers: map them (uncached, read-only use).
const uint8_t* map(uint64_t paddr, size_t len) {
    return static_cast<const uint8_t*>(const_cast<void*>(mm::map_mmio(paddr, len)));
}

bool checksum_ok(const uint8_t* p, size_t len) {
    uint8_t sum = 0;
    for (size_t i = 0; i < len; ++i) sum = uint8_t(sum + p[i]);
    return sum == 0;
}

const Header* table(uint64_t paddr) {
    if (!paddr) return nullptr;
    auto* h = reinterpret_cast<const Header*>(map(paddr, sizeof(Header)));
    if (h->length < sizeof(Header) || h->length > (1u << 20)) return nullptr;
    auto* full = map(paddr, h->length);
    return checksum_ok(full, h->length) ? reinterpret_cast<const Header*>(full) : nullptr;
}

uint64_t find_rsdp() {
    // ACPI 6.4, 5.2.5.1: on a 16-byte boundary in the first KiB of the EBDA or in 0xe0000-0xfffff.
    auto scan = [](uint64_t from, uint64_t to) -> uint64_t {
        const uint8_t* p = map(from, to - from);
        for (uint64_t off = 0; off + 20 <= to - from; off += 16)
            if (memcmp(p + off, "RSD PTR ", 8) == 0 && checksum_ok(p + off, 20)) return from + off;
        return 0;
    };
    uint64_t ebda = uint64_t(*reinterpret_cast<const uint16_t*>(map(0x40e, 2))) << 4;
    if (ebda >= 0x80000 && ebda < 0xa0000)
        if (uint64_t r = scan(ebda, ebda + 1024)) return r;
    return scan(0xe0000, 0x100000);
}

const Header* find_table(const Rsdp& rsdp, const char* signature) {
    bool x = rsdp.revision >= 2 && rsdp.xsdt;
    const Header* root = table(x ? rsdp.xsdt : rsdp.rsdt);
    if (!root) return nullptr;
    size_t entry = x ? 8 : 4, n = (root->length - sizeof(Header)) / entry;
    auto* entries = reinterpret_cast<const uint8_t*>(root) + sizeof(Header);
    for (size_t i = 0; i < n; ++i) {
        uint64_t at = 0;
        memcpy(&at, entries + i * entry, entry);
        const Header* h = table(at);
        if (h && memcmp(h->signature, signature, 4) == 0) return h;
    }
    return nullptr;
}

// MADT, ACPI 6.4 5.2.12: entries from offset 44; type 1 = I/O APIC (5.2.12.3), type 2 =
// interrupt source override (5.2.12.5), whose flags are MPS INTI flags (table 5.26).
constexpr size_t kMadtEntries = 44;
constexpr uint8_t kMadtIoApic = 1, kMadtSourceOverride = 2;
constexpr uint16_t kIntiPolarityMask = 3, kIntiActiveLow = 3, kIntiTriggerMask = 3 << 2, kIntiLevel = 3 << 2;

void parse_madt(const Header* madt) {
    auto* p = reinterpret_cast<const uint8_t*>(madt);
    for (size_t off = kMadtEntries; off + 2 <= madt->length;) {
        uint8_t type = p[off], len = p[off + 1];
        if (len < 2 || off + len > madt->length) break;
        if (type == kMadtIoApic && len >= 12 && interrupt_info.ioapic_count < InterruptInfo::kMaxIoApics) {
            uint32_t address, gsi_base;
            memcpy(&address, p + off + 4, 4);
            memcpy(&gsi_base, p + off + 8, 4);
            interrupt_info.ioapics[interrupt_info.ioapic_count++] = {address, gsi_base};
        } else if (type == kMadtSourceOverride && len >= 10 && p[off + 3] < 16) {
            uint32_t gsi;
            uint16_t flags;
            memcpy(&gsi, p + off + 4, 4);
            memcpy(&flags, p + off + 8, 2);
            InterruptInfo::IsaIrq& irq = interrupt_info.isa[p[off + 3]];
            irq.gsi = gsi;
            irq.active_low = (flags & kIntiPolarityMask) == kIntiActiveLow;
            irq.level = (flags & kIntiTriggerMask) == kIntiLevel;
        }
        off += len;
    }
}

// MCFG: header, 8 reserved bytes, then 16-byte entries (base u64, segment u16, start bus u8,
// end bus u8, reserved u32).
void parse_mcfg(const Header* mcfg) {
    auto* p = reinterpret_cast<const uint8_t*>(mcfg);
    for (size_t off = sizeof(Header) + 8; off + 16 <= mcfg->length; off += 16) {
        uint16_t segment;
        memcpy(&segment, p + off + 8, 2);
        if (segment != 0) continue;
        memcpy(&ecam.base, p + off, 8);
        ecam.start_bus = p[off + 10];
        ecam.end_bus = p[off + 11];
        return;
    }
}

// Without an MCFG (QEMU's microvm has none), a PCIe host bridge in the DSDT still names its
// ECAM base in _CBA (ACPI 6.4, 6.5.6), either Name(_CBA, <int>) or, as QEMU writes it,
// Method(_CBA) { Return (<int>) }: after the name, an optional method-flags byte and ReturnOp,
// then an integer with a DWord/QWord prefix (20.2.3). The bus range is taken to start at 0.
void find_cba(const Header* dsdt) {
    auto* aml = reinterpret_cast<const uint8_t*>(dsdt);
    const uint8_t* end = aml + dsdt->length;
    for (const uint8_t* p = aml + sizeof(Header); p + 15 < end; ++p) {
        if (memcmp(p, "_CBA", 4) != 0) continue;
        const uint8_t* q = p + 4;
        if (q[1] == kAmlReturnOp) q += 2;  // method flags, ReturnOp
        size_t len = q[0] == kAmlDWordPrefix ? 4 : q[0] == kAmlQWordPrefix ? 8 : 0;
        if (!len) continue;
        memcpy(&ecam.base, q + 1, len);
        ecam.start_bus = 0;
        ecam.end_bus = 255;
        return;
    }
}

// Name(_S5, Package(){a, b, ...}): NameOp "_S5_" PackageOp PkgLength NumElements a b.
uint8_t aml_small_int(const uint8_t*& p, const uint8_t* end) {
    if (p >= end) return 0;
    uint8_t op = *p++;
    if (op == kAmlBytePrefix && p < end) return *p++;
    if (op == kAmlZeroOp || op == kAmlOneOp) return op;
    return op;  // a few DSDTs store the raw value
}

bool find_s5(const Header* dsdt) {
    auto* aml = reinterpret_cast<const uint8_t*>(dsdt);
    const uint8_t* end = aml + dsdt->length;
    for (const uint8_t* p = aml + sizeof(Header); p + 8 < end; ++p) {
        if (memcmp(p, "_S5_", 4) != 0 || p[4] != kAmlPackageOp) continue;
        const uint8_t* q = p + 5;
        q += 1 + (*q >> 6);  // PkgLength: bits 7-6 of the lead byte count the extra bytes
        ++q;                 // NumElements
        slp_typ_a = aml_small_int(q, end);
        slp_typ_b = aml_small_int(q, end);
        return true;
    }
    return false;
}

}  // namespace

const InterruptInfo& interrupts() { return interrupt_info; }
const PciEcam& pci_ecam() { return ecam; }

bool init(uint64_t rsdp_paddr) {
    for (uint8_t irq = 0; irq < 16; ++irq) interrupt_info.isa[irq] = {irq, false, false};
    if (!rsdp_paddr) rsdp_paddr = find_rsdp();
    if (!rsdp_paddr) {
        printk(KERN_INFO "acpi: no RSDP\n");
        return false;
    }
    const Rsdp& rsdp = *reinterpret_cast<const Rsdp*>(map(rsdp_paddr, sizeof(Rsdp)));
    if (const Header* madt = find_table(rsdp, "APIC")) parse_madt(madt);
    if (const Header* mcfg = find_table(rsdp, "MCFG")) parse_mcfg(mcfg);
    const Header* fadt = find_table(rsdp, "FACP");
    if (!fadt) {
        printk(KERN_INFO "acpi: no FADT\n");
        return false;
    }
    auto* f = reinterpret_cast<const uint8_t*>(fadt);
    auto field32 = [&](size_t off) {
        uint32_t v = 0;
        if (off + 4 <= fadt->length) memcpy(&v, f + off, 4);
        return v;
    };
    uint64_t dsdt_at = field32(kFadtDsdt);
    if (kFadtXDsdt + 8 <= fadt->length) {
        uint64_t x = 0;
        memcpy(&x, f + kFadtXDsdt, 8);
        if (x) dsdt_at = x;
    }
    pm1a_cnt = field32(kFadtPm1aCnt);
    pm1b_cnt = field32(kFadtPm1bCnt);
    hw_reduced = field32(kFadtFlags) & kFadtHwReduced;
    if (kFadtSleepControl + sizeof(Gas) <= fadt->length) memcpy(&sleep_control, f + kFadtSleepControl, sizeof(Gas));
    const Header* dsdt = table(dsdt_at);
    if (dsdt && !ecam.base) find_cba(dsdt);
    if (!dsdt || !find_s5(dsdt)) {
        printk(KERN_INFO "acpi: no \\_S5 in the DSDT\n");
        return false;
    }
    ready = hw_reduced ? sleep_control.address != 0 : pm1a_cnt != 0;
    printk(KERN_INFO "acpi: S5 through %s (SLP_TYP %u)\n", hw_reduced ? "the sleep control register" : "PM1 control",
           slp_typ_a);
    return ready;
}

void power_off() {
    if (!ready) return;
    printk(KERN_INFO "acpi: powering off (S5)\n");
    if (hw_reduced) {
        uint8_t v = uint8_t((slp_typ_a & 7) << 2) | kSleepControlEnable;
        if (sleep_control.space == kGasIo) cpu::outb(uint16_t(sleep_control.address), v);
        else if (sleep_control.space == kGasMemory) *static_cast<volatile uint8_t*>(mm::map_mmio(sleep_control.address, 1)) = v;
        return;
    }
    cpu::outw(uint16_t(pm1a_cnt), uint16_t((slp_typ_a & 7) << 10 | kPm1SleepEnable));
    if (pm1b_cnt) cpu::outw(uint16_t(pm1b_cnt), uint16_t((slp_typ_b & 7) << 10 | kPm1SleepEnable));
}

}  // namespace pollux::acpi
