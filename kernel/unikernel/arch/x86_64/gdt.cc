#include "arch/x86_64/gdt.h"

#include <cstring>

#include "sched/scheduler.h"

namespace pollux::gdt {
namespace {

// SDM Vol. 3A 8.7, figure 8-11: the 64-bit TSS.
struct __attribute__((packed)) Tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
};
static_assert(sizeof(Tss) == 104);

struct __attribute__((packed)) DescriptorPointer {
    uint16_t limit;
    uint64_t base;
};

// Code/data descriptors (SDM Vol. 3A 3.4.5): P, DPL, S, type; L for 64-bit code.
constexpr uint64_t kNull = 0;
constexpr uint64_t kCode64Dpl0 = 0x00af9a000000ffff;
constexpr uint64_t kDataDpl0 = 0x00cf92000000ffff;
constexpr uint64_t kCode32Dpl3 = 0x00cffa000000ffff;
constexpr uint64_t kDataDpl3 = 0x00cff2000000ffff;
constexpr uint64_t kCode64Dpl3 = 0x00affa000000ffff;

Tss tss;
alignas(16) uint64_t gdt[8] = {kNull, kCode64Dpl0, kDataDpl0, kCode32Dpl3, kDataDpl3, kCode64Dpl3, 0, 0};

}  // namespace
}  // namespace pollux::gdt

extern "C" char boot_stack_guard[], boot_stack_top[];
extern "C" char ist_df_guard[], ist_df_top[], ist_nmi_guard[], ist_nmi_top[], ist_mc_guard[], ist_mc_top[];

namespace pollux::gdt {

void init() {
    memset(&tss, 0, sizeof tss);
    tss.ist[kIstDoubleFault - 1] = uint64_t(ist_df_top);
    tss.ist[kIstNmi - 1] = uint64_t(ist_nmi_top);
    tss.ist[kIstMachineCheck - 1] = uint64_t(ist_mc_top);
    tss.iomap_base = sizeof(Tss);  // no I/O permission bitmap: CPL3 gets no ports

    // A 64-bit TSS descriptor takes two slots (SDM Vol. 3A 8.2.3, figure 8-4); type 9 = available.
    uint64_t base = uint64_t(&tss), limit = sizeof(Tss) - 1;
    gdt[kTss / 8] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
                    (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt[kTss / 8 + 1] = base >> 32;

    DescriptorPointer ptr{sizeof gdt - 1, uint64_t(gdt)};
    asm volatile(
        "lgdt %0\n"
        "mov %w1, %%ds\n mov %w1, %%es\n mov %w1, %%ss\n"
        "pushq %2\n"
        "leaq 1f(%%rip), %%rax\n"
        "pushq %%rax\n"
        "lretq\n"  // reloads CS from the new table
        "1:\n"
        "ltr %w3\n" ::"m"(ptr),
        "r"(uint32_t(kKernelData)), "i"(uint64_t(kKernelCode)), "r"(uint32_t(kTss))
        : "rax", "memory");
}

void set_kernel_stack(uint64_t top) { tss.rsp[0] = top; }

bool on_known_stack(uint64_t addr) {
    auto inside = [addr](const char* lo, const char* hi) { return addr >= uint64_t(lo) && addr < uint64_t(hi); };
    // Guard pages excluded: reading them faults.
    return sched::on_thread_stack(addr) || inside(boot_stack_guard + 4096, boot_stack_top) || inside(ist_df_guard + 4096, ist_df_top) ||
           inside(ist_nmi_guard + 4096, ist_nmi_top) || inside(ist_mc_guard + 4096, ist_mc_top);
}

const char* stack_guard_owner(uint64_t addr) {
    auto in_guard = [addr](const char* guard) { return addr >= uint64_t(guard) && addr < uint64_t(guard) + 4096; };
    if (in_guard(boot_stack_guard)) return "boot";
    if (sched::in_thread_guard(addr)) return "a thread's";
    if (in_guard(ist_df_guard)) return "#DF";
    if (in_guard(ist_nmi_guard)) return "NMI";
    if (in_guard(ist_mc_guard)) return "#MC";
    return nullptr;
}

}  // namespace pollux::gdt
