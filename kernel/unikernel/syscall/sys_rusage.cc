// Resource usage: getrusage and times, from the scheduler's user/system split of the
// application threads' CPU time (sched::application_times, thread_times), their context
// switches, and the address space's page counts. There are no child processes, so
// RUSAGE_CHILDREN and the children's times are zero, as for a Linux process that never forked.
#include <linux/errno.h>

#include "eventpoll/sys.h"
#include "mm/direct_map.h"
#include "platform/clock.h"
#include "sched/irq_guard.h"
#include "sched/scheduler.h"
#include "syscall/syscall.h"
#include "user/address_space.h"
#include "user/user_access.h"

namespace pollux::sys {
namespace {

constexpr int kRusageSelf = 0, kRusageChildren = -1, kRusageThread = 1;
constexpr uint64_t kUserHz = 100;  // USER_HZ: the unit of clock_t

// struct rusage (include/uapi/linux/resource.h) on x86_64.
struct Rusage {
    Timeval utime, stime;
    int64_t maxrss, ixrss, idrss, isrss, minflt, majflt, nswap, inblock, oublock, msgsnd, msgrcv, nsignals, nvcsw,
        nivcsw;
};
static_assert(sizeof(Rusage) == 144);

Timeval timeval_of(uint64_t ns) { return {int64_t(ns / 1'000'000'000), int64_t(ns % 1'000'000'000 / 1000)}; }

}  // namespace

// getrusage(2): `who` first (EINVAL), then the copy (EFAULT), as kernel/sys.c. RUSAGE_THREAD
// has the thread's own times and switches, and, as on Linux, the process's maxrss; its minor
// faults are the process's too (they are not counted per thread here).
int64_t sys_getrusage(const Args& a) {
    int who = int(a.a0);
    if (who != kRusageSelf && who != kRusageChildren && who != kRusageThread) return -EINVAL;
    Rusage r{};
    if (who != kRusageChildren) {
        sched::CpuTimes times{};
        sched::Thread* t = sched::current();
        if (who == kRusageThread) {
            times = sched::thread_times(t);
            sched::IrqGuard guard;
            r.nvcsw = int64_t(t->voluntary_switches);
            r.nivcsw = int64_t(t->involuntary_switches);
        } else {
            times = sched::application_times();
            uint64_t voluntary, involuntary;
            sched::application_switches(voluntary, involuntary);
            r.nvcsw = int64_t(voluntary);
            r.nivcsw = int64_t(involuntary);
        }
        r.utime = timeval_of(times.user_ns);
        r.stime = timeval_of(times.sys_ns);
        user::MemoryUse m = user::memory_use();
        r.maxrss = int64_t(m.peak_pages * mm::kPageSize / 1024);
        r.minflt = int64_t(m.minor_faults);
    }
    return user::put(a.a1, r) ? 0 : -EFAULT;
}

// times(2): the process's user and system time in USER_HZ ticks (the children's are 0), and
// the ticks since boot as the result; a null buffer is allowed.
int64_t sys_times(const Args& a) {
    sched::CpuTimes times = sched::application_times();
    int64_t tms[4] = {int64_t(times.user_ns / (1'000'000'000 / kUserHz)),
                      int64_t(times.sys_ns / (1'000'000'000 / kUserHz)), 0, 0};
    if (a.a0 && !user::put(a.a0, tms)) return -EFAULT;
    return int64_t(clock::monotonic_ns() / (1'000'000'000 / kUserHz));
}

}  // namespace pollux::sys
