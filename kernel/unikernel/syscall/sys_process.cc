// Process and thread calls. One process (pid 1, like a container's init) whose threads are
// scheduler threads. The signal calls are signal/sys_signal.cc's.
#include <asm/prctl.h>
#include <linux/errno.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <linux/prctl.h>
#include <asm-generic/resource.h>  // not linux/resource.h: its linux/time.h clashes with glibc's
#include <linux/sched.h>
#include <linux/utsname.h>

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "console/printk.h"
#include "kernel/platform.h"
#include "mm/direct_map.h"
#include "mm/frame_allocator.h"
#include "mm/heap.h"
#include "platform/clock.h"
#include "sched/futex.h"
#include "sched/irq_guard.h"
#include "sched/scheduler.h"
#include "signal/internal.h"
#include "syscall/syscall.h"
#include "user/address_space.h"
#include "user/user_access.h"
#include "user/user_mode.h"

namespace pollux::sys {

using user::get;
using user::put;
namespace {

constexpr int64_t kPid = 1;

template <size_t N>
void set_field(char (&field)[N], const char* value) {
    size_t n = strlen(value);
    memcpy(field, value, n < N ? n : N - 1);
}

}  // namespace

int64_t sys_exit(const Args& a) { user::exit_thread(int(a.a0 & 0xff)); }
int64_t sys_exit_group(const Args& a) { user::exit_application(int(a.a0 & 0xff)); }
int64_t sys_getpid(const Args&) { return kPid; }
// The first application thread's tid is not 1 (the boot thread has it): gettid() == getpid()
// holds only for Linux's main thread, and nothing checks it.
int64_t sys_gettid(const Args&) { return sched::current()->tid; }
int64_t sys_getuid(const Args&) { return 0; }

int64_t sys_set_tid_address(const Args& a) {
    sched::current()->clear_child_tid = a.a0;
    return sched::current()->tid;
}

// The robust list matters when a thread dies holding a robust mutex; recorded nowhere yet
// since threads die only through exit(2), after unlocking.
int64_t sys_set_robust_list(const Args& a) { return a.a1 == 24 ? 0 : -EINVAL; }  // sizeof(robust_list_head)

// Linux lets a kernel without CONFIG_RSEQ answer ENOSYS; glibc and musl then do without.
int64_t sys_rseq(const Args&) { return -ENOSYS; }

int64_t sys_prlimit64(const Args& a) {
    if (a.a0 != 0 && int64_t(a.a0) != kPid) return -ESRCH;
    if (a.a1 >= RLIM_NLIMITS) return -EINVAL;
    struct {
        uint64_t rlim_cur, rlim_max;
    } limit{~0ull, ~0ull};  // RLIM64_INFINITY
    if (a.a1 == RLIMIT_STACK) limit.rlim_cur = user::kStackSize;
    if (a.a1 == RLIMIT_NOFILE) limit.rlim_cur = limit.rlim_max = uint64_t(platform::fd_limit());
    if (a.a3 && !put(a.a3, limit)) return -EFAULT;
    return 0;  // a new limit is accepted and not enforced
}

int64_t sys_getrlimit(const Args& a) {
    Args b{0, a.a0, 0, a.a1, 0, 0, a.frame};
    return sys_prlimit64(b);
}

int64_t sys_uname(const Args& a) {
    new_utsname u{};
    set_field(u.sysname, "Linux");  // what the app is written against
    set_field(u.nodename, "pollux");
    set_field(u.release, "6.1.0-pollux");
    set_field(u.version, "#1 SMP Pollux " POLLUX_VERSION);
    set_field(u.machine, "x86_64");
    set_field(u.domainname, "(none)");
    return put(a.a0, u) ? 0 : -EFAULT;
}

// struct sysinfo (include/uapi/linux/sysinfo.h) on x86_64: 112 bytes.
struct SysInfo {
    int64_t uptime;
    uint64_t loads[3];
    uint64_t totalram, freeram, sharedram, bufferram, totalswap, freeswap;
    uint16_t procs, pad;
    uint64_t totalhigh, freehigh;
    uint32_t mem_unit;
    char reserved[4];
};
static_assert(sizeof(SysInfo) == 112);

// do_sysinfo(): uptime in whole seconds rounded up as Linux does; RAM is what the memory map
// gave, free RAM the free frames and the heap's free bytes (this kernel's two pools); no
// swap, no load average kept (0), procs the application's threads.
int64_t sys_sysinfo(const Args& a) {
    SysInfo info{};
    uint64_t up = platform::monotonic_ns();
    info.uptime = int64_t((up + 999'999'999) / 1'000'000'000);
    info.totalram = mm::frames().ram_frames() * mm::kPageSize;
    info.freeram = mm::frames().free_frames() * mm::kPageSize + mm::heap_stats().free;
    if (info.freeram > info.totalram) info.freeram = info.totalram;
    {
        sched::IrqGuard guard;  // the thread list changes under interrupts
        info.procs = uint16_t(signal::detail::thread_count());
    }
    info.mem_unit = 1;
    return put(a.a0, info) ? 0 : -EFAULT;
}

int64_t sys_arch_prctl(const Args& a) {
    switch (a.a0) {
    case ARCH_SET_FS:
        if (a.a1 >= (1ull << 47)) return -EPERM;  // must be a canonical user address
        sched::current()->fs_base = a.a1;
        cpu::wrmsr(cpu::kMsrFsBase, a.a1);
        return 0;
    case ARCH_GET_FS: return put(a.a1, sched::current()->fs_base) ? 0 : -EFAULT;
    default: return -EINVAL;  // GS is the kernel's to keep free for SMP; CET is not offered
    }
}

// prctl(2) as kernel/sys.c answers the options programs and their libraries ask at start-up
// (pthread_setname_np for the calling thread, Redis's THP switch, sandboxing's no_new_privs);
// any other option is EINVAL, as for an option Linux does not know or was built without
// (PR_SET_VMA without CONFIG_ANON_VMA_NAME). One process: the process-wide flags are these
// variables; the parent-death signal is kept but never sent (pid 1 has no parent to lose).
int64_t sys_prctl(const Args& a) {
    static int dumpable = 1;  // SUID_DUMP_USER
    static bool no_new_privs = false, thp_disabled = false;
    static int pdeath_signal = 0;
    constexpr int kMaxSignal = 64;     // _NSIG
    constexpr uint64_t kLastCap = 40;  // CAP_LAST_CAP (CAP_CHECKPOINT_RESTORE)
    sched::Thread* self = sched::current();
    switch (a.a0) {
    case PR_SET_PDEATHSIG:
        if (a.a1 > kMaxSignal) return -EINVAL;
        pdeath_signal = int(a.a1);
        return 0;
    case PR_GET_PDEATHSIG: return put(a.a1, pdeath_signal) ? 0 : -EFAULT;
    case PR_GET_DUMPABLE: return dumpable;
    case PR_SET_DUMPABLE:
        if (a.a1 > 1) return -EINVAL;  // SUID_DUMP_DISABLE or SUID_DUMP_USER only
        dumpable = int(a.a1);
        return 0;
    case PR_SET_NAME: {
        // strncpy_from_user of at most 15 bytes, then the NUL: a longer name is cut short.
        char name[sizeof self->comm] = {};
        for (size_t i = 0; i + 1 < sizeof name; ++i) {
            if (!get(a.a1 + i, name[i])) return -EFAULT;
            if (name[i] == '\0') break;
        }
        memcpy(self->comm, name, sizeof name);
        return 0;
    }
    case PR_GET_NAME: {
        char name[sizeof self->comm] = {};
        strncpy(name, self->comm[0] ? self->comm : self->name, sizeof name - 1);  // "main" until set
        return put(a.a1, name) ? 0 : -EFAULT;
    }
    case PR_CAPBSET_READ: return a.a1 <= kLastCap ? 1 : -EINVAL;  // root with every capability
    case PR_SET_NO_NEW_PRIVS:
        if (a.a1 != 1 || a.a2 || a.a3 || a.a4) return -EINVAL;
        no_new_privs = true;  // for good, as on Linux
        return 0;
    case PR_GET_NO_NEW_PRIVS:
        if (a.a1 || a.a2 || a.a3 || a.a4) return -EINVAL;
        return no_new_privs;
    case PR_SET_THP_DISABLE:
        if (a.a2 || a.a3 || a.a4) return -EINVAL;
        thp_disabled = a.a1 != 0;  // no huge pages here either way
        return 0;
    case PR_GET_THP_DISABLE:
        if (a.a1 || a.a2 || a.a3 || a.a4) return -EINVAL;
        return thp_disabled;
    default: return -EINVAL;
    }
}

int64_t sys_getrandom(const Args& a) {
    uint64_t len = a.a1 > (1u << 25) ? 1u << 25 : a.a1;  // Linux caps one call at 32 MiB
    if (len && !user::accessible(a.a0, len, user::kProtWrite)) return -EFAULT;
    clock::entropy(reinterpret_cast<void*>(a.a0), len);
    return int64_t(len);
}

int64_t sys_sched_yield(const Args&) {
    sched::yield();
    return 0;
}

// One CPU: an 8-byte mask (a long, Linux's unit) with bit 0, and its size as the result.
int64_t sys_sched_getaffinity(const Args& a) {
    if (a.a1 < 8 || a.a1 % 8) return -EINVAL;
    int32_t pid = int32_t(a.a0);
    if (pid != 0 && pid != kPid) {
        sched::IrqGuard guard;  // the thread list changes under interrupts
        if (pid < 0 || !signal::detail::find_thread(pid)) return -ESRCH;
    }
    return put(a.a2, uint64_t{1}) ? 8 : -EFAULT;
}

int64_t sys_futex(const Args& a) {
    uint64_t uaddr = a.a0;
    int op = int(a.a1 & FUTEX_CMD_MASK);
    uint32_t val = uint32_t(a.a2);
    if (uaddr % 4) return -EINVAL;
    switch (op) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
        uint32_t bitset = op == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : uint32_t(a.a5);
        if (!bitset) return -EINVAL;
        if (!user::accessible(uaddr, 4, user::kProtRead)) return -EFAULT;
        uint64_t deadline = 0;
        if (a.a3) {
            struct {
                int64_t sec, nsec;
            } t;
            if (!get(a.a3, t)) return -EFAULT;
            if (t.sec < 0 || t.nsec < 0 || t.nsec >= 1'000'000'000) return -EINVAL;
            uint64_t ns = uint64_t(t.sec) * 1'000'000'000 + uint64_t(t.nsec);
            uint64_t now = clock::monotonic_ns();
            if (op == FUTEX_WAIT) {
                deadline = now + ns;  // relative, on CLOCK_MONOTONIC
            } else {
                // Absolute; FUTEX_CLOCK_REALTIME says on which clock.
                uint64_t clock_now = (a.a1 & FUTEX_CLOCK_REALTIME) ? clock::realtime_ns() : now;
                deadline = ns > clock_now ? now + (ns - clock_now) : now;
            }
            if (!deadline) deadline = 1;
        }
        int r = sched::futex_wait(reinterpret_cast<const volatile uint32_t*>(uaddr), val, bitset, deadline,
                                  /*interruptible=*/true);
        // A signal: Linux restarts an untimed wait after the handler (SA_RESTART) and fails a
        // timed one with EINTR (its restart block, which resumes the wait only when no handler
        // ran, is approximated by restarting with the same timeout: -ERESTARTNOHAND).
        if (r == -EINTR) return deadline ? -signal::detail::kERestartNoHand : -signal::detail::kERestartSys;
        return r;
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
        uint32_t bitset = op == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : uint32_t(a.a5);
        if (!bitset) return -EINVAL;
        return sched::futex_wake(reinterpret_cast<void*>(uaddr), int(val > 0x7fffffff ? 0x7fffffff : val), bitset);
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE:
        // Waking everyone is a correct (if eager) requeue: waiters must tolerate spurious
        // wake-ups, and old glibc condvars are the only users.
        if (op == FUTEX_CMP_REQUEUE && *reinterpret_cast<const volatile uint32_t*>(uaddr) != uint32_t(a.a5))
            return -EAGAIN;
        return sched::futex_wake(reinterpret_cast<void*>(uaddr), 0x7fffffff, FUTEX_BITSET_MATCH_ANY);
    default: return -ENOSYS;
    }
}

// membarrier(2) as kernel/sched/membarrier.c (6.1) answers it on one CPU, where every barrier
// is already there: the calls only check their arguments and the registrations. Built as a
// Linux without CONFIG_RSEQ (rseq is ENOSYS here), so the RSEQ commands are not offered and
// are EINVAL. SYNC_CORE needs no IPI: the return to CPL3 (iretq or sysret) serializes.
// musl's dynamic linker asks for it when a thread is created.
int64_t sys_membarrier(const Args& a) {
    constexpr int kOffered = MEMBARRIER_CMD_GLOBAL | MEMBARRIER_CMD_GLOBAL_EXPEDITED |
                             MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED |
                             MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED | MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE |
                             MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE;
    static bool private_ready = false, sync_core_ready = false;  // the process's registrations
    int cmd = int(a.a0);
    uint32_t flags = uint32_t(a.a1);
    if (cmd == MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ ? flags != 0 && flags != MEMBARRIER_CMD_FLAG_CPU : flags != 0)
        return -EINVAL;
    switch (cmd) {
    case MEMBARRIER_CMD_QUERY: return kOffered;
    case MEMBARRIER_CMD_GLOBAL:
    case MEMBARRIER_CMD_GLOBAL_EXPEDITED:
    case MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED: return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED: return private_ready ? 0 : -EPERM;
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED:
        private_ready = true;
        return 0;
    case MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE: return sync_core_ready ? 0 : -EPERM;
    case MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE:
        sync_core_ready = true;
        return 0;
    default: return -EINVAL;  // the RSEQ pair (no CONFIG_RSEQ), and unknown commands
    }
}

// Threads only (CLONE_VM | CLONE_THREAD, as pthread_create asks); a new process would need a
// second address space: fork and vfork fail with ENOSYS.
int64_t sys_clone(const Args& a) {
    uint64_t flags = a.a0, stack = a.a1, parent_tid = a.a2, child_tid = a.a3, tls = a.a4;
    constexpr uint64_t kThread = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
    if ((flags & kThread) != kThread) return -ENOSYS;
    InterruptFrame child = *a.frame;
    child.rax = 0;
    if (stack) child.rsp = stack;
    uint64_t fs = (flags & CLONE_SETTLS) ? tls : sched::current()->fs_base;
    sched::Thread* t = user::create_thread(child, fs, (flags & CLONE_CHILD_CLEARTID) ? child_tid : 0);
    if (!t) return -ENOMEM;
    memcpy(t->comm, sched::current()->comm, sizeof t->comm);
    inherit_sched_attributes(*sched::current(), *t);
    // Before the child can run, as Linux does: pthread_create and the child both read them.
    if (flags & CLONE_PARENT_SETTID) put(parent_tid, uint32_t(t->tid));
    if (flags & CLONE_CHILD_SETTID) put(child_tid, uint32_t(t->tid));
    sched::make_runnable(t);
    return t->tid;
}

// glibc 2.34+ tries clone3 first and falls back to clone on ENOSYS.
int64_t sys_clone3(const Args&) { return -ENOSYS; }

// getcpu(2): one CPU, one node. The vDSO answers the same without a trap; this is the path
// without a vDSO (pollux.vdso=off), where glibc's sched_getcpu ends up.
int64_t sys_getcpu(const Args& a) {
    for (uint64_t where : {a.a0, a.a1})
        if (where && !put(where, uint32_t(0))) return -EFAULT;
    return 0;
}

}  // namespace pollux::sys
