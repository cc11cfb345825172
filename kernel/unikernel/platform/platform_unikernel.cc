// kernel/include/kernel/platform.h over the unikernel's scheduler and hardware.
//
// The core's timer service runs on a kernel thread of its own ("timer"): it sleeps until the
// earliest deadline, and timer_deadline_changed() wakes it early. Its callbacks thus run in
// thread context, may take the core's locks and never run inside an interrupt handler.
#include <linux/errno.h>

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/tsc.h"
#include "fs/root_fs.h"
#include "fs/vfs.h"
#include "kernel/platform.h"
#include "kernel/timer.h"
#include "mm/heap.h"
#include "panic/panic.h"
#include "platform/clock.h"
#include "sched/futex.h"
#include "sched/irq_guard.h"
#include "sched/scheduler.h"
#include "signal/signal.h"
#include "syscall/syscall.h"
#include "user/user_mode.h"

namespace pollux::platform {

uint64_t monotonic_ns() { return clock::monotonic_ns(); }
uint64_t realtime_ns() { return clock::realtime_ns(); }
// No suspend in a unikernel: boot time and monotonic time are the same clock.
uint64_t boottime_ns() { return clock::monotonic_ns(); }

WaitStatus futex_wait(std::atomic<uint32_t>& word, uint32_t expected, uint64_t deadline_ns, bool interruptible) {
    static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t));
    int r = sched::futex_wait(reinterpret_cast<const volatile uint32_t*>(&word), expected, sched::kFutexBitsetAny,
                              deadline_ns, interruptible);
    if (r == -EINTR) return WaitStatus::interrupted;  // a signal for the application thread
    return r == -ETIMEDOUT ? WaitStatus::timed_out : WaitStatus::woken;
}

void futex_wake(std::atomic<uint32_t>& word, int count) {
    sched::futex_wake(&word, count, sched::kFutexBitsetAny);
}

void cpu_relax() { cpu::pause(); }
bool process_exiting() { return user::exiting(); }
int mutex_spins() { return 0; }  // one CPU: a held mutex's holder is not running
// One CPU: while this thread polls, no other could be producing what it waits for.
uint64_t park_spin_ns() { return 0; }
void set_park_spin_ns(uint64_t) {}
bool park_spin_adaptive() { return false; }
void park_waited(uint64_t) {}

void entropy(void* buf, size_t len) { clock::entropy(buf, len); }

void spawn_kernel_thread(void (*fn)(void*), void* arg, const char* name) {
    if (!sched::spawn(fn, arg, name)) panic("platform: cannot start kernel thread %s", name);
}

void yield() { sched::yield(); }

uintptr_t thread_self() { return reinterpret_cast<uintptr_t>(sched::current()); }

// Per CPU (one CPU): the nesting depth and whether interrupts were on at the outermost level.
namespace {
unsigned irq_depth = 0;
bool irq_were_on = false;
}  // namespace

void irq_disable_nested() {
    uint64_t flags;
    asm volatile("pushfq; popq %0; cli" : "=r"(flags)::"memory");
    if (irq_depth++ == 0) irq_were_on = (flags & (1u << 9)) != 0;
}

void irq_enable_nested() {
    if (--irq_depth == 0 && irq_were_on) asm volatile("sti" ::: "memory");
}

// The heap is backed up front; callers get zeroed memory at once rather than on touch.
void* reserve_zeroed(size_t bytes) {
    void* p = mm::heap_alloc(bytes);
    if (p) memset(p, 0, bytes);
    if (!p) panic("platform: cannot reserve %zu bytes", bytes);
    return p;
}

// Descriptor numbers: nothing else shares the space here, so a bitmap is the whole story.
// 0-2 are the console's from the start, as a Linux process inherits them.
namespace {
constexpr int kFdCapacity = 65536;
uint64_t fd_bitmap[kFdCapacity / 64] = {0x7};
bool fd_used(int fd) { return fd_bitmap[fd / 64] >> (fd % 64) & 1; }
}  // namespace

int fd_limit() { return kFdCapacity; }
int fd_capacity() { return kFdCapacity; }

int reserve_fd(int min_fd) {
    sched::IrqGuard guard;
    for (int fd = min_fd < 0 ? 0 : min_fd; fd < kFdCapacity; ++fd) {
        if (!fd_used(fd)) {
            fd_bitmap[fd / 64] |= 1ull << (fd % 64);
            return fd;
        }
    }
    return -EMFILE;
}

int reserve_fd_at(int fd) {
    if (fd < 0 || fd >= kFdCapacity) return -EBADF;
    sched::IrqGuard guard;
    fd_bitmap[fd / 64] |= 1ull << (fd % 64);
    return fd;
}

void release_fd(int fd) {
    if (fd < 0 || fd >= kFdCapacity) return;
    sched::IrqGuard guard;
    fd_bitmap[fd / 64] &= ~(1ull << (fd % 64));
}

namespace {
std::atomic<uint32_t> timer_kicks{0};

void timer_service(void*) {
    for (;;) {
        uint32_t kicks = timer_kicks.load(std::memory_order_acquire);
        uint64_t next = timer_run_expired(monotonic_ns());
        platform::futex_wait(timer_kicks, kicks, next);
    }
}
}  // namespace

void timer_deadline_changed() {
    timer_kicks.fetch_add(1, std::memory_order_release);
    futex_wake(timer_kicks, 1);
}

void start_timer_service() { spawn_kernel_thread(timer_service, nullptr, "timer"); }

// Signals are signal/'s: a pending one ends the waits above (WaitStatus::interrupted) and its
// handler runs on the way back to user mode.
void raise_sigpipe() { signal::raise_sigpipe(); }
bool sigmask_swap(const uint64_t* mask, uint64_t* old) { return signal::sigmask_swap(mask, old); }
long max_user_watches() { return 1 << 20; }
bool signal_restarts_syscall() { return signal::restarts_syscall(); }
bool capable_net_admin() { return true; }        // the one application owns the machine
Credentials credentials() { return {1, 0, 0}; }  // pid 1, root: what getpid and getuid say

// The root tree's inode numbers are never reused, so the number alone names a node.
int unix_mknod(const char* path, bool create, UnixNode& node) {
    node.dev = 0;
    return fs::mknod_socket(fs::root_fs(), path, strlen(path), create, &node.ino);
}
int unix_find_node(const char* path, UnixNode& node) {
    node.dev = 0;
    return fs::find_socket(fs::root_fs(), path, strlen(path), &node.ino);
}

}  // namespace pollux::platform
