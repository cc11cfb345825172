// The platform layer: the few services the core needs from whatever runs beneath it.
//
// The hosted runtime implements these over Linux (kernel/hosted/), the unikernel over its own
// scheduler and hardware. Everything above (timers, fd table, eventpoll, netstack) is the same
// code on both. Times are nanoseconds; deadlines are absolute CLOCK_MONOTONIC values and 0
// means "no deadline".
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace pollux::platform {

uint64_t monotonic_ns();
uint64_t realtime_ns();
uint64_t boottime_ns();

enum class WaitStatus { woken, timed_out, interrupted };

// Blocks the calling thread while *word == expected, until futex_wake, the deadline, or a
// signal interrupts it. Spurious returns are allowed: callers re-check. A lock's wait is not
// interruptible (Linux's TASK_UNINTERRUPTIBLE): in the unikernel a signal stays pending until
// the system call returns, so an interruptible lock wait would spin until then; hosted, the
// host runs the handler inside the wait and the flag changes nothing.
WaitStatus futex_wait(std::atomic<uint32_t>& word, uint32_t expected, uint64_t deadline_ns,
                      bool interruptible = true);
void futex_wake(std::atomic<uint32_t>& word, int count);

void cpu_relax();
// The application is exiting (Linux's PF_EXITING): its closing sockets do not linger.
bool process_exiting();
// How many cpu_relax() rounds a contended Mutex spins before it sleeps: 0 where its holder
// cannot be running meanwhile (one CPU).
int mutex_spins();
// How long park() polls for its token before it sleeps: a wake-up that comes within it costs
// neither side a futex call nor a context switch. 0 where nothing else could run meanwhile
// (the unikernel's one CPU, a single-CPU host).
// Hosted, unless POLLUX_POLL_US fixes it, the figure adapts to the calling thread's waits.
uint64_t park_spin_ns();
// Replaces it with a fixed figure (hosted: what POLLUX_POLL_US set; tests turn polling on and
// off) or, with kParkSpinAdaptive, the adaptive one. Ignored where park_spin_ns() is 0 by
// nature (one CPU).
inline constexpr uint64_t kParkSpinAdaptive = ~uint64_t{0};
void set_park_spin_ns(uint64_t ns);
// Whether the figure adapts; if so, park() reports how long each polling wait took.
bool park_spin_adaptive();
void park_waited(uint64_t ns);

// Fills buf with unpredictable bytes (hosted: getrandom(2)); for TCP ISN secrets and seeds.
void entropy(void* buf, size_t len);

// Starts a thread of the core's own (timer service, net-rx) that runs fn(arg) and never
// receives the application's signals. Stops the machine if it cannot.
void spawn_kernel_thread(void (*fn)(void*), void* arg, const char* name);
void yield();
// A value unique to the calling thread while it lives (never 0). The core cannot use
// thread_local: in the unikernel the FS base a system call arrives with is the application's.
uintptr_t thread_self();

#ifdef POLLUX_UNIKERNEL
// Masks interrupts on this CPU, nesting: the outermost enable restores what the outermost
// disable found. SpinLock uses them; a holder must not sleep.
void irq_disable_nested();
void irq_enable_nested();
#endif

// Zeroed memory that is only backed when touched: the fd table reserves room for every
// descriptor number the process may use without paying for it up front.
void* reserve_zeroed(size_t bytes);

// Descriptor numbers. Hosted, Pollux and the host share one number space: each Pollux
// descriptor holds a host placeholder so the host never hands the same number out, and the
// lowest-free rule stays exactly Linux's across both.
int fd_limit();                      // RLIMIT_NOFILE soft limit
int fd_capacity();                   // most descriptor numbers the table must ever hold
int reserve_fd(int min_fd);          // lowest free number >= min_fd, or -errno
int reserve_fd_at(int fd);           // claim exactly fd (replacing what the host had), or -errno
void release_fd(int fd);

// The timer service calls this when its earliest deadline moved earlier (or the queue changed);
// the platform makes sure timer_run_expired() runs by then.
void timer_deadline_changed();

// A write hit a pipe or socket with no reader: Linux sends SIGPIPE to the calling thread.
void raise_sigpipe();

// Swaps the calling thread's signal mask (epoll_pwait, ppoll, pselect); old may be null.
// Returns true when a signal that was pending and blocked is unblocked by the new mask: it is
// delivered at once, so the call must report EINTR (Linux sees signal_pending()).
bool sigmask_swap(const uint64_t* mask, uint64_t* old);

// The most epitems a user may hold (Linux's fs.epoll.max_user_watches); beyond it epoll_ctl
// gives ENOSPC.
long max_user_watches();

// A blocking read/write that a signal interrupted before moving data: Linux restarts it when
// the handler has SA_RESTART (-ERESTARTSYS), else the call fails with EINTR. The platform
// cannot tell which signal it was, so this answers for all installed handlers together:
// true only if every one of them asks for SA_RESTART.
bool signal_restarts_syscall();

// AF_UNIX names in the file system (unix(7)): the node bind() makes and connect() finds,
// known by (dev, ino). Paths are NUL-terminated; results are 0 or an errno of the path walk.
struct UnixNode {
    uint64_t dev = 0, ino = 0;
};
// mknod(path, S_IFSOCK | (0777 & ~umask)), with EADDRINUSE for a name that exists. With
// create false only the checks run: a second bind() fails with EINVAL only after them.
int unix_mknod(const char* path, bool create, UnixNode& node);
// The node path names, symlinks followed; ECONNREFUSED when it is not a socket.
int unix_find_node(const char* path, UnixNode& node);

// Linux lets only CAP_NET_ADMIN raise an eventpoll's busy-poll budget above NAPI_POLL_WEIGHT.
bool capable_net_admin();

// The process's pid, uid and gid (SO_PEERCRED of an AF_UNIX socket made in this process).
struct Credentials {
    int32_t pid;
    uint32_t uid, gid;
};
Credentials credentials();

}  // namespace pollux::platform
