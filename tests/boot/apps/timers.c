// Interval timers as Linux has them, checked through the libc (glibc's and musl's alarm,
// setitimer, timer_create ...) and through raw syscalls where the kernel's own answer is the
// point: alarm's return value and its SIGALRM ending a blocking read (EINTR, or restarted with
// SA_RESTART), setitimer's periodic ticks, getitimer's remaining time, ITIMER_PROF and a
// CPU-time POSIX timer against a busy loop, POSIX timers with SIGEV_SIGNAL (si_code SI_TIMER,
// si_value, si_timerid), a null sigevent, SIGEV_THREAD_ID, SIGEV_THREAD, absolute times,
// overruns while the signal is blocked, timer_delete, and the errors. Exit status: 0 when every
// check passed. With the argument "alarm", SIGALRM's default action ends it (status 142).
// Timing bounds are generous (TCG on a loaded machine) but each can still fail.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CHECK_NAME "timers"
#include "check.h"

// The kernel's struct sigevent (its sigev_notify_thread_id is spelled differently by each libc).
struct ksigevent {
    union sigval value;
    int signo, notify, tid;
    int pad[11];
};
#define KSIGEV_THREAD_ID 4

static int64_t now_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
static int64_t mono_ms(void) { return now_ns(CLOCK_MONOTONIC) / 1000000; }

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

static void set_handler(int sig, void (*fn)(int, siginfo_t*, void*), int flags) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | flags;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void block(int sig, int how) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    pthread_sigmask(how, &set, NULL);
}

// A signal of sig (blocked by the caller) within ms, or 0.
static int wait_signal(int sig, int ms, siginfo_t* info) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    int r;
    while ((r = sigtimedwait(&set, info, &ts)) == -1 && errno == EINTR) {
    }
    return r == -1 ? 0 : r;
}

static int is_pending(int sig) {
    sigset_t set;
    sigpending(&set);
    return sigismember(&set, sig);
}

static volatile sig_atomic_t alarms;
static volatile int alarm_code;
static void on_alarm(int sig, siginfo_t* info, void* uc) {
    (void)sig, (void)uc;
    alarms = alarms + 1;
    alarm_code = info->si_code;
}

// The syscall itself: musl's alarm() is setitimer with rounding of its own (any fraction up).
static unsigned kalarm(unsigned seconds) { return (unsigned)syscall(SYS_alarm, seconds); }

static void check_alarm_value(void) {
    CHECK(kalarm(0) == 0);
    CHECK(kalarm(10) == 0);
    CHECK(kalarm(5) == 10);  // 9.99... s left: rounded up
    CHECK(kalarm(0) == 5);
    CHECK(kalarm(0) == 0);
    // Under a second left, but pending: 1, not 0.
    struct itimerval it = {{0, 0}, {0, 300000}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK(kalarm(0) == 1);
    // 3.4 s left: 3; alarm drops the interval setitimer had.
    it = (struct itimerval){{7, 0}, {3, 400000}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK(kalarm(20) == 3);
    struct itimerval cur;
    CHECK(getitimer(ITIMER_REAL, &cur) == 0);
    CHECK(cur.it_interval.tv_sec == 0 && cur.it_interval.tv_usec == 0);
    CHECK(cur.it_value.tv_sec >= 18 && cur.it_value.tv_sec <= 19);
    CHECK(kalarm(0) == 20);
}

static int pipe_fds[2];
static void* late_writer(void* arg) {
    sleep_ms((int)(intptr_t)arg);
    char c = 'x';
    if (write(pipe_fds[1], &c, 1) != 1) printf("timers: write failed\n");
    return NULL;
}

// SIGALRM ends a read of an empty pipe with EINTR; with SA_RESTART the read goes on.
static void check_alarm_interrupts_read(void) {
    CHECK(pipe(pipe_fds) == 0);
    set_handler(SIGALRM, on_alarm, 0);
    alarms = 0;
    int64_t start = mono_ms();
    CHECK(alarm(1) == 0);
    char c;
    errno = 0;
    ssize_t r = read(pipe_fds[0], &c, 1);
    int64_t took = mono_ms() - start;
    CHECK(r == -1 && errno == EINTR);
    CHECK(alarms == 1);
    CHECK(alarm_code == SI_KERNEL);
    CHECK(took >= 900 && took < 10000);

    set_handler(SIGALRM, on_alarm, SA_RESTART);
    alarms = 0;
    pthread_t writer;
    pthread_create(&writer, NULL, late_writer, (void*)(intptr_t)600);
    struct itimerval it = {{0, 0}, {0, 150000}};
    start = mono_ms();
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    r = read(pipe_fds[0], &c, 1);
    took = mono_ms() - start;
    CHECK(r == 1 && c == 'x');
    CHECK(alarms == 1);
    CHECK(took >= 500);
    pthread_join(writer, NULL);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
}

// 20 ms periods: at least 10 ticks within 5 s, and not before 10 periods could have passed.
static void check_periodic(void) {
    set_handler(SIGALRM, on_alarm, SA_RESTART);
    alarms = 0;
    struct itimerval it = {{0, 20000}, {0, 20000}}, old;
    int64_t start = mono_ms();
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    while (alarms < 10 && mono_ms() - start < 5000) {
        sigset_t none;
        sigemptyset(&none);
        struct timespec ts = {0, 50000000};
        nanosleep(&ts, NULL);
    }
    int64_t took = mono_ms() - start;
    int ticks = alarms;
    memset(&it, 0, sizeof it);
    CHECK(setitimer(ITIMER_REAL, &it, &old) == 0);
    CHECK(ticks >= 10);
    CHECK(took >= 180);
    CHECK(old.it_interval.tv_sec == 0 && old.it_interval.tv_usec == 20000);
    CHECK(old.it_value.tv_sec == 0 && old.it_value.tv_usec > 0 && old.it_value.tv_usec <= 20000);
    int after = alarms;
    sleep_ms(100);
    CHECK(alarms == after);  // disarmed
}

static void check_getitimer(void) {
    struct itimerval it = {{3, 500000}, {10, 0}}, a, b, old;
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK(getitimer(ITIMER_REAL, &a) == 0);
    sleep_ms(50);
    CHECK(getitimer(ITIMER_REAL, &b) == 0);
    CHECK(a.it_interval.tv_sec == 3 && a.it_interval.tv_usec == 500000);
    CHECK(a.it_value.tv_sec == 9 || (a.it_value.tv_sec == 10 && a.it_value.tv_usec == 0));
    CHECK(a.it_value.tv_usec >= 0 && a.it_value.tv_usec < 1000000);
    int64_t ua = a.it_value.tv_sec * 1000000 + a.it_value.tv_usec, ub = b.it_value.tv_sec * 1000000 + b.it_value.tv_usec;
    CHECK(ub <= ua - 40000 && ub > 5000000);
    memset(&it, 0, sizeof it);
    CHECK(setitimer(ITIMER_REAL, &it, &old) == 0);
    CHECK(old.it_interval.tv_sec == 3 && old.it_interval.tv_usec == 500000);
    CHECK(old.it_value.tv_sec * 1000000 + old.it_value.tv_usec <= ub);
    CHECK(getitimer(ITIMER_REAL, &a) == 0);
    CHECK(a.it_value.tv_sec == 0 && a.it_value.tv_usec == 0 && a.it_interval.tv_sec == 0 && a.it_interval.tv_usec == 0);
    // An interval without a value is not kept (Linux's it_real_incr only with a value).
    it = (struct itimerval){{1, 0}, {0, 0}};
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
    CHECK(getitimer(ITIMER_REAL, &a) == 0);
    CHECK(a.it_interval.tv_sec == 0 && a.it_value.tv_sec == 0 && a.it_value.tv_usec == 0);
    CHECK(getitimer(ITIMER_VIRTUAL, &a) == 0);
    CHECK(a.it_value.tv_sec == 0 && a.it_value.tv_usec == 0);
}

static volatile sig_atomic_t profs;
static void on_prof(int sig, siginfo_t* info, void* uc) {
    (void)sig, (void)uc, (void)info;
    profs = profs + 1;
}

// CPU time: ITIMER_PROF and ITIMER_VIRTUAL tick while this thread computes, and a POSIX timer
// on CLOCK_PROCESS_CPUTIME_ID fires once the process has used its 50 ms.
static void check_cpu_timers(void) {
    for (int which = ITIMER_VIRTUAL; which <= ITIMER_PROF; ++which) {
        int sig = which == ITIMER_PROF ? SIGPROF : SIGVTALRM;
        set_handler(sig, on_prof, SA_RESTART);
        profs = 0;
        struct itimerval it = {{0, 10000}, {0, 10000}}, cur;
        int64_t cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), start = mono_ms();
        CHECK(setitimer(which, &it, NULL) == 0);
        CHECK(getitimer(which, &cur) == 0);
        // Linux adds a tick (TICK_NSEC, HZ's) to the value of a CPU-time itimer.
        CHECK(cur.it_interval.tv_usec == 10000 && cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 &&
              cur.it_value.tv_usec <= 20000);
        volatile uint64_t spin = 0;
        while (profs < 3 && mono_ms() - start < 5000) ++spin;
        int64_t cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
        memset(&it, 0, sizeof it);
        CHECK(setitimer(which, &it, NULL) == 0);
        CHECK(profs >= 3);
        // Three 10 ms periods of CPU time; Linux samples CPU time at its ticks, and a loaded
        // host has been seen to send the third with 20-something ms measured.
        CHECK(cpu >= 15000000);
    }

    block(SIGUSR1, SIG_BLOCK);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_int = 77;
    timer_t t;
    CHECK(timer_create(CLOCK_PROCESS_CPUTIME_ID, &ev, &t) == 0);
    struct itimerspec its = {{0, 0}, {0, 50000000}};
    int64_t cpu0 = now_ns(CLOCK_PROCESS_CPUTIME_ID), start = mono_ms();
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    volatile uint64_t spin = 0;
    while (!is_pending(SIGUSR1) && mono_ms() - start < 5000) ++spin;
    int64_t cpu = now_ns(CLOCK_PROCESS_CPUTIME_ID) - cpu0;
    siginfo_t info;
    CHECK(wait_signal(SIGUSR1, 0, &info) == SIGUSR1);
    CHECK(info.si_code == SI_TIMER && info.si_value.sival_int == 77);
    CHECK(cpu >= 50000000);
    CHECK(timer_delete(t) == 0);

    // As Go's profiler: this thread's CPU clock (pthread_getcpuclockid: Linux's encoded
    // per-thread clock), the signal to this thread (SIGEV_THREAD_ID).
    clockid_t clock;
    CHECK(pthread_getcpuclockid(pthread_self(), &clock) == 0);
    struct ksigevent kev;
    memset(&kev, 0, sizeof kev);
    kev.notify = KSIGEV_THREAD_ID;
    kev.signo = SIGUSR1;
    kev.value.sival_int = 31;
    kev.tid = (int)syscall(SYS_gettid);
    int id = -1;
    CHECK(syscall(SYS_timer_create, clock, &kev, &id) == 0);
    its = (struct itimerspec){{0, 20000000}, {0, 20000000}};
    int64_t tcpu0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
    start = mono_ms();
    CHECK(syscall(SYS_timer_settime, id, 0, &its, NULL) == 0);
    int got = 0;
    while (got < 2 && mono_ms() - start < 5000) {
        ++spin;
        if (is_pending(SIGUSR1) && wait_signal(SIGUSR1, 0, &info) == SIGUSR1) {
            ++got;
            CHECK(info.si_code == SI_TIMER && info.si_value.sival_int == 31 && info.si_timerid == id);
        }
    }
    CHECK(got == 2);
    CHECK(now_ns(CLOCK_THREAD_CPUTIME_ID) - tcpu0 >= 30000000);
    CHECK(syscall(SYS_timer_delete, id) == 0);
    // Thread CPU clocks of a thread that does not exist, and a clock type past CPUCLOCK_SCHED.
    errno = 0;
    CHECK(syscall(SYS_timer_create, (~999999 << 3) | 4 | 2, &kev, &id) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(syscall(SYS_timer_create, (~0 << 3) | 4 | 3, &kev, &id) == -1 && errno == EINVAL);
    block(SIGUSR1, SIG_UNBLOCK);
}

// SIGEV_SIGNAL: si_code SI_TIMER, the sigevent's value and the timer's id; a relative and an
// absolute time; timer_gettime's remaining time; a null sigevent (SIGALRM, the id as value).
static void check_posix_signal(void) {
    block(SIGUSR1, SIG_BLOCK);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR1;
    ev.sigev_value.sival_ptr = (void*)0x1234abcd5678;
    timer_t t;
    CHECK(timer_create(CLOCK_MONOTONIC, &ev, &t) == 0);
    struct itimerspec its = {{0, 0}, {0, 100000000}}, cur;
    int64_t start = mono_ms();
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    CHECK(timer_gettime(t, &cur) == 0);
    CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec > 0 && cur.it_value.tv_nsec <= 100000000);
    siginfo_t info;
    CHECK(wait_signal(SIGUSR1, 5000, &info) == SIGUSR1);
    int64_t took = mono_ms() - start;
    CHECK(took >= 90 && took < 5000);
    CHECK(info.si_code == SI_TIMER);
    CHECK(info.si_value.sival_ptr == (void*)0x1234abcd5678);
    CHECK(info.si_timerid == (int)(intptr_t)t);
    CHECK(info.si_overrun == 0);
    CHECK(timer_gettime(t, &cur) == 0);  // a one-shot that has fired: disarmed
    CHECK(cur.it_value.tv_sec == 0 && cur.it_value.tv_nsec == 0);

    // Absolute: 100 ms from now on CLOCK_MONOTONIC.
    int64_t at = now_ns(CLOCK_MONOTONIC) + 100000000;
    its = (struct itimerspec){{0, 0}, {at / 1000000000, at % 1000000000}};
    CHECK(timer_settime(t, TIMER_ABSTIME, &its, NULL) == 0);
    CHECK(wait_signal(SIGUSR1, 5000, &info) == SIGUSR1);
    CHECK(now_ns(CLOCK_MONOTONIC) >= at);
    CHECK(info.si_code == SI_TIMER);
    // Absolute and long past: at once.
    timer_t rt;
    CHECK(timer_create(CLOCK_REALTIME, &ev, &rt) == 0);
    its = (struct itimerspec){{0, 0}, {1, 0}};
    start = mono_ms();
    CHECK(timer_settime(rt, TIMER_ABSTIME, &its, NULL) == 0);
    CHECK(wait_signal(SIGUSR1, 5000, &info) == SIGUSR1);
    CHECK(mono_ms() - start < 2000);
    CHECK(info.si_timerid == (int)(intptr_t)rt);
    CHECK(timer_delete(rt) == 0);

    // Remaining time of a long timer, then the old value when it is disarmed.
    its = (struct itimerspec){{2, 0}, {10, 0}};
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    sleep_ms(20);
    CHECK(timer_gettime(t, &cur) == 0);
    CHECK(cur.it_interval.tv_sec == 2 && cur.it_interval.tv_nsec == 0);
    CHECK(cur.it_value.tv_sec == 9 && cur.it_value.tv_nsec < 990000000);
    struct itimerspec zero = {{0, 0}, {0, 0}}, old;
    CHECK(timer_settime(t, 0, &zero, &old) == 0);
    CHECK(old.it_interval.tv_sec == 2 && old.it_value.tv_sec == 9);
    CHECK(timer_delete(t) == 0);
    block(SIGUSR1, SIG_UNBLOCK);

    // No sigevent: SIGALRM, with the timer's id as sival_int and si_timerid (through the
    // syscall: glibc passes a sigevent of its own for a null one).
    block(SIGALRM, SIG_BLOCK);
    int id = -1;
    CHECK(syscall(SYS_timer_create, CLOCK_BOOTTIME, NULL, &id) == 0);
    its = (struct itimerspec){{0, 0}, {0, 10000000}};
    CHECK(syscall(SYS_timer_settime, id, 0, &its, NULL) == 0);
    CHECK(wait_signal(SIGALRM, 5000, &info) == SIGALRM);
    CHECK(info.si_code == SI_TIMER);
    CHECK(info.si_value.sival_int == id);
    CHECK(info.si_timerid == id);
    CHECK(syscall(SYS_timer_delete, id) == 0);
    block(SIGALRM, SIG_UNBLOCK);
}

// A 10 ms periodic timer whose signal stays blocked for 300 ms: one signal, the other
// expirations counted in si_overrun and then by timer_getoverrun; after timer_delete nothing.
static void check_overrun_and_delete(void) {
    block(SIGUSR2, SIG_BLOCK);
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGUSR2;
    timer_t t;
    CHECK(timer_create(CLOCK_MONOTONIC, &ev, &t) == 0);
    CHECK(timer_getoverrun(t) == 0);
    struct itimerspec its = {{0, 10000000}, {0, 10000000}};
    int64_t start = mono_ms();
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    sleep_ms(300);
    siginfo_t info;
    CHECK(wait_signal(SIGUSR2, 0, &info) == SIGUSR2);
    int64_t took = mono_ms() - start;
    int overrun = info.si_overrun;
    CHECK(overrun >= 10);
    CHECK(overrun <= took / 10);
    CHECK(timer_getoverrun(t) == overrun);
    CHECK(info.si_code == SI_TIMER);
    // It goes on: the next signal comes within a few periods.
    CHECK(wait_signal(SIGUSR2, 5000, &info) == SIGUSR2);
    CHECK(info.si_overrun < overrun);
    CHECK(timer_delete(t) == 0);
    wait_signal(SIGUSR2, 0, &info);  // one the timer queued before it was deleted is still delivered
    sleep_ms(100);
    CHECK(!is_pending(SIGUSR2));
    block(SIGUSR2, SIG_UNBLOCK);
}

static atomic_int target_ready;
static atomic_int target_tid;
static atomic_int target_got;
static atomic_int target_code;
static void* signal_target(void* arg) {
    (void)arg;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    target_tid = (int)syscall(SYS_gettid);
    target_ready = 1;
    siginfo_t info;
    struct timespec ts = {5, 0};
    int r = sigtimedwait(&set, &info, &ts);
    if (r == SIGUSR1) {
        target_code = info.si_code;
        target_got = info.si_value.sival_int;
    }
    return NULL;
}

// SIGEV_THREAD_ID: the signal goes to that thread (the main thread keeps SIGUSR1 unblocked and
// has no handler, so a process-wide signal would end the program).
static void check_thread_id(void) {
    pthread_t th;
    pthread_create(&th, NULL, signal_target, NULL);
    while (!target_ready) sleep_ms(1);
    struct ksigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.notify = KSIGEV_THREAD_ID;
    ev.signo = SIGUSR1;
    ev.value.sival_int = 4242;
    ev.tid = target_tid;
    int id = -1;
    CHECK(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) == 0);
    struct itimerspec its = {{0, 0}, {0, 20000000}};
    CHECK(syscall(SYS_timer_settime, id, 0, &its, NULL) == 0);
    pthread_join(th, NULL);
    CHECK(target_got == 4242);
    CHECK(target_code == SI_TIMER);
    CHECK(syscall(SYS_timer_delete, id) == 0);
}

static atomic_int thread_calls;
static atomic_int thread_value;
static void on_timer_thread(union sigval v) {
    thread_value = v.sival_int;
    atomic_fetch_add(&thread_calls, 1);
}

// SIGEV_THREAD: the libc's helper thread on top of SIGEV_THREAD_ID.
static void check_sigev_thread(void) {
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD;
    ev.sigev_notify_function = on_timer_thread;
    ev.sigev_value.sival_int = 99;
    timer_t t;
    CHECK(timer_create(CLOCK_MONOTONIC, &ev, &t) == 0);
    struct itimerspec its = {{0, 20000000}, {0, 20000000}};
    int64_t start = mono_ms();
    CHECK(timer_settime(t, 0, &its, NULL) == 0);
    while (thread_calls < 3 && mono_ms() - start < 5000) sleep_ms(10);
    CHECK(thread_calls >= 3);
    CHECK(thread_value == 99);
    CHECK(timer_delete(t) == 0);
    sleep_ms(50);
    int calls = thread_calls;
    sleep_ms(100);
    CHECK(thread_calls == calls);
}

static void check_errors(void) {
    struct itimerval it = {{0, 0}, {0, 0}}, cur;
    errno = 0;
    CHECK(setitimer(3, &it, NULL) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(getitimer(-1, &cur) == -1 && errno == EINVAL);
    it.it_value.tv_usec = 1000000;
    errno = 0;
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == -1 && errno == EINVAL);
    it.it_value.tv_usec = -1;
    errno = 0;
    CHECK(setitimer(ITIMER_REAL, &it, NULL) == -1 && errno == EINVAL);
    it.it_value.tv_usec = 0;
    it.it_interval.tv_usec = 1000000;
    errno = 0;
    CHECK(setitimer(ITIMER_PROF, &it, NULL) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(syscall(SYS_setitimer, ITIMER_REAL, (void*)8, NULL) == -1 && errno == EFAULT);
    errno = 0;
    CHECK(syscall(SYS_getitimer, ITIMER_REAL, (void*)8) == -1 && errno == EFAULT);
    errno = 0;
    CHECK(syscall(SYS_getitimer, 5, (void*)8) == -1 && errno == EINVAL);  // which before the pointer

    struct ksigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.signo = SIGUSR1;
    int id;
    errno = 0;
    CHECK(syscall(SYS_timer_create, 99, &ev, &id) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(syscall(SYS_timer_create, CLOCK_MONOTONIC_RAW, &ev, &id) == -1 && errno == EOPNOTSUPP);
    errno = 0;
    CHECK(syscall(SYS_timer_create, CLOCK_MONOTONIC, (void*)8, &id) == -1 && errno == EFAULT);
    errno = 0;
    CHECK(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, (void*)8) == -1 && errno == EFAULT);
    ev.notify = 99;
    errno = 0;
    CHECK(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) == -1 && errno == EINVAL);
    ev.notify = SIGEV_SIGNAL;
    ev.signo = 0;
    errno = 0;
    CHECK(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) == -1 && errno == EINVAL);
    ev.signo = 65;
    errno = 0;
    CHECK(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) == -1 && errno == EINVAL);
    ev.signo = SIGUSR1;
    ev.notify = KSIGEV_THREAD_ID;
    ev.tid = 999999;
    errno = 0;
    CHECK(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) == -1 && errno == EINVAL);
    // SIGEV_NONE takes any signal number; it never sends one.
    ev.notify = SIGEV_NONE;
    ev.signo = 0;
    CHECK(syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) == 0);
    struct itimerspec its = {{0, 0}, {0, 1000000000}}, cur2;
    its.it_value.tv_nsec = 1000000000;
    errno = 0;
    CHECK(syscall(SYS_timer_settime, id, 0, &its, NULL) == -1 && errno == EINVAL);
    its.it_value.tv_nsec = 0;
    its.it_interval.tv_sec = -1;
    errno = 0;
    CHECK(syscall(SYS_timer_settime, id, 0, &its, NULL) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(syscall(SYS_timer_settime, id, 0, NULL, NULL) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(syscall(SYS_timer_settime, id, 0, (void*)8, NULL) == -1 && errno == EFAULT);
    its = (struct itimerspec){{0, 0}, {0, 50000000}};
    errno = 0;
    CHECK(syscall(SYS_timer_settime, id + 1000, 0, &its, NULL) == -1 && errno == EINVAL);
    // Linux looks at TIMER_ABSTIME alone: other bits are ignored.
    CHECK(syscall(SYS_timer_settime, id, 0x100, &its, NULL) == 0);
    // A SIGEV_NONE timer runs without a signal: timer_gettime sees it count down and end at 0.
    CHECK(syscall(SYS_timer_gettime, id, &cur2) == 0);
    CHECK(cur2.it_value.tv_sec == 0 && cur2.it_value.tv_nsec > 0 && cur2.it_value.tv_nsec <= 50000000);
    sleep_ms(80);
    CHECK(syscall(SYS_timer_gettime, id, &cur2) == 0);
    CHECK(cur2.it_value.tv_sec == 0 && cur2.it_value.tv_nsec == 0);
    errno = 0;
    CHECK(syscall(SYS_timer_gettime, id, (void*)8) == -1 && errno == EFAULT);
    errno = 0;
    CHECK(syscall(SYS_timer_gettime, id + 1000, &cur2) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(syscall(SYS_timer_getoverrun, id + 1000) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(syscall(SYS_timer_getoverrun, -1) == -1 && errno == EINVAL);
    CHECK(syscall(SYS_timer_delete, id) == 0);
    errno = 0;
    CHECK(syscall(SYS_timer_delete, id) == -1 && errno == EINVAL);
    errno = 0;
    CHECK(syscall(SYS_timer_settime, id, 0, &its, NULL) == -1 && errno == EINVAL);
}

int main(int argc, char** argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc > 1 && strcmp(argv[1], "alarm") == 0) {
        // SIGALRM's default action ends the process (status 142), sent while it sleeps in pause().
        alarm(1);
        pause();
        printf("timers: pause came back\n");
        return 1;
    }
    printf("timers: starting\n");
    check_alarm_value();
    check_alarm_interrupts_read();
    check_periodic();
    check_getitimer();
    check_cpu_timers();
    check_posix_signal();
    check_overrun_and_delete();
    check_thread_id();
    check_sigev_thread();
    check_errors();
    return check_summary();
}
