// Signal delivery as Linux does it on x86_64, checked through the libc's own types (glibc's and
// musl's ucontext_t and siginfo_t): handlers with their siginfo and ucontext, the mask during
// a handler, SA_RESETHAND, SA_NODEFER, SA_RESTART against EINTR on blocking reads in another
// thread, sigaltstack, faults (SIGSEGV, SIGILL, SIGFPE, SIGTRAP) with siglongjmp or a fixed-up
// RIP, the registers and FPU state across a handler, pending signals, sigsuspend, sigtimedwait,
// ppoll's mask, nanosleep's remainder and SIGPIPE. Exit status: 0 when every check passed.
//
// With an argument, one default action instead: "term" raises SIGTERM (status 143), "abort"
// calls abort() (134), "int3" executes int3 without a handler (133), "segv-blocked" faults with
// SIGSEGV blocked (139, the handler must not run).
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

#define CHECK_NAME "signals"
#include "check.h"

static pid_t gettid_(void) { return (pid_t)syscall(SYS_gettid); }

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void set_action(int sig, void (*fn)(int, siginfo_t*, void*), int flags, const sigset_t* mask) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    if (mask)
        sa.sa_mask = *mask;
    else
        sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0) {
        printf("signals: sigaction(%d) failed: %s\n", sig, strerror(errno));
        exit(2);
    }
}

static void set_default(int sig) { signal(sig, SIG_DFL); }

static sigset_t current_mask(void) {
    sigset_t s;
    sigprocmask(SIG_BLOCK, NULL, &s);
    return s;
}

// ---- a handler's view: siginfo, ucontext, stack alignment, mask -------------------------------

static struct {
    atomic_int count;
    int signo, code, pid, uid, tid;
    int usr1_blocked, usr2_blocked, saved_usr1_blocked;
    int uc_aligned, info_follows_uc, fpregs_aligned, mxcsr;
    uintptr_t local, rsp;
} seen;

static void record(int sig, siginfo_t* info, void* ucv) {
    ucontext_t* uc = ucv;
    seen.signo = info->si_signo;
    seen.code = info->si_code;
    seen.pid = info->si_pid;
    seen.uid = (int)info->si_uid;
    seen.tid = gettid_();
    sigset_t now = current_mask();
    seen.usr1_blocked = sigismember(&now, SIGUSR1);
    seen.usr2_blocked = sigismember(&now, SIGUSR2);
    seen.saved_usr1_blocked = sigismember(&uc->uc_sigmask, SIGUSR1);
    // Linux's rt_sigframe: the return address, then the ucontext (so rsp at entry, 8 below
    // it, is 8 mod 16 when uc is 16-aligned), then the siginfo 304 bytes in.
    seen.uc_aligned = ((uintptr_t)uc % 16) == 0;
    seen.info_follows_uc = (uintptr_t)info == (uintptr_t)uc + 304;
    seen.fpregs_aligned = uc->uc_mcontext.fpregs && ((uintptr_t)uc->uc_mcontext.fpregs % 64) == 0;
    unsigned mxcsr;
    __asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
    seen.mxcsr = (int)mxcsr;
    int local;
    seen.local = (uintptr_t)&local;
    seen.rsp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    (void)sig;
    atomic_fetch_add(&seen.count, 1);
}

static void test_raise(void) {
    memset(&seen, 0, sizeof seen);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR2);
    set_action(SIGUSR1, record, 0, &mask);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(atomic_load(&seen.count) == 1);
    CHECK(seen.signo == SIGUSR1);
    CHECK(seen.code == SI_TKILL);
    CHECK(seen.pid == getpid());
    CHECK(seen.uid == (int)getuid());
    CHECK(seen.tid == gettid_());
    CHECK(seen.usr1_blocked);  // no SA_NODEFER
    CHECK(seen.usr2_blocked);  // sa_mask
    CHECK(!seen.saved_usr1_blocked);
    CHECK(seen.uc_aligned);
    CHECK(seen.info_follows_uc);
    CHECK(seen.fpregs_aligned);
    CHECK(seen.mxcsr == 0x1f80);  // a clean FPU state for the handler
    CHECK(seen.local < seen.rsp - 128);  // below the red zone
    sigset_t after = current_mask();
    CHECK(!sigismember(&after, SIGUSR1) && !sigismember(&after, SIGUSR2));

    // SA_NODEFER leaves the signal unblocked inside.
    set_action(SIGUSR1, record, SA_NODEFER, NULL);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(atomic_load(&seen.count) == 2 && !seen.usr1_blocked);

    // SA_RESETHAND: one run, then SIG_DFL.
    set_action(SIGUSR1, record, SA_RESETHAND, NULL);
    CHECK(raise(SIGUSR1) == 0);
    CHECK(atomic_load(&seen.count) == 3);
    struct sigaction old;
    sigaction(SIGUSR1, NULL, &old);
    CHECK(old.sa_handler == SIG_DFL);

    // kill(getpid()): to the process, SI_USER.
    set_action(SIGUSR1, record, 0, NULL);
    CHECK(kill(getpid(), SIGUSR1) == 0);
    CHECK(atomic_load(&seen.count) == 4 && seen.code == SI_USER && seen.pid == getpid());
    CHECK(kill(getpid(), 0) == 0);
    CHECK(kill(12345, SIGUSR1) == -1 && errno == ESRCH);
    CHECK(kill(getpid(), 65) == -1 && errno == EINVAL);
    CHECK(syscall(SYS_tgkill, getpid(), 99999, SIGUSR1) == -1 && errno == ESRCH);
    set_default(SIGUSR1);
    printf("signals: raise, kill, masks, SA_NODEFER, SA_RESETHAND ok\n");
}

// ---- pending while blocked; ignored signals --------------------------------------------------

static void test_pending(void) {
    memset(&seen, 0, sizeof seen);
    set_action(SIGUSR2, record, 0, NULL);
    sigset_t block, pending;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR2);
    sigprocmask(SIG_BLOCK, &block, NULL);
    CHECK(raise(SIGUSR2) == 0);
    CHECK(raise(SIGUSR2) == 0);  // a standard signal pending twice is one
    CHECK(atomic_load(&seen.count) == 0);
    sigpending(&pending);
    CHECK(sigismember(&pending, SIGUSR2));
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    CHECK(atomic_load(&seen.count) == 1);  // delivered as sigprocmask returned
    sigpending(&pending);
    CHECK(!sigismember(&pending, SIGUSR2));

    // Ignored: dropped; blocked and then ignored: discarded.
    signal(SIGUSR2, SIG_IGN);
    CHECK(raise(SIGUSR2) == 0);
    sigprocmask(SIG_BLOCK, &block, NULL);
    set_action(SIGUSR2, record, 0, NULL);
    CHECK(raise(SIGUSR2) == 0);
    signal(SIGUSR2, SIG_IGN);
    sigpending(&pending);
    CHECK(!sigismember(&pending, SIGUSR2));
    set_action(SIGUSR2, record, 0, NULL);
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    CHECK(atomic_load(&seen.count) == 1);
    // SIGCHLD's default action ignores it.
    CHECK(raise(SIGCHLD) == 0);
    set_default(SIGUSR2);
    printf("signals: pending, blocked, ignored ok\n");
}

// ---- blocking calls in another thread: EINTR or restart ---------------------------------------

static atomic_int handled;
static atomic_int handler_tid;
static void count(int sig, siginfo_t* info, void* uc) {
    (void)sig, (void)info, (void)uc;
    atomic_store(&handler_tid, gettid_());
    atomic_fetch_add(&handled, 1);
}

struct blocker {
    int kind;  // 0 pipe read, 1 eventfd read, 2 nanosleep, 3 sigsuspend, 4 ppoll with a mask
    int fd;
    atomic_int tid;
    atomic_int done;
    long result;
    int err;
    struct timespec rem;
    int saved_mask_ok;
};

static void* blocker_main(void* p) {
    struct blocker* b = p;
    atomic_store(&b->tid, gettid_());
    char c;
    uint64_t v;
    switch (b->kind) {
    case 0: b->result = read(b->fd, &c, 1); break;
    case 1: b->result = read(b->fd, &v, 8); break;
    case 2: {
        struct timespec ts = {5, 0};
        b->result = nanosleep(&ts, &b->rem);
        break;
    }
    case 3: {
        sigset_t none;
        sigemptyset(&none);
        b->result = sigsuspend(&none);
        sigset_t after = current_mask();
        b->saved_mask_ok = sigismember(&after, SIGUSR1);  // the mask from before sigsuspend
        break;
    }
    case 4: {
        sigset_t none;
        sigemptyset(&none);
        struct pollfd pfd = {b->fd, POLLIN, 0};
        struct timespec ts = {5, 0};
        b->result = ppoll(&pfd, 1, &ts, &none);
        sigset_t after = current_mask();
        b->saved_mask_ok = sigismember(&after, SIGUSR1);
        break;
    }
    }
    b->err = errno;
    atomic_store(&b->done, 1);
    return NULL;
}

// Starts a blocker and signals it every 50 ms until it is done (a call that fails with EINTR)
// or, for a call that restarts, until the handler ran; returns with the thread started.
static pthread_t start_and_signal(struct blocker* b, int until_done) {
    pthread_t t;
    atomic_store(&handled, 0);
    pthread_create(&t, NULL, blocker_main, b);
    while (!atomic_load(&b->tid)) sleep_ms(1);
    sleep_ms(30);  // into its blocking call
    for (int i = 0; i < 40 && !(until_done ? atomic_load(&b->done) : atomic_load(&handled)); ++i) {
        pthread_kill(t, SIGUSR1);
        sleep_ms(50);
    }
    return t;
}

static void test_interrupted_calls(void) {
    int p[2];
    CHECK(pipe(p) == 0);
    int efd = eventfd(0, 0);
    CHECK(efd >= 0);

    for (int restart = 0; restart < 2; ++restart) {
        set_action(SIGUSR1, count, restart ? SA_RESTART : 0, NULL);
        for (int kind = 0; kind < 2; ++kind) {
            struct blocker b = {.kind = kind, .fd = kind == 0 ? p[0] : efd};
            pthread_t t = start_and_signal(&b, !restart);
            CHECK(atomic_load(&handled) >= 1);
            CHECK(atomic_load(&handler_tid) == atomic_load(&b.tid));  // the thread it was sent to
            sleep_ms(50);
            if (restart) {
                CHECK(!atomic_load(&b.done));  // restarted, still waiting
                uint64_t one = 1;
                CHECK(write(kind == 0 ? p[1] : efd, &one, kind == 0 ? 1 : 8) > 0);
                pthread_join(t, NULL);
                CHECK(b.result == (kind == 0 ? 1 : 8));
            } else {
                pthread_join(t, NULL);
                CHECK(b.result == -1 && b.err == EINTR);
            }
        }
    }

    // nanosleep: EINTR with what was left.
    set_action(SIGUSR1, count, SA_RESTART, NULL);
    struct blocker s = {.kind = 2};
    pthread_t t = start_and_signal(&s, 1);
    pthread_join(t, NULL);
    CHECK(s.result == -1 && s.err == EINTR);
    CHECK(s.rem.tv_sec <= 5 && (s.rem.tv_sec >= 3 || s.rem.tv_nsec > 0));

    // sigsuspend: the handler runs with the mask it gives, then the old one is back.
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &block, NULL);  // inherited by the thread
    struct blocker ss = {.kind = 3};
    t = start_and_signal(&ss, 1);
    pthread_join(t, NULL);
    CHECK(ss.result == -1 && ss.err == EINTR && ss.saved_mask_ok);

    // ppoll with a mask that lets the signal through: EINTR, then the thread's mask again.
    struct blocker pp = {.kind = 4, .fd = efd};
    t = start_and_signal(&pp, 1);
    pthread_join(t, NULL);
    CHECK(pp.result == -1 && pp.err == EINTR && pp.saved_mask_ok);
    pthread_sigmask(SIG_UNBLOCK, &block, NULL);

    close(p[0]);
    close(p[1]);
    close(efd);
    set_default(SIGUSR1);
    printf("signals: EINTR, SA_RESTART, nanosleep, sigsuspend, ppoll ok\n");
}

// A pending blocked signal and ppoll's mask in the same thread: the handler runs once ppoll
// unblocks it, and sees the thread's own mask as the one to restore.
static void test_ppoll_pending(void) {
    memset(&seen, 0, sizeof seen);
    set_action(SIGUSR1, record, 0, NULL);
    sigset_t block, none;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR1);
    CHECK(atomic_load(&seen.count) == 0);
    struct timespec ts = {3, 0};
    int efd = eventfd(0, 0);
    struct pollfd pfd = {efd, POLLIN, 0};
    int r = ppoll(&pfd, 1, &ts, &none);
    CHECK(r == -1 && errno == EINTR);
    CHECK(atomic_load(&seen.count) == 1 && seen.saved_usr1_blocked);
    sigset_t after = current_mask();
    CHECK(sigismember(&after, SIGUSR1));
    sigprocmask(SIG_UNBLOCK, &block, NULL);
    close(efd);
    set_default(SIGUSR1);
    printf("signals: ppoll's mask with a pending signal ok\n");
}

// ---- sigtimedwait -----------------------------------------------------------------------------

static void* send_usr2_later(void* p) {
    sleep_ms(50);
    pthread_kill(*(pthread_t*)p, SIGUSR2);
    return NULL;
}

static void test_sigtimedwait(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigprocmask(SIG_BLOCK, &set, NULL);
    struct timespec short_wait = {0, 20 * 1000000};
    siginfo_t info;
    CHECK(sigtimedwait(&set, &info, &short_wait) == -1 && errno == EAGAIN);
    raise(SIGUSR2);
    // The raw call: glibc's wrapper folds SI_TKILL into SI_USER.
    CHECK(syscall(SYS_rt_sigtimedwait, &set, &info, &short_wait, 8) == SIGUSR2 && info.si_code == SI_TKILL);
    pthread_t self = pthread_self(), t;
    pthread_create(&t, NULL, send_usr2_later, &self);
    struct timespec long_wait = {5, 0};
    memset(&info, 0, sizeof info);
    CHECK(sigtimedwait(&set, &info, &long_wait) == SIGUSR2);
    CHECK(info.si_signo == SIGUSR2 && info.si_pid == getpid());
    pthread_join(t, NULL);
    int sig = 0;
    raise(SIGUSR2);
    CHECK(sigwait(&set, &sig) == 0 && sig == SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("signals: sigtimedwait, sigwait ok\n");
}

// ---- sigaltstack --------------------------------------------------------------------------------

static char* alt_base;
static size_t alt_size;
static atomic_int on_alt, alt_flags_onstack;
static void on_altstack_handler(int sig, siginfo_t* info, void* uc) {
    (void)sig, (void)info, (void)uc;
    char local;
    atomic_store(&on_alt, &local > alt_base && &local < alt_base + alt_size);
    stack_t now;
    sigaltstack(NULL, &now);
    atomic_store(&alt_flags_onstack, (now.ss_flags & SS_ONSTACK) != 0);
}

static void test_sigaltstack(void) {
    alt_size = 64 * 1024;
    alt_base = malloc(alt_size);
    stack_t ss = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0}, old;
    CHECK(sigaltstack(NULL, &old) == 0 && (old.ss_flags & SS_DISABLE));
    stack_t tiny = {.ss_sp = alt_base, .ss_size = 100, .ss_flags = 0};
    CHECK(sigaltstack(&tiny, NULL) == -1 && errno == ENOMEM);
    stack_t bad = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 12345};
    CHECK(sigaltstack(&bad, NULL) == -1 && errno == EINVAL);
    CHECK(sigaltstack(&ss, NULL) == 0);
    set_action(SIGUSR1, on_altstack_handler, SA_ONSTACK, NULL);
    raise(SIGUSR1);
    CHECK(atomic_load(&on_alt) && atomic_load(&alt_flags_onstack));
    set_action(SIGUSR1, on_altstack_handler, 0, NULL);  // without SA_ONSTACK: the normal stack
    raise(SIGUSR1);
    CHECK(!atomic_load(&on_alt));
    // SS_AUTODISARM: disarmed while the handler runs, armed again by its rt_sigreturn.
    ss.ss_flags = SS_AUTODISARM;
    CHECK(sigaltstack(&ss, NULL) == 0);
    set_action(SIGUSR1, on_altstack_handler, SA_ONSTACK, NULL);
    raise(SIGUSR1);
    CHECK(atomic_load(&on_alt) && !atomic_load(&alt_flags_onstack));
    CHECK(sigaltstack(NULL, &old) == 0 && old.ss_sp == alt_base && !(old.ss_flags & SS_DISABLE));
    ss.ss_flags = SS_DISABLE;
    CHECK(sigaltstack(&ss, NULL) == 0);
    set_default(SIGUSR1);
    printf("signals: sigaltstack ok\n");
}

// ---- faults -------------------------------------------------------------------------------------

static sigjmp_buf fault_jump;
static struct {
    int signo, code;
    uintptr_t addr, cr2, err, trapno, rip;
} fault;
static void on_fault(int sig, siginfo_t* info, void* ucv) {
    ucontext_t* uc = ucv;
    fault.signo = sig;
    fault.code = info->si_code;
    fault.addr = (uintptr_t)info->si_addr;
    fault.cr2 = (uintptr_t)uc->uc_mcontext.gregs[REG_CR2];
    fault.err = (uintptr_t)uc->uc_mcontext.gregs[REG_ERR];
    fault.trapno = (uintptr_t)uc->uc_mcontext.gregs[REG_TRAPNO];
    fault.rip = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    siglongjmp(fault_jump, 1);
}

// SIGILL's handler steps over the 2-byte ud2 by editing the saved RIP: rt_sigreturn must
// take it from the frame.
static atomic_int ill_seen;
static void skip_ud2(int sig, siginfo_t* info, void* ucv) {
    ucontext_t* uc = ucv;
    if (sig == SIGILL && info->si_code == ILL_ILLOPN && (uintptr_t)info->si_addr == (uintptr_t)uc->uc_mcontext.gregs[REG_RIP])
        atomic_fetch_add(&ill_seen, 1);
    uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static atomic_int trap_seen;
static void on_trap(int sig, siginfo_t* info, void* uc) {
    (void)info, (void)uc;
    if (sig == SIGTRAP) atomic_fetch_add(&trap_seen, 1);  // RIP is after int3 already
}

static volatile int zero;
static volatile int* volatile unmapped_16 = (int*)16;

static void test_faults(void) {
    set_action(SIGSEGV, on_fault, 0, NULL);
    set_action(SIGFPE, on_fault, 0, NULL);

    memset(&fault, 0, sizeof fault);
    if (!sigsetjmp(fault_jump, 1)) {
        *unmapped_16 = 1;
        CHECK(!"the write to 16 did not fault");
    }
    CHECK(fault.signo == SIGSEGV && fault.code == SEGV_MAPERR && fault.addr == 16);
    CHECK(fault.trapno == 14 && fault.cr2 == 16 && (fault.err & 6) == 6);  // user write
    sigset_t m = current_mask();
    CHECK(!sigismember(&m, SIGSEGV));  // siglongjmp put the mask back

    char* page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    page[0] = 1;
    mprotect(page, 4096, PROT_READ);
    memset(&fault, 0, sizeof fault);
    if (!sigsetjmp(fault_jump, 1)) {
        ((volatile char*)page)[8] = 2;
        CHECK(!"the write to a read-only page did not fault");
    }
    CHECK(fault.signo == SIGSEGV && fault.code == SEGV_ACCERR && fault.addr == (uintptr_t)page + 8);
    munmap(page, 4096);

    page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // mapped, never accessible
    memset(&fault, 0, sizeof fault);
    if (!sigsetjmp(fault_jump, 1)) {
        (void)((volatile char*)page)[100];
        CHECK(!"the read of a PROT_NONE page did not fault");
    }
    CHECK(fault.signo == SIGSEGV && fault.code == SEGV_ACCERR && fault.addr == (uintptr_t)page + 100);
    CHECK((fault.err & 6) == 4);  // a user read
    munmap(page, 4096);

    memset(&fault, 0, sizeof fault);
    if (!sigsetjmp(fault_jump, 1)) {
        unsigned dividend = 1, divisor = (unsigned)zero;  // in asm: a compiler may avoid the division
        __asm__ volatile("xor %%edx, %%edx; divl %1" : "+a"(dividend) : "r"(divisor) : "rdx");
        CHECK(!"1 / 0 did not fault");
    }
    CHECK(fault.signo == SIGFPE && fault.code == FPE_INTDIV && fault.addr == fault.rip && fault.trapno == 0);

    set_action(SIGILL, skip_ud2, 0, NULL);
    __asm__ volatile("ud2");
    __asm__ volatile("ud2");
    CHECK(atomic_load(&ill_seen) == 2);

    set_action(SIGTRAP, on_trap, 0, NULL);
    __asm__ volatile("int3");
    CHECK(atomic_load(&trap_seen) == 1);

    set_default(SIGSEGV);
    set_default(SIGFPE);
    set_default(SIGILL);
    set_default(SIGTRAP);
    printf("signals: SIGSEGV, SIGFPE, SIGILL, SIGTRAP ok\n");
}

// A thread overflows its stack; SIGSEGV's handler runs on the alternate stack and jumps out.
static sigjmp_buf overflow_jump;
static atomic_int overflow_seen;
static void on_overflow(int sig, siginfo_t* info, void* uc) {
    (void)info, (void)uc;
    if (sig == SIGSEGV) atomic_store(&overflow_seen, 1);
    siglongjmp(overflow_jump, 1);
}
static int recurse(volatile char* p, long depth) {
    volatile char buf[512];
    buf[0] = p ? p[0] : 0;
    if (depth > 100000000) return 0;  // far beyond any stack here
    return recurse(buf, depth + 1) + buf[1];
}
static void* overflow_main(void* unused) {
    (void)unused;
    stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0};
    sigaltstack(&ss, NULL);
    if (!sigsetjmp(overflow_jump, 1)) recurse(NULL, 0);
    return NULL;
}
static void test_stack_overflow(void) {
    set_action(SIGSEGV, on_overflow, SA_ONSTACK, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 128 * 1024);
    pthread_t t;
    pthread_create(&t, &attr, overflow_main, NULL);
    pthread_join(t, NULL);
    CHECK(atomic_load(&overflow_seen));
    set_default(SIGSEGV);
    printf("signals: stack overflow to a handler on the alternate stack ok\n");
}

// ---- registers and FPU state across a handler ---------------------------------------------------

// regs_across_signal(out, pid, tid): loads known values into every register a syscall keeps
// (all but rax, rcx, r11), into xmm0-15 and into MXCSR (round down), sends itself SIGUSR1 with
// a raw tgkill, and stores what the registers hold afterwards: out[0..11] the general
// registers, out[12..43] the xmm registers (two quads each), out[44] MXCSR.
void regs_across_signal(uint64_t* out, long pid, long tid);
__asm__(".text\n"
        ".globl regs_across_signal\n"
        "regs_across_signal:\n"
        "    push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
        "    push %rdi\n"                       // out
        "    sub $8, %rsp\n"
        "    movl $0x3f80, (%rsp)\n"             // RC = round down
        "    ldmxcsr (%rsp)\n"
        "    mov %rsi, %r8\n"                    // pid, tid kept in r8/r9 for the call
        "    mov %rdx, %r9\n"
        "    mov $1, %eax\n"
        "    movq %rax, %xmm0\n"
        "    .irp n,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        "    inc %eax\n"
        "    movq %rax, %xmm\\n\n"
        "    pshufd $0x44, %xmm\\n, %xmm\\n\n"
        "    .endr\n"
        "    pshufd $0x44, %xmm0, %xmm0\n"
        "    mov $0x1111, %rbx; mov $0x2222, %rbp; mov $0x1212, %r12; mov $0x1313, %r13\n"
        "    mov $0x1414, %r14; mov $0x1515, %r15; mov $0x1010, %r10\n"
        "    mov %r8, %rdi; mov %r9, %rsi; mov $10, %edx\n"  // tgkill(pid, tid, SIGUSR1)
        "    mov $0x0808, %r8; mov $0x0909, %r9\n"
        "    mov $234, %eax\n"
        "    syscall\n"
        "    mov 8(%rsp), %rax\n"                // out
        "    mov %rbx, 0(%rax); mov %rbp, 8(%rax); mov %r12, 16(%rax); mov %r13, 24(%rax)\n"
        "    mov %r14, 32(%rax); mov %r15, 40(%rax); mov %r10, 48(%rax); mov %r8, 56(%rax)\n"
        "    mov %r9, 64(%rax); mov %rdi, 72(%rax); mov %rsi, 80(%rax); mov %rdx, 88(%rax)\n"
        "    .irp n,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
        "    movdqu %xmm\\n, 96+16*\\n(%rax)\n"
        "    .endr\n"
        "    stmxcsr 352(%rax)\n"
        "    movl $0x1f80, (%rsp)\n"
        "    ldmxcsr (%rsp)\n"
        "    add $16, %rsp\n"
        "    pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
        "    ret\n");

static atomic_int clobbered;
static unsigned round_up_mxcsr = 0x5f80;
static uint64_t xmm3_in_frame;
static unsigned mxcsr_in_frame;
static void clobber(int sig, siginfo_t* info, void* ucv) {
    (void)sig, (void)info;
    ucontext_t* uc = ucv;
    memcpy(&xmm3_in_frame, &uc->uc_mcontext.fpregs->_xmm[3], 8);
    mxcsr_in_frame = uc->uc_mcontext.fpregs->mxcsr;
    // Every vector register and the rounding mode, changed.
    __asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n"
                     ".irp n,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
                     "movdqa %%xmm0, %%xmm\\n\n"
                     ".endr\n"
                     "ldmxcsr %0\n" ::"m"(round_up_mxcsr)
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10",
                           "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "memory");
    atomic_store(&clobbered, 1);
}

static void test_registers(void) {
    set_action(SIGUSR1, clobber, 0, NULL);
    uint64_t out[45];
    memset(out, 0, sizeof out);
    regs_across_signal(out, getpid(), gettid_());
    CHECK(atomic_load(&clobbered));
    CHECK(out[0] == 0x1111 && out[1] == 0x2222 && out[2] == 0x1212 && out[3] == 0x1313);
    CHECK(out[4] == 0x1414 && out[5] == 0x1515 && out[6] == 0x1010 && out[7] == 0x0808 && out[8] == 0x0909);
    CHECK(out[9] == (uint64_t)getpid() && out[10] == (uint64_t)gettid_() && out[11] == 10);
    int xmm_ok = 1;
    for (int n = 0; n < 16; ++n) xmm_ok &= out[12 + 2 * n] == (uint64_t)n + 1 && out[13 + 2 * n] == (uint64_t)n + 1;
    CHECK(xmm_ok);
    CHECK((uint32_t)out[44] == 0x3f80);
    CHECK(xmm3_in_frame == 4 && mxcsr_in_frame == 0x3f80);  // the frame's fpstate is the code's
    set_default(SIGUSR1);
    printf("signals: registers and FPU state across a handler ok\n");
}

// ---- SIGPIPE ------------------------------------------------------------------------------------

static void test_sigpipe(void) {
    memset(&seen, 0, sizeof seen);
    set_action(SIGPIPE, record, 0, NULL);
    int p[2];
    CHECK(pipe(p) == 0);
    close(p[0]);
    CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE);
    CHECK(atomic_load(&seen.count) == 1 && seen.signo == SIGPIPE && seen.code == SI_USER);
    signal(SIGPIPE, SIG_IGN);
    CHECK(write(p[1], "x", 1) == -1 && errno == EPIPE);
    CHECK(atomic_load(&seen.count) == 1);
    close(p[1]);
    set_default(SIGPIPE);
    printf("signals: SIGPIPE to a handler ok\n");
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1) {
        if (!strcmp(argv[1], "term")) raise(SIGTERM);
        if (!strcmp(argv[1], "abort")) abort();
        if (!strcmp(argv[1], "int3")) __asm__ volatile("int3");
        if (!strcmp(argv[1], "segv-blocked")) {
            set_action(SIGSEGV, on_fault, 0, NULL);
            sigset_t s;
            sigemptyset(&s);
            sigaddset(&s, SIGSEGV);
            sigprocmask(SIG_BLOCK, &s, NULL);
            *unmapped_16 = 0;
        }
        printf("signals: %s came back\n", argv[1]);
        return 3;
    }
    test_raise();
    test_pending();
    test_interrupted_calls();
    test_ppoll_pending();
    test_sigtimedwait();
    test_sigaltstack();
    test_faults();
    test_stack_overflow();
    test_registers();
    test_sigpipe();
    return check_summary();
}
