// kernel_entry: boot.S calls it on the boot stack, in long mode, with the boot page tables
// (low 1 GiB identity + the kernel's higher half) and interrupts off. The order matters:
// console first (so every later failure is visible), then the CPU tables (so faults are
// reported), then the loader's data is copied before the frame allocator may reuse its pages.
#include <cstring>

#include "acpi/acpi.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/tsc.h"
#include "boot/boot_info.h"
#include "boot/cmdline.h"
#include "boot/embedded_image.h"
#include "boot/power.h"
#include "boot/self_test.h"
#include "console/printk.h"
#include "console/serial.h"
#include "eventpoll/unix_stream.h"
#include "fs/root_fs.h"
#include "lib/cxx_runtime.h"
#include "mm/direct_map.h"
#include "mm/frame_allocator.h"
#include "mm/heap.h"
#include "mm/page_table.h"
#include "panic/panic.h"
#include "pci/pci.h"
#include "platform/clock.h"
#include "sched/scheduler.h"
#include "net/net_init.h"
#include "syscall/syscall.h"
#include "syscall/syscall_stats.h"
#include "user/application.h"
#include "user/user_mode.h"
#include "user/vdso.h"

extern "C" char __kernel_start[], __kernel_end[];

namespace pollux {
namespace {

constexpr uint64_t kMiB = 1 << 20;
// A boot that went through but could not do what the command line asked (an unknown
// pollux.test value): distinct from 0 and from a panic.
constexpr int kBadCommandLineStatus = 2;
// A boot module that is not a static x86_64 Linux executable we can start (sysexits.h's
// EX_NOINPUT, "cannot open input").
constexpr int kNoApplicationStatus = 66;

// constinit: filled before the constructors run, so it must not have one of its own.
constinit BootInfo boot_info;

// Proves the .init_array walk: a constructor the compiler cannot fold into constant data.
struct ConstructorProbe {
    uint64_t stamp;
    ConstructorProbe() : stamp(cpu::rdtsc() | 1) {}
};
ConstructorProbe constructor_probe;

void print_memory_map() {
    uint64_t ram = 0;
    for (size_t i = 0; i < boot_info.region_count; ++i) {
        const MemoryRegion& r = boot_info.regions[i];
        printk(KERN_INFO "  %016lx-%016lx %s\n", r.base, r.base + r.size - 1, memory_type_name(r.type));
        if (r.type == MemoryType::ram) ram += r.size;
    }
    printk(KERN_INFO "mm: %lu MiB of RAM in the memory map\n", ram / kMiB);
}

void init_memory() {
    uint64_t image_start = uint64_t(__kernel_start) - mm::kKernelVma, image_end = uint64_t(__kernel_end) - mm::kKernelVma;
    if (!mm::frames().init(boot_info, image_start, image_end)) panic("mm: cannot set up the frame allocator");
    mm::paging_init(boot_info);
    // Half of what is left goes to the heap (lwIP allocates its pools there); the other half
    // stays in frames for the application and page tables. A placeholder policy until the
    // ELF loader says what the app needs.
    size_t heap_frames = mm::frames().free_frames() / 2;
    uint64_t heap_phys = mm::frames().alloc_contiguous(heap_frames);
    if (!heap_phys) panic("mm: no contiguous room for a %zu-frame heap", heap_frames);
    mm::heap_init(mm::phys_to_virt(heap_phys), heap_frames * mm::kPageSize);
    printk(KERN_INFO "mm: kernel image %lu KiB at %#lx, W^X page tables (NX %s, SMEP %s), direct map at %#lx\n",
           (image_end - image_start) / 1024, image_start, mm::nx_enabled() ? "on" : "unavailable",
           cpu::read_cr4() & (1u << 20) ? "on" : "unavailable", mm::kDirectMapBase);
    printk(KERN_INFO "mm: heap %lu KiB, %lu KiB of frames free\n", heap_frames * mm::kPageSize / 1024,
           mm::frames().free_frames() * mm::kPageSize / 1024);

    // A quick proof that the heap and operator new work before anything depends on them.
    auto* numbers = new uint64_t[64];
    void* aligned = mm::heap_alloc_aligned(100, 4096);
    if (!numbers || !aligned || uintptr_t(aligned) % 4096) panic("mm: heap self-check failed");
    mm::heap_free(aligned);
    delete[] numbers;
    mm::HeapStats s = mm::heap_stats();
    if (s.free != s.size || s.free_blocks != 1) panic("mm: heap did not coalesce after the self-check");
}

volatile uint64_t com1_interrupts = 0;

void on_com1_interrupt(InterruptFrame&) {
    com1_interrupts = com1_interrupts + 1;
    console::serial_set_tx_interrupt(false);  // one is enough; it would fire again and again
    lapic::eoi();
}

// The I/O APIC from the MADT (or its default address), all pins masked, then one device
// interrupt end to end: COM1's IRQ through the I/O APIC and LAPIC to its handler.
void init_interrupts() {
    constexpr uint64_t kDefaultIoApic = 0xfec00000;  // Intel MP spec 1.4, 3.6.6
    constexpr uint8_t kCom1Irq = 4;
    const acpi::InterruptInfo& info = acpi::interrupts();
    const acpi::InterruptInfo::IoApic fallback{kDefaultIoApic, 0};
    int chips = info.ioapic_count ? info.ioapic_count : 1;
    for (int i = 0; i < chips; ++i) {
        const acpi::InterruptInfo::IoApic& chip = info.ioapic_count ? info.ioapics[i] : fallback;
        if (!ioapic::init(chip.address, chip.gsi_base)) {
            printk("irq: no I/O APIC at %#lx\n", chip.address);
            if (i == 0) return;
            continue;
        }
        printk(KERN_INFO "irq: I/O APIC at %#lx, %u pins from GSI %u (%s)\n", chip.address, ioapic::pin_count(),
               chip.gsi_base, info.ioapic_count ? "from the MADT" : "default address, no MADT");
    }
    const acpi::InterruptInfo::IsaIrq& com1 = info.isa[kCom1Irq];
    uint8_t vector = idt::kVectorIsaIrqBase + kCom1Irq;
    idt::set_handler(vector, on_com1_interrupt);
    ioapic::route(com1.gsi, vector, com1.active_low, com1.level);
    uint64_t start = cpu::rdtsc(), deadline = start + tsc::ns_to_ticks(10'000'000);
    lapic::timer_oneshot(10'000'000);  // wakes the hlt below if the interrupt never comes
    console::serial_set_tx_interrupt(true);
    while (com1_interrupts == 0 && cpu::rdtsc() < deadline) {
        cpu::sti_hlt();
        cpu::cli();
    }
    console::serial_set_tx_interrupt(false);
    ioapic::mask(com1.gsi);
    if (com1_interrupts == 0) {
        printk("irq: COM1's interrupt (GSI %u) did not arrive within 10 ms\n", com1.gsi);
        return;
    }
    printk(KERN_INFO "irq: COM1 IRQ %u -> GSI %u -> vector %#x delivered after %lu us\n", kCom1Irq, com1.gsi,
           vector, tsc::ticks_to_ns(cpu::rdtsc() - start) / 1000);
}

// Linux's spelling: `quiet` shows errors only, loglevel=N shows levels below N.
void apply_loglevel(const Cmdline& cmdline) {
    char value[8];
    if (cmdline.has("quiet")) set_console_loglevel(4);
    if (cmdline.get("printk.time", value, sizeof value))
        set_printk_time(strcmp(value, "0") != 0 && strcmp(value, "n") != 0 && strcmp(value, "N") != 0);
    if (cmdline.get("loglevel", value, sizeof value) && value[0] >= '0' && value[0] <= '8' && !value[1])
        set_console_loglevel(value[0] - '0');
}

uint64_t low_ram_top() {
    uint64_t top = 0;
    for (size_t i = 0; i < boot_info.region_count; ++i) {
        const MemoryRegion& r = boot_info.regions[i];
        if (r.type == MemoryType::ram && r.base < (1ull << 32) && r.base + r.size > top) top = r.base + r.size;
    }
    return top < (1ull << 32) ? top : 1ull << 32;
}

void init_time(uint64_t tsc_at_kmain) {
    char khz[16];
    uint64_t override_hz = 0;
    if (Cmdline(boot_info.cmdline).get("tsc_early_khz", khz, sizeof khz)) {
        bool digits = khz[0] != '\0';
        uint64_t k = 0;
        for (const char* p = khz; *p && digits; ++p) {
            digits = *p >= '0' && *p <= '9';
            if (digits && k < 100'000'000) k = k * 10 + uint64_t(*p - '0');  // saturates: out of range
        }
        override_hz = digits ? k * 1000 : 0;
        if (!digits) printk("time: ignoring tsc_early_khz=%s (not a number of kHz)\n", khz);
    }
    if (!tsc::init(override_hz)) panic("time: no usable TSC frequency");
    if (override_hz && tsc::hz() != override_hz) printk("time: ignoring tsc_early_khz=%s (out of range)\n", khz);
    clock::init();
    printk(KERN_INFO "time: TSC %lu.%03lu MHz (%s)\n", tsc::hz() / 1'000'000, tsc::hz() / 1000 % 1000, tsc::source());
    // The TSC counts from reset (QEMU: from the VM's start), so entry and kmain timestamps are
    // the time since reset.
    uint64_t entry_us = tsc::ticks_to_ns(boot_info.tsc_at_entry) / 1000;
    uint64_t kmain_us = tsc::ticks_to_ns(tsc_at_kmain) / 1000;
    printk(KERN_INFO "boot: reset to kernel entry %lu us, to kmain %lu us\n", entry_us, kmain_us);

    if (!lapic::init()) panic("time: the local APIC timer was not started");
    // Proof that the timer interrupts, before the scheduler depends on it: short, since the
    // launch waits for it.
    constexpr uint64_t kOneShotNs = 200'000;
    uint64_t start = cpu::rdtsc();
    lapic::timer_oneshot(kOneShotNs);
    uint64_t deadline = start + tsc::ns_to_ticks(100 * kOneShotNs);
    while (lapic::timer_interrupts() == 0 && cpu::rdtsc() < deadline) {
        cpu::sti_hlt();  // the timer interrupt ends the hlt
        cpu::cli();
    }
    if (lapic::timer_interrupts() == 0) panic("time: the LAPIC timer never fired");
    printk(KERN_INFO "time: LAPIC timer %lu kHz, one-shot of %lu us fired after %lu us\n", lapic::timer_hz() / 1000,
           kOneShotNs / 1000, tsc::ticks_to_ns(cpu::rdtsc() - start) / 1000);
}

// From here the boot thread is one thread among others and the core's timer queue runs.
void start_threads() {
    Cmdline cmdline(boot_info.cmdline);
    char epoch[24];
    if (cmdline.get("pollux.epoch", epoch, sizeof epoch)) {
        uint64_t seconds = 0;
        for (const char* p = epoch; *p >= '0' && *p <= '9'; ++p) seconds = seconds * 10 + uint64_t(*p - '0');
        clock::set_epoch_seconds(seconds);
    }
    sched::init();
    platform::start_timer_service();
    cpu::sti();  // the boot thread ran with interrupts off until now; it is preemptible from here
    printk(KERN_INFO "sched: threads on, %lu ms slices, entropy from %s\n", sched::kTimeSliceNs / 1'000'000,
           clock::entropy_source());
}

}  // namespace
}  // namespace pollux

extern "C" [[noreturn]] void kernel_entry() {
    using namespace pollux;
    uint64_t tsc_at_kmain = cpu::rdtsc();
    console::serial_init();
    printk("Pollux %s booting\n", POLLUX_VERSION);
    gdt::init();
    idt::init();
    if (!parse_boot_info(boot_info)) panic("boot: no usable boot information");
    if (!apply_embedded_image(boot_info)) machine_exit(kBadCommandLineStatus);
    apply_loglevel(Cmdline(boot_info.cmdline));
    printk(KERN_INFO "boot: %s, command line \"%s\"\n", boot_protocol_name(boot_info.protocol), boot_info.cmdline);
    print_memory_map();
    init_memory();
    // The LAPIC timer counts from here; init_time() measures it against the TSC.
    if (!lapic::start()) panic("time: no local APIC");
    int constructors = run_global_constructors();
    if (!(constructor_probe.stamp & 1)) panic("boot: global constructors did not run");
    printk(KERN_INFO "boot: %d global constructors run\n", constructors);
    // ACPI and PCI before the time: neither needs a clock, and the LAPIC timer's measurement
    // runs meanwhile.
    acpi::init(boot_info.rsdp_paddr);
    const acpi::PciEcam& ecam = acpi::pci_ecam();
    pci::init(low_ram_top(), ecam.base, ecam.start_bus, ecam.end_bus);
    init_time(tsc_at_kmain);
    init_interrupts();
    start_threads();
    // What the 100 ms launch target will be measured against, until there is an app to start.
    uint64_t now = cpu::rdtsc();
    printk(KERN_INFO "boot: ready %lu us after reset (%lu us in the kernel)\n", tsc::ticks_to_ns(now) / 1000,
           tsc::ticks_to_ns(now - boot_info.tsc_at_entry) / 1000);

    Cmdline cmdline(boot_info.cmdline);
    char test[64];
    if (cmdline.get("pollux.test", test, sizeof test) && !run_self_test(test)) machine_exit(kBadCommandLineStatus);
    if (boot_info.module_size) {
        printk(KERN_INFO "boot: application of %lu KiB at %#lx\n", boot_info.module_size / 1024, boot_info.module_paddr);
        user::init();
        if (!net::net_init(cmdline)) machine_exit(kBadCommandLineStatus);
        unix_register();  // named AF_UNIX stream sockets, over the root tree's socket nodes
        sys::install_console_fds();
        // Diagnostics and the vDSO boot tests' control (tests/boot/apps/vdso.c).
        if (cmdline.has("pollux.syscall_stats")) sys::enable_syscall_stats();
        char vdso[8];
        if (cmdline.get("pollux.vdso", vdso, sizeof vdso) && strcmp(vdso, "off") == 0) user::disable_vdso();
        // The module is the program, or an archive that holds it and its files (fs/root_fs.h).
        fs::InitProgram init =
            fs::mount_root(mm::phys_to_virt<const uint8_t>(boot_info.module_paddr), boot_info.module_size, cmdline);
        if (init.status != 0) machine_exit(init.status);
        if (!user::start_application(init.elf, init.size, init.args))
            machine_exit(kNoApplicationStatus);
        sched::exit_current();  // the application's threads run; the last to leave powers off
    }
    printk(KERN_INFO "boot: done; nothing to run yet, powering off\n");
    machine_exit(0);
}
