#include "panic/panic.h"

#include <cstdarg>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "boot/power.h"
#include "console/printk.h"
#include "panic/symbols.h"

namespace pollux {
namespace {

// SDM Vol. 3A table 6-1.
const char* const kExceptionNames[32] = {
    "#DE divide error",     "#DB debug",           "NMI",
    "#BP breakpoint",       "#OF overflow",        "#BR bound range",
    "#UD invalid opcode",   "#NM no math coprocessor", "#DF double fault",
    "coprocessor segment overrun", "#TS invalid TSS", "#NP segment not present",
    "#SS stack-segment fault", "#GP general protection", "#PF page fault",
    "reserved 15",          "#MF x87 FPU error",   "#AC alignment check",
    "#MC machine check",    "#XM SIMD floating-point", "#VE virtualization",
    "#CP control protection", "reserved 22", "reserved 23", "reserved 24", "reserved 25",
    "reserved 26", "reserved 27", "#HV hypervisor injection", "#VC VMM communication",
    "#SX security", "reserved 31"};

constexpr uint64_t kVectorDoubleFault = 8, kVectorPageFault = 14;
constexpr int kMaxFrames = 24;

bool in_panic = false;

void print_address(const char* prefix, uint64_t addr, uint64_t lookup) {
    Symbol sym;
    if (symbolize(lookup, sym))
        printk("%s%016lx <%s+%#lx>\n", prefix, addr, sym.name, sym.offset + (addr - lookup));
    else
        printk("%s%016lx <?>\n", prefix, addr);
}

// Frame-pointer walk: [rbp] is the caller's rbp, [rbp+8] the return address. Only addresses
// on a known kernel stack are read, so a corrupt chain ends the walk instead of faulting.
void backtrace(uint64_t rbp) {
    printk("backtrace:\n");
    for (int depth = 0; depth < kMaxFrames; ++depth) {
        if (rbp & 7 || !gdt::on_known_stack(rbp) || !gdt::on_known_stack(rbp + 8)) return;
        auto* frame = reinterpret_cast<const uint64_t*>(rbp);
        uint64_t ret = frame[1];
        if (!ret) return;
        char prefix[16];
        ksnprintf(prefix, sizeof prefix, "  #%-2d ", depth);
        // A return address points after the call: look up ret-1 to name the caller, not
        // whatever function follows a tail call.
        print_address(prefix, ret, ret - 1);
        if (frame[0] <= rbp) return;  // the chain must go up the stack
        rbp = frame[0];
    }
    printk("  ... (more frames)\n");
}

[[noreturn]] void stop() {
    printk("stopping the machine (exit status %d)\n", kPanicExitStatus);
    machine_exit(kPanicExitStatus);
}

bool enter_panic() {
    cpu::cli();
    set_console_loglevel(kDefaultConsoleLoglevel);  // a panic report is never quiet
    if (in_panic) {
        printk("\n*** nested panic: stopping\n");
        machine_exit(kPanicExitStatus);
    }
    in_panic = true;
    return true;
}

}  // namespace

void panic(const char* fmt, ...) {
    enter_panic();
    printk("\n*** KERNEL PANIC: ");
    va_list ap;
    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
    printk("\n");
    backtrace(cpu::read_rbp());
    stop();
}

void exception_panic(const InterruptFrame& f) {
    enter_panic();
    uint64_t v = f.vector;
    printk("\n*** KERNEL PANIC: CPU exception %lu (%s), error code %#lx\n", v, kExceptionNames[v & 31],
           f.error_code);
    if (v == kVectorPageFault) {
        // SDM Vol. 3A 4.7, figure 4-12: P, W/R, U/S, RSVD, I/D bits of the error code.
        uint64_t e = f.error_code;
        printk("CR2=%016lx (faulting address): %s, %s%s, %s mode\n", cpu::read_cr2(),
               e & 16 ? "instruction fetch" : e & 2 ? "write" : "read",
               e & 1 ? "protection violation" : "page not present", e & 8 ? ", reserved bit set" : "",
               e & 4 ? "user" : "kernel");
    } else {
        printk("CR2=%016lx\n", cpu::read_cr2());
    }
    // A #PF on a guard page, or the #DF it turns into when the CPU cannot push the #PF frame
    // onto that same stack: name the overflow instead of leaving it to the reader.
    if (v == kVectorPageFault || v == kVectorDoubleFault) {
        if (const char* owner = gdt::stack_guard_owner(cpu::read_cr2()))
            printk("CR2 is in the guard page under the %s stack: stack overflow\n", owner);
    }
    print_address("RIP=", f.rip, f.rip);
    Symbol ignored;
    if (!symbolize(f.rip, ignored) && gdt::on_known_stack(f.rsp)) {
        // A call through a bad pointer: RIP is the bad target, and the return address the
        // call pushed is still on top of the stack and names the caller.
        print_address("[RSP]=", *reinterpret_cast<const uint64_t*>(f.rsp), *reinterpret_cast<const uint64_t*>(f.rsp) - 1);
    }
    printk("RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n", f.rax, f.rbx, f.rcx, f.rdx);
    printk("RSI=%016lx RDI=%016lx RBP=%016lx RSP=%016lx\n", f.rsi, f.rdi, f.rbp, f.rsp);
    printk("R8 =%016lx R9 =%016lx R10=%016lx R11=%016lx\n", f.r8, f.r9, f.r10, f.r11);
    printk("R12=%016lx R13=%016lx R14=%016lx R15=%016lx\n", f.r12, f.r13, f.r14, f.r15);
    printk("CS=%04lx SS=%04lx RFLAGS=%016lx CR0=%016lx CR3=%016lx CR4=%016lx\n", f.cs, f.ss, f.rflags,
           cpu::read_cr0(), cpu::read_cr3(), cpu::read_cr4());
    backtrace(f.rbp);
    stop();
}

}  // namespace pollux
