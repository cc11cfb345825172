#include "sched/scheduler.h"

#include <linux/errno.h>

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/idt.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/tsc.h"
#include "console/printk.h"
#include "mm/direct_map.h"
#include "mm/frame_allocator.h"
#include "mm/page_table.h"
#include "panic/panic.h"
#include "sched/irq_guard.h"

extern "C" void switch_context(uint64_t* save_rsp, uint64_t load_rsp);
extern "C" char thread_trampoline[];
extern "C" char boot_stack_guard[], boot_stack_top[];
extern "C" uint64_t syscall_kernel_rsp;  // user/syscall_entry.S

namespace pollux::sched {
namespace {

// Thread stacks live in their own slot of the higher half (PML4 entry 384), each 16 KiB over a
// 4 KiB hole that is never mapped: an overflow faults instead of corrupting a neighbour.
constexpr uint64_t kStackArea = 0xffffc00000000000;
constexpr uint64_t kStackPages = 4;
constexpr uint64_t kStackSlot = (kStackPages + 1) * mm::kPageSize;
constexpr uint64_t kMaxThreads = 4096;

struct PerCpu {
    Thread* current = nullptr;
    Thread* run_head = nullptr;
    Thread* run_tail = nullptr;
    Thread* idle = nullptr;
    uint64_t slice_end = 0;
    uint64_t timer_deadline = 0;  // what rearm armed the LAPIC timer for; 0: nothing (or it fired)
    uint64_t timer_programs = 0;  // lapic::timer_programs() then: a self-test may arm it too
    uint64_t run_start = 0;       // when current was put on the CPU
};
PerCpu cpu0;

Thread boot_thread;
Thread* sleepers = nullptr;  // by deadline
// Exited threads, linked by `next` (a dead thread is on no run queue): create() takes one's
// descriptor and stack before making new ones.
Thread* dead_threads = nullptr;
uint64_t next_stack_slot = 0;
int next_tid = 1;
bool started = false;
uint64_t application_ns = 0;  // the CPU time of application threads, up to their last switch
uint64_t application_sys = 0;  // its kernel-mode part, up to the last switch or return to CPL3
uint64_t application_voluntary = 0, application_involuntary = 0;

uint64_t now_ns() { return tsc::ticks_to_ns(cpu::rdtsc()); }

void enqueue(Thread* t) {
    t->next = nullptr;
    if (cpu0.run_tail)
        cpu0.run_tail->next = t;
    else
        cpu0.run_head = t;
    cpu0.run_tail = t;
}

Thread* dequeue() {
    Thread* t = cpu0.run_head;
    if (!t) return nullptr;
    cpu0.run_head = t->next;
    if (!cpu0.run_head) cpu0.run_tail = nullptr;
    t->next = nullptr;
    return t;
}

void sleep_insert(Thread* t) {
    Thread** p = &sleepers;
    while (*p && (*p)->deadline <= t->deadline) p = &(*p)->sleep_next;
    t->sleep_next = *p;
    *p = t;
    t->sleeping = true;
}

void sleep_remove(Thread* t) {
    if (!t->sleeping) return;
    for (Thread** p = &sleepers; *p; p = &(*p)->sleep_next) {
        if (*p == t) {
            *p = t->sleep_next;
            break;
        }
    }
    t->sleeping = false;
    t->sleep_next = nullptr;
}

// One-shot for the earliest event: a sleeper's deadline, or the slice's end when someone waits.
// Most context switches leave that event where it was (the first sleeper is a timer thread's
// 100 ms tick), and the timer is then left alone, as Linux's clockevents skip an unchanged
// expiry: every write of the count makes QEMU move its own timer, which wakes its main loop
// (an eventfd write and a ppoll return on the host, several per request before this).
void rearm(uint64_t now) {
    uint64_t next = ~0ull;
    if (sleepers) next = sleepers->deadline;
    if (cpu0.run_head && cpu0.slice_end < next) next = cpu0.slice_end;
    if (next == ~0ull) return;
    if (next == cpu0.timer_deadline && lapic::timer_programs() == cpu0.timer_programs) return;
    cpu0.timer_deadline = next;
    lapic::timer_oneshot(next > now ? next - now : 1);
    cpu0.timer_programs = lapic::timer_programs();
}

// Interrupts off. Picks the next thread; the current one goes to the back of the queue if it
// is still runnable.
void schedule() {
    Thread* prev = cpu0.current;
    if (prev->state == ThreadState::runnable && prev != cpu0.idle) enqueue(prev);
    Thread* next = dequeue();
    if (!next) next = cpu0.idle;
    uint64_t now = now_ns();
    uint64_t ran = now - cpu0.run_start;
    prev->cpu_ns += ran;
    if (prev->user) {
        application_ns += ran;
        if (prev->in_kernel) {
            prev->sys_ns += now - prev->kernel_since;
            application_sys += now - prev->kernel_since;
        }
        if (next != prev) {
            bool preempted = prev->state == ThreadState::runnable;
            ++(preempted ? prev->involuntary_switches : prev->voluntary_switches);
            ++(preempted ? application_involuntary : application_voluntary);
        }
    }
    // Always in its kernel half when it is switched to (schedule() runs there): the stretch
    // starts now.
    next->kernel_since = now;
    cpu0.run_start = now;
    cpu0.slice_end = now + kTimeSliceNs;
    rearm(now);
    if (next == prev) return;
    cpu0.current = next;
    gdt::set_kernel_stack(next->stack_top);
    syscall_kernel_rsp = next->stack_top;
    if (prev->user) prev->fs_base = cpu::rdmsr(cpu::kMsrFsBase);
    if (next->user) cpu::wrmsr(cpu::kMsrFsBase, next->fs_base);
    switch_context(&prev->saved_rsp, next->saved_rsp);
}

void on_timer(InterruptFrame&) {
    cpu0.timer_deadline = 0;
    lapic::eoi();
    uint64_t now = now_ns();
    while (sleepers && sleepers->deadline <= now) {
        Thread* t = sleepers;
        sleep_remove(t);
        if (t->state == ThreadState::blocked) {
            t->state = ThreadState::runnable;
            enqueue(t);
        }
    }
    if (cpu0.current == cpu0.idle || now >= cpu0.slice_end)
        schedule();
    else
        rearm(now);
}

[[noreturn]] void idle_loop(void*) {
    for (;;) {
        cpu::cli();
        if (cpu0.run_head) {
            schedule();
            cpu::sti();
        } else {
            cpu::sti_hlt();
        }
    }
}

// The stack for the first switch: what switch_context pops, returning into thread_trampoline.
uint64_t build_initial_stack(uint64_t top, void (*entry)(void*), void* arg) {
    uint64_t* sp = reinterpret_cast<uint64_t*>(top);
    // No padding: the ret leaves rsp = top (16-byte aligned), so the trampoline's call enters
    // the thread's function with rsp = 8 mod 16, as the ABI requires (SSE spills use movdqa).
    *--sp = uint64_t(thread_trampoline);
    *--sp = 0;                // rbp
    *--sp = uint64_t(entry);  // rbx
    *--sp = uint64_t(arg);    // r12
    *--sp = 0;                // r13
    *--sp = 0;                // r14
    *--sp = 0;                // r15
    uint64_t after_regs = uint64_t(sp);
    uint64_t fx = (after_regs - 512) & ~15ull;
    memset(reinterpret_cast<void*>(fx), 0, 512);
    // FXSAVE image (SDM Vol. 1 10.5.1): FCW and MXCSR at their reset values, all exceptions masked.
    *reinterpret_cast<uint16_t*>(fx) = 0x37f;
    *reinterpret_cast<uint32_t*>(fx + 24) = 0x1f80;
    sp = reinterpret_cast<uint64_t*>(fx);
    *--sp = after_regs;
    return uint64_t(sp);
}

}  // namespace

void init() {
    boot_thread.name = "main";
    boot_thread.tid = next_tid++;
    boot_thread.stack_bottom = uint64_t(boot_stack_guard) + mm::kPageSize;
    boot_thread.stack_top = uint64_t(boot_stack_top);
    cpu0.current = &boot_thread;
    cpu0.idle = create(idle_loop, nullptr, "idle");
    if (!cpu0.idle) panic("sched: no memory for the idle thread");
    idt::set_handler(idt::kVectorLapicTimer, on_timer);
    started = true;
    IrqGuard guard;
    cpu0.run_start = now_ns();
    cpu0.slice_end = cpu0.run_start + kTimeSliceNs;
    cpu0.timer_deadline = cpu0.slice_end;
    lapic::timer_oneshot(kTimeSliceNs);
    cpu0.timer_programs = lapic::timer_programs();
}

bool running() { return started; }
Thread* current() { return cpu0.current; }

namespace {

// A new descriptor and stack: a slot of the stack area, its pages mapped.
Thread* new_thread() {
    if (next_stack_slot == kMaxThreads) return nullptr;
    uint64_t base = kStackArea + next_stack_slot * kStackSlot + mm::kPageSize;  // above the hole
    for (uint64_t i = 0; i < kStackPages; ++i) {
        uint64_t frame = mm::frames().alloc();
        if (!frame) return nullptr;
        mm::map_kernel_page(base + i * mm::kPageSize, frame, mm::kPtePresent | mm::kPteWritable | mm::kPteGlobal);
    }
    ++next_stack_slot;
    Thread* t = new Thread;
    t->stack_bottom = base;
    t->stack_top = base + kStackPages * mm::kPageSize;
    return t;
}

// An exited thread's descriptor and stack, as good as new. It is not running: exit_current()
// queued it with interrupts off and switched away, and one CPU runs nothing in between (SMP
// would need Linux's finish_task_switch(): freed only once the next thread runs).
Thread* reused_thread() {
    Thread* t = dead_threads;
    if (!t) return nullptr;
    dead_threads = t->next;
    uint64_t bottom = t->stack_bottom, top = t->stack_top;
    *t = Thread{};
    t->stack_bottom = bottom;
    t->stack_top = top;
    return t;
}

}  // namespace

Thread* create(void (*entry)(void*), void* arg, const char* name, uint64_t top_reserve) {
    IrqGuard guard;
    Thread* t = reused_thread();
    if (!t) t = new_thread();
    if (!t) return nullptr;
    t->name = name;
    t->tid = next_tid++;
    t->saved_rsp = build_initial_stack(t->stack_top - top_reserve, entry, arg);
    t->state = ThreadState::blocked;
    return t;
}

void set_entry(Thread* t, void (*entry)(void*), void* arg) {
    // build_initial_stack's layout: saved rsp slot, FXSAVE image, then r15 r14 r13 r12 rbx.
    auto* regs = reinterpret_cast<uint64_t*>(*reinterpret_cast<uint64_t*>(t->saved_rsp));
    regs[3] = uint64_t(arg);    // r12
    regs[4] = uint64_t(entry);  // rbx
}

void make_runnable(Thread* t) {
    IrqGuard guard;
    t->state = ThreadState::runnable;
    enqueue(t);
    if (started) rearm(now_ns());
}

Thread* spawn(void (*fn)(void*), void* arg, const char* name) {
    Thread* t = create(fn, arg, name);
    if (t) make_runnable(t);
    return t;
}

void yield() {
    if (!started) return;
    IrqGuard guard;
    schedule();
}

bool block(uint64_t deadline_ns) {
    Thread* self = cpu0.current;
    self->state = ThreadState::blocked;
    self->woken = false;
    if (deadline_ns) {
        self->deadline = deadline_ns;
        sleep_insert(self);
    }
    schedule();
    sleep_remove(self);
    return self->woken;
}

namespace {
void make_ready(Thread* t) {
    sleep_remove(t);
    t->state = ThreadState::runnable;
    enqueue(t);
    rearm(now_ns());  // the queue may just have become non-empty: the slice must end on time
}
}  // namespace

void wake(Thread* t) {
    if (t->state != ThreadState::blocked) return;
    t->woken = true;
    make_ready(t);
}

void sleep_until(uint64_t deadline_ns) {
    IrqGuard guard;
    while (now_ns() < deadline_ns) block(deadline_ns);
}

int block_interruptible(uint64_t deadline_ns) {
    Thread* self = cpu0.current;
    if (self->sigpending) return -EINTR;
    self->interruptible = true;
    self->interrupted = false;
    bool woken = block(deadline_ns);
    self->interruptible = false;
    if (woken) return 0;
    return self->interrupted ? -EINTR : -ETIMEDOUT;
}

void interrupt(Thread* t) {
    if (t->state != ThreadState::blocked || !t->interruptible) return;
    t->interrupted = true;
    make_ready(t);
}

int sleep_until_interruptible(uint64_t deadline_ns) {
    IrqGuard guard;
    while (now_ns() < deadline_ns)
        if (block_interruptible(deadline_ns) == -EINTR) return -EINTR;
    return 0;
}

void exit_current() {
    cpu::cli();
    Thread* self = cpu0.current;
    self->state = ThreadState::dead;
    // The stack stays mapped for the next thread create() makes (the boot stack is no slot's).
    if (self != &boot_thread) {
        self->next = dead_threads;
        dead_threads = self;
    }
    schedule();
    panic("sched: a dead thread was scheduled");
}

uint64_t thread_cpu_ns(const Thread* t) {
    IrqGuard guard;
    return t->cpu_ns + (t == cpu0.current ? now_ns() - cpu0.run_start : 0);
}

uint64_t application_cpu_ns() {
    IrqGuard guard;
    return application_ns + (cpu0.current->user ? now_ns() - cpu0.run_start : 0);
}

CpuTimes thread_times(const Thread* t) {
    IrqGuard guard;
    uint64_t now = now_ns();
    bool on_cpu = t == cpu0.current;
    uint64_t cpu = t->cpu_ns + (on_cpu ? now - cpu0.run_start : 0);
    uint64_t sys = t->sys_ns + (on_cpu && t->in_kernel ? now - t->kernel_since : 0);
    return {cpu - sys, sys};
}

CpuTimes application_times() {
    IrqGuard guard;
    uint64_t now = now_ns();
    const Thread* t = cpu0.current;
    uint64_t cpu = application_ns + (t->user ? now - cpu0.run_start : 0);
    uint64_t sys = application_sys + (t->user && t->in_kernel ? now - t->kernel_since : 0);
    return {cpu - sys, sys};
}

void application_switches(uint64_t& voluntary, uint64_t& involuntary) {
    IrqGuard guard;
    voluntary = application_voluntary;
    involuntary = application_involuntary;
}

void kernel_entered_from_user() {
    Thread* t = cpu0.current;
    t->in_kernel = true;
    t->kernel_since = now_ns();
}

void returning_to_user() {
    Thread* t = cpu0.current;
    if (!t->in_kernel) return;
    uint64_t stretch = now_ns() - t->kernel_since;
    t->sys_ns += stretch;
    application_sys += stretch;
    t->in_kernel = false;
}

uint64_t kernel_entry_stack() { return cpu0.current->stack_top; }

bool on_thread_stack(uint64_t addr) {
    if (addr >= kStackArea && addr < kStackArea + next_stack_slot * kStackSlot)
        return (addr - kStackArea) % kStackSlot >= mm::kPageSize;
    return false;
}

bool in_thread_guard(uint64_t addr) {
    return addr >= kStackArea && addr < kStackArea + next_stack_slot * kStackSlot &&
           (addr - kStackArea) % kStackSlot < mm::kPageSize;
}

}  // namespace pollux::sched

extern "C" void thread_entry_returned() { pollux::sched::exit_current(); }
