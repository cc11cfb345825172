#include "user/user_mode.h"

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "boot/power.h"
#include "console/printk.h"
#include "eventpoll/sys.h"
#include "mm/page_table.h"
#include "panic/symbols.h"
#include "sched/futex.h"
#include "sched/irq_guard.h"
#include "sched/scheduler.h"
#include "signal/signal.h"
#include "net/net_stats.h"
#include "netstack/stack.h"
#include "platform/clock.h"
#include "syscall/syscall_stats.h"

extern "C" char syscall_entry[];
extern "C" [[noreturn]] void enter_user(pollux::InterruptFrame* frame);

namespace pollux::user {
namespace {

// SDM Vol. 4 table 2-2; Vol. 3A 5.8.8 for what each holds.
constexpr uint32_t kMsrStar = 0xc0000081, kMsrLstar = 0xc0000082, kMsrFmask = 0xc0000084;
constexpr uint64_t kEferSce = 1;
// Cleared on entry, as Linux does: TF, DF, IF, IOPL, NT, AC.
constexpr uint64_t kSyscallMask = 0x47700;

int live_threads = 0;

void user_thread_entry(void* frame) {
    {
        sched::IrqGuard guard;
        sched::returning_to_user();  // its first stretch in the kernel ends here
    }
    enter_user(static_cast<InterruptFrame*>(frame));
}

const char* signal_name(int sig) {
    switch (sig) {
    case signal::kSigIll: return "SIGILL";
    case signal::kSigTrap: return "SIGTRAP";
    case signal::kSigBus: return "SIGBUS";
    case signal::kSigFpe: return "SIGFPE";
    default: return "SIGSEGV";
    }
}

}  // namespace

void init() {
    cpu::wrmsr(cpu::kMsrEfer, cpu::rdmsr(cpu::kMsrEfer) | kEferSce);
    // STAR[47:32]: kernel CS (SS = +8); STAR[63:48]: base for SYSRET (SS = +8, CS = +16).
    uint64_t star = uint64_t(gdt::kKernelCode) << 32 | uint64_t(gdt::kUserCode32 | 3) << 48;
    cpu::wrmsr(kMsrStar, star);
    cpu::wrmsr(kMsrLstar, uint64_t(syscall_entry));
    cpu::wrmsr(kMsrFmask, kSyscallMask);
}

sched::Thread* create_thread(const InterruptFrame& frame, uint64_t fs_base, uint64_t clear_child_tid) {
    constexpr uint64_t kFrame = sizeof(InterruptFrame);
    static_assert(kFrame % 16 == 0);
    sched::Thread* t = sched::create(nullptr, nullptr, "app", kFrame);
    if (!t) return nullptr;
    auto* copy = reinterpret_cast<InterruptFrame*>(t->stack_top - kFrame);
    memcpy(copy, &frame, kFrame);
    // create() could not know the argument's address before the stack existed: patch r12.
    sched::set_entry(t, user_thread_entry, copy);
    t->user = true;
    sched::Thread* creator = sched::current();
    signal::thread_started(t, creator->user ? creator : nullptr);
    t->fs_base = fs_base;
    t->clear_child_tid = clear_child_tid;
    {
        sched::IrqGuard guard;
        ++live_threads;
    }
    return t;
}

void fatal_exception(const InterruptFrame& f, int sig) {
    static const char* const kNames[32] = {"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO",
                                           "#TS", "#NP", "#SS", "#GP", "#PF", "15",  "#MF", "#AC", "#MC", "#XM",
                                           "#VE", "#CP", "22",  "23",  "24",  "25",  "26",  "27",  "28",  "29",
                                           "30",  "31"};
    sched::Thread* self = sched::current();
    printk("\n*** application fault: %s in thread %d (%s), %s at RIP=%016lx, error code %#lx\n",
           kNames[f.vector & 31], self->tid, self->name, signal_name(sig), f.rip, f.error_code);
    if (f.vector == 14) {
        uint64_t e = f.error_code;
        printk("CR2=%016lx (faulting address): %s, %s, %s mode\n", cpu::read_cr2(),
               e & 16 ? "instruction fetch" : e & 2 ? "write" : "read",
               e & 1 ? "protection violation" : "page not present", e & 4 ? "user" : "kernel (inside a syscall)");
    }
    printk("RAX=%016lx RBX=%016lx RCX=%016lx RDX=%016lx\n", f.rax, f.rbx, f.rcx, f.rdx);
    printk("RSI=%016lx RDI=%016lx RBP=%016lx RSP=%016lx\n", f.rsi, f.rdi, f.rbp, f.rsp);
    printk("R8 =%016lx R9 =%016lx R10=%016lx R11=%016lx\n", f.r8, f.r9, f.r10, f.r11);
    printk("R12=%016lx R13=%016lx R14=%016lx R15=%016lx\n", f.r12, f.r13, f.r14, f.r15);
    printk("application killed by signal %d (%s): exit status %d\n", sig, signal_name(sig), 128 + sig);
    exit_application(128 + sig);
}

namespace {

// How long a machine about to power off waits for its peers to acknowledge the FINs its
// closing sockets sent: one round trip is microseconds on a TAP, and a dead peer must not hold
// the power-off for long.
constexpr uint64_t kLingerNs = 200'000'000;

// The thread ending the application; every other application thread leaves at its next
// return to user mode (Linux's zap_other_threads in exit_group), having dropped whatever locks
// it held in the kernel on the way there.
sched::Thread* exiting_thread = nullptr;

bool interrupts_on() {
    uint64_t flags;
    asm volatile("pushfq; popq %0" : "=r"(flags));
    return (flags & (1u << 9)) != 0;
}

// Linux's exit_files: every descriptor closes, so every connected TCP peer gets a FIN (or a
// RST for unread data). Linux's stack then goes on without the process; this machine powers
// off instead, so it waits, a bounded time, for the peers to acknowledge.
void close_files() {
    (void)pollux::sys_close_range(0, ~0u, 0);
    uint64_t deadline = clock::monotonic_ns() + kLingerNs;
    while (net::tcp_fins_in_flight() > 0 && clock::monotonic_ns() < deadline)
        sched::sleep_until(clock::monotonic_ns() + 1'000'000);
}

}  // namespace

bool leaving(const sched::Thread* t) { return exiting_thread != nullptr && t->user && t != exiting_thread; }
bool exiting() { return exiting_thread != nullptr; }

void exit_application(int status) {
    // Where the exit comes with interrupts masked (a signal's default action, taken inside the
    // signal code's critical section) it cannot sleep: the machine powers off at once, the
    // files unclosed.
    bool may_sleep = interrupts_on();
    {
        sched::IrqGuard guard;
        if (exiting_thread != nullptr && exiting_thread != sched::current()) sched::exit_current();  // lost the race
        exiting_thread = sched::current();
    }
    signal::stop_timers();  // the lines below take time: no SIGALRM must land in them
    if (may_sleep) close_files();
    sys::print_syscall_stats();
    net::netstats_at_exit();
    printk(KERN_INFO "app: exited with status %d\n", status);
    machine_exit(status);
}

void exit_thread(int status) {
    sched::Thread* self = sched::current();
    if (self->clear_child_tid) {
        // CLONE_CHILD_CLEARTID (clone(2)): what pthread_join waits on.
        *reinterpret_cast<volatile uint32_t*>(self->clear_child_tid) = 0;
        sched::futex_wake(reinterpret_cast<void*>(self->clear_child_tid), 1, sched::kFutexBitsetAny);
    }
    signal::thread_exiting(self);
    bool last;
    {
        sched::IrqGuard guard;
        last = --live_threads == 0;
    }
    if (last) exit_application(status);  // outside the guard: it may sleep
    sched::exit_current();
}

}  // namespace pollux::user
