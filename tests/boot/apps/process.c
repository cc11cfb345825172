// The process calls a server makes besides its descriptors: ids, groups and sessions, nice
// values and scheduling policies, memory locking and residency, close_range, wait4/waitid,
// flock and statfs. The same binary runs on Linux (as root, under ctest) and as pid 1 in the
// unikernel, so it checks what both must answer alike: errnos, relations between the calls,
// and observable effects (flock between two open file descriptions, mincore's vector,
// close_range's closing and FD_CLOEXEC); where Linux itself answers differently for init, it
// branches on getpid() == 1.
#define _GNU_SOURCE
#define CHECK_NAME "process"
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

#define NOT_A_PID 0x3fffffff  // above any pid_max

static int fails_with(long r, int err) { return r == -1 && errno == err; }
static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

// A second thread that reports its id and waits to be told to go.
static atomic_int helper_tid, helper_go;
static void* helper(void* arg) {
    (void)arg;
    atomic_store(&helper_tid, tid());
    while (!atomic_load(&helper_go)) sleep_ms(1);
    return NULL;
}

static void test_ids(pid_t other_tid) {
    pid_t pid = getpid();
    if (pid == 1) {
        CHECK(getppid() == 0);  // init's parent is the idle task
        CHECK(getpgrp() == 1);
        CHECK(getsid(0) == 1);
    }
    CHECK(getpgid(0) == getpgrp());
    CHECK(getpgid(pid) == getpgrp());
    CHECK(getpgid(other_tid) == getpgrp());  // a thread's group is its process's
    CHECK(getsid(pid) == getsid(0));
    CHECK(getsid(other_tid) == getsid(0));
    CHECK(fails_with(getpgid(NOT_A_PID), ESRCH));
    CHECK(fails_with(getpgid(-1), ESRCH));
    CHECK(fails_with(getsid(NOT_A_PID), ESRCH));
    CHECK(fails_with(setpgid(0, -1), EINVAL));
    CHECK(fails_with(setpgid(NOT_A_PID, 0), ESRCH));
    CHECK(fails_with(setpgid(other_tid, 0), EINVAL));  // not a thread-group leader
    if (getsid(0) == pid) {                            // a session leader (init is one) keeps its group and session
        CHECK(fails_with(setpgid(0, 0), EPERM));
        CHECK(fails_with(setsid(), EPERM));
    }
    if (getpgrp() == pid) CHECK(fails_with(setsid(), EPERM));  // a group leader cannot start a session
}

static atomic_int thread_nice_seen = 99;
static void* nice_thread(void* arg) {
    (void)arg;
    errno = 0;
    atomic_store(&thread_nice_seen, getpriority(PRIO_PROCESS, 0));  // inherited from its creator
    setpriority(PRIO_PROCESS, 0, 19);
    atomic_store(&helper_tid, tid());
    while (!atomic_load(&helper_go)) sleep_ms(1);
    return NULL;
}

static void test_priority(void) {
    errno = 0;
    int nice0 = getpriority(PRIO_PROCESS, 0);
    CHECK(errno == 0);
    CHECK(syscall(SYS_getpriority, PRIO_PROCESS, 0) == 20 - nice0);  // the raw call's encoding
    CHECK(getpriority(PRIO_PROCESS, getpid()) == nice0);
    int lower = nice0 < 19 ? nice0 + 1 : 19;
    CHECK(setpriority(PRIO_PROCESS, 0, lower) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == lower);
    CHECK(setpriority(PRIO_PROCESS, 0, 100) == 0);  // clamped to 19
    CHECK(getpriority(PRIO_PROCESS, 0) == 19);
    CHECK(setpriority(PRIO_PROCESS, 0, lower) == 0);  // root may raise it again

    // Per thread, as Linux keeps it: a new thread starts with its creator's value, and its
    // own change is not the process's.
    atomic_store(&helper_tid, 0);
    atomic_store(&helper_go, 0);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, nice_thread, NULL) == 0);
    for (int i = 0; i < 5000 && !atomic_load(&helper_tid); ++i) sleep_ms(1);
    CHECK(atomic_load(&thread_nice_seen) == lower);
    CHECK(getpriority(PRIO_PROCESS, atomic_load(&helper_tid)) == 19);
    CHECK(getpriority(PRIO_PROCESS, 0) == lower);
    atomic_store(&helper_go, 1);
    pthread_join(t, NULL);
    CHECK(setpriority(PRIO_PROCESS, 0, nice0) == 0);
    CHECK(getpriority(PRIO_PROCESS, 0) == nice0);

    errno = 0;
    int v = getpriority(PRIO_PGRP, 0);
    CHECK(errno == 0 && v >= -20 && v <= 19);
    errno = 0;
    v = getpriority(PRIO_USER, 0);
    CHECK(errno == 0 && v >= -20 && v <= 19);
    CHECK(fails_with(getpriority(3, 0), EINVAL));
    CHECK(fails_with(setpriority(-1, 0, 0), EINVAL));
    CHECK(fails_with(getpriority(PRIO_PROCESS, NOT_A_PID), ESRCH));
    CHECK(fails_with(setpriority(PRIO_PROCESS, NOT_A_PID, 0), ESRCH));
    CHECK(fails_with(getpriority(PRIO_USER, 0x7ffffff0), ESRCH));  // a user with no process
    if (getpid() == 1) {                                           // elsewhere these would reach other processes
        CHECK(setpriority(PRIO_PGRP, 0, nice0) == 0);
        CHECK(setpriority(PRIO_USER, 0, nice0) == 0);
        CHECK(getpriority(PRIO_PGRP, 1) == nice0);
    }
}

static void test_sched(void) {
    CHECK(sched_get_priority_max(SCHED_FIFO) == 99);
    CHECK(sched_get_priority_min(SCHED_FIFO) == 1);
    CHECK(sched_get_priority_max(SCHED_RR) == 99);
    CHECK(sched_get_priority_min(SCHED_RR) == 1);
    CHECK(sched_get_priority_max(SCHED_OTHER) == 0);
    CHECK(sched_get_priority_min(SCHED_BATCH) == 0);
    CHECK(sched_get_priority_max(SCHED_IDLE) == 0);
    CHECK(fails_with(sched_get_priority_max(-1), EINVAL));
    CHECK(fails_with(sched_get_priority_min(4), EINVAL));

    CHECK(sched_getscheduler(0) == SCHED_OTHER);
    CHECK(sched_getscheduler(getpid()) == SCHED_OTHER);
    CHECK(fails_with(sched_getscheduler(-1), EINVAL));
    CHECK(fails_with(sched_getscheduler(NOT_A_PID), ESRCH));
    struct sched_param p = {.sched_priority = 5};
    CHECK(sched_getparam(0, &p) == 0 && p.sched_priority == 0);
    CHECK(fails_with(syscall(SYS_sched_getparam, 0, NULL), EINVAL));
    CHECK(fails_with(sched_getparam(-1, &p), EINVAL));
    CHECK(fails_with(sched_getparam(NOT_A_PID, &p), ESRCH));

    p.sched_priority = 1;
    CHECK(fails_with(sched_setscheduler(0, SCHED_OTHER, &p), EINVAL));  // priority 0 only
    p.sched_priority = 0;
    CHECK(fails_with(sched_setscheduler(0, SCHED_FIFO, &p), EINVAL));  // 1..99 only
    p.sched_priority = 100;
    CHECK(fails_with(sched_setscheduler(0, SCHED_RR, &p), EINVAL));
    p.sched_priority = 0;
    CHECK(fails_with(sched_setscheduler(0, 77, &p), EINVAL));
    CHECK(fails_with(sched_setscheduler(0, -1, &p), EINVAL));
    CHECK(fails_with(sched_setscheduler(-1, SCHED_OTHER, &p), EINVAL));
    CHECK(fails_with(sched_setscheduler(NOT_A_PID, SCHED_OTHER, &p), ESRCH));
    CHECK(fails_with(syscall(SYS_sched_setscheduler, 0, SCHED_OTHER, NULL), EINVAL));
    CHECK(sched_setscheduler(0, SCHED_BATCH, &p) == 0);
    CHECK(sched_getscheduler(0) == SCHED_BATCH);
    CHECK(sched_setscheduler(0, SCHED_OTHER | SCHED_RESET_ON_FORK, &p) == 0);
    CHECK(sched_getscheduler(0) == (SCHED_OTHER | SCHED_RESET_ON_FORK));
    CHECK(sched_setscheduler(0, SCHED_OTHER, &p) == 0);
    CHECK(sched_getscheduler(0) == SCHED_OTHER);
    CHECK(sched_setparam(0, &p) == 0);
    p.sched_priority = 3;
    CHECK(fails_with(sched_setparam(0, &p), EINVAL));  // SCHED_OTHER takes priority 0 only

    struct timespec ts = {-1, -1};
    CHECK(sched_rr_get_interval(0, &ts) == 0);
    CHECK(ts.tv_sec >= 0 && ts.tv_nsec >= 0 && ts.tv_nsec < 1000000000);
    CHECK(fails_with(sched_rr_get_interval(-1, &ts), EINVAL));
    CHECK(fails_with(sched_rr_get_interval(NOT_A_PID, &ts), ESRCH));
}

static void test_memory(void) {
    const long page = 4096;
    char* p = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    if (p == MAP_FAILED) return;
    // No large folios, which would back a touched page's neighbours on Linux (EINVAL in the
    // unikernel, as on a Linux without THP: every page is backed alone there).
    (void)madvise(p, 4 * page, MADV_NOHUGEPAGE);
    p[0] = 1;
    p[2 * page] = 1;
    unsigned char vec[4] = {9, 9, 9, 9};
    CHECK(mincore(p, 4 * page, vec) == 0);
    CHECK((vec[0] & 1) == 1 && (vec[2] & 1) == 1);  // touched: resident
    CHECK((vec[1] & 1) == 0 && (vec[3] & 1) == 0);  // never touched: not backed yet
    CHECK(mincore(p, 2 * page - 100, vec) == 0);    // a partial page counts as one
    CHECK(mincore(p, 0, vec) == 0);
    CHECK(fails_with(mincore(p + 1, page, vec), EINVAL));
    CHECK(fails_with(mincore(p, page, (unsigned char*)8), EFAULT));

    CHECK(mlock(p, page) == 0);
    CHECK(mlock(p + 1, 100) == 0);  // rounded out to the page
    CHECK(munlock(p, page) == 0);
    CHECK(syscall(SYS_mlock2, p, page, 0) == 0);
    CHECK(syscall(SYS_mlock2, p, page, MLOCK_ONFAULT) == 0);
    CHECK(fails_with(syscall(SYS_mlock2, p, page, 2), EINVAL));
    CHECK(munlock(p, 4 * page) == 0);
    CHECK(fails_with(mlockall(0), EINVAL));
    CHECK(fails_with(mlockall(MCL_ONFAULT), EINVAL));
    CHECK(fails_with(mlockall(8), EINVAL));
    CHECK(mlockall(MCL_CURRENT | MCL_ONFAULT) == 0);
    CHECK(munlockall() == 0);

    CHECK(msync(p, page, MS_SYNC) == 0);
    CHECK(msync(p, 4 * page, MS_ASYNC | MS_INVALIDATE) == 0);
    CHECK(msync(p, 0, MS_SYNC) == 0);
    CHECK(fails_with(msync(p + 1, page, MS_SYNC), EINVAL));
    CHECK(fails_with(msync(p, page, 0x100), EINVAL));
    CHECK(fails_with(msync(p, page, MS_SYNC | MS_ASYNC), EINVAL));

    CHECK(munmap(p + 3 * page, page) == 0);  // a hole at the end
    CHECK(fails_with(mincore(p, 4 * page, vec), ENOMEM));
    CHECK(fails_with(mlock(p, 4 * page), ENOMEM));
    CHECK(fails_with(mlock(p + 3 * page, page), ENOMEM));
    CHECK(fails_with(munlock(p + 3 * page, page), ENOMEM));
    CHECK(fails_with(msync(p, 4 * page, MS_SYNC), ENOMEM));
    munmap(p, 3 * page);

    // A file mapping: nothing to write back, and msync says so with success.
    int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, "abcd", 4) == 4);
        char* m = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
        CHECK(m != MAP_FAILED);
        if (m != MAP_FAILED) {
            CHECK(m[0] == 'a');
            CHECK(msync(m, page, MS_SYNC) == 0);
            CHECK(mincore(m, page, vec) == 0 && (vec[0] & 1) == 1);
            munmap(m, page);
        }
        close(fd);
    }
}

static int is_open(int fd) { return fcntl(fd, F_GETFD) != -1; }

static void test_close_range(void) {
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    for (int fd = 200; fd <= 203; ++fd) CHECK(dup2(pfd[0], fd) == fd);
    CHECK(syscall(SYS_close_range, 201, 202, 0) == 0);
    CHECK(is_open(200) && !is_open(201) && !is_open(202) && is_open(203));
    CHECK(fails_with(fcntl(201, F_GETFD), EBADF));
    CHECK(syscall(SYS_close_range, 203, 203, CLOSE_RANGE_CLOEXEC) == 0);
    CHECK(is_open(203) && fcntl(203, F_GETFD) == FD_CLOEXEC);
    CHECK(fcntl(200, F_GETFD) == 0);
    CHECK(fails_with(syscall(SYS_close_range, 5, 4, 0), EINVAL));
    CHECK(fails_with(syscall(SYS_close_range, 200, 203, 1), EINVAL));
    CHECK(fails_with(syscall(SYS_close_range, 200, 203, 8), EINVAL));
    CHECK(syscall(SYS_close_range, 200, ~0u, CLOSE_RANGE_UNSHARE) == 0);  // to the end
    CHECK(!is_open(200) && !is_open(203));
    CHECK(is_open(pfd[0]) && is_open(pfd[1]));
    CHECK(syscall(SYS_close_range, 1000, 1000, 0) == 0);  // nothing open there
    close(pfd[0]);
    close(pfd[1]);
}

static void test_wait(void) {
    int status;
    siginfo_t si;
    CHECK(fails_with(wait4(-1, &status, 0, NULL), ECHILD));
    CHECK(fails_with(wait4(-1, &status, WNOHANG, NULL), ECHILD));
    CHECK(fails_with(waitpid(0, &status, 0), ECHILD));
    CHECK(fails_with(wait(&status), ECHILD));
    CHECK(fails_with(wait4(-1, &status, 0x100, NULL), EINVAL));
    CHECK(fails_with(wait4(INT_MIN, &status, 0, NULL), ESRCH));
    CHECK(fails_with(syscall(SYS_waitid, P_ALL, 0, &si, WEXITED, NULL), ECHILD));
    CHECK(fails_with(syscall(SYS_waitid, P_ALL, 0, &si, WEXITED | WNOHANG, NULL), ECHILD));
    CHECK(fails_with(syscall(SYS_waitid, P_PID, NOT_A_PID, &si, WEXITED, NULL), ECHILD));
    CHECK(fails_with(syscall(SYS_waitid, P_ALL, 0, &si, 0, NULL), EINVAL));  // nothing to wait for
    CHECK(fails_with(syscall(SYS_waitid, P_ALL, 0, &si, WEXITED | 0x100, NULL), EINVAL));
    CHECK(fails_with(syscall(SYS_waitid, 7, 0, &si, WEXITED, NULL), EINVAL));
    CHECK(fails_with(syscall(SYS_waitid, P_PID, 0, &si, WEXITED, NULL), EINVAL));
    CHECK(fails_with(syscall(SYS_waitid, P_PGID, -1, &si, WEXITED, NULL), EINVAL));
    CHECK(fails_with(syscall(SYS_waitid, P_PIDFD, -1, &si, WEXITED, NULL), EINVAL));
    CHECK(fails_with(syscall(SYS_waitid, P_PIDFD, 0, &si, WEXITED, NULL), EBADF));  // not a pidfd
}

// flock: a thread blocks on a lock another description holds.
struct Locker {
    int fd, op;
    atomic_int done, result, err;
};
static void* locker(void* arg) {
    struct Locker* l = arg;
    int r = flock(l->fd, l->op);
    atomic_store(&l->err, errno);
    atomic_store(&l->result, r);
    atomic_store(&l->done, 1);
    return NULL;
}
static int wait_done(struct Locker* l, int ms) {
    for (int i = 0; i < ms && !atomic_load(&l->done); ++i) sleep_ms(1);
    return atomic_load(&l->done);
}
static void on_usr1(int sig) { (void)sig; }

static void test_flock(void) {
    char path[] = "/tmp/process-flock-XXXXXX";
    int fd1 = mkstemp(path);
    CHECK(fd1 >= 0);
    if (fd1 < 0) return;
    int fd2 = open(path, O_RDWR);
    int fd4 = open(path, O_RDONLY);
    CHECK(fd2 >= 0 && fd4 >= 0);
    unlink(path);

    CHECK(fails_with(flock(fd1, 0), EINVAL));
    CHECK(fails_with(flock(fd1, LOCK_SH | LOCK_EX), EINVAL));
    CHECK(fails_with(flock(-1, LOCK_SH), EBADF));
    CHECK(fails_with(flock(999, LOCK_UN), EBADF));

    CHECK(flock(fd1, LOCK_EX) == 0);
    CHECK(flock(fd1, LOCK_EX | LOCK_NB) == 0);                      // held already by this description
    CHECK(fails_with(flock(fd2, LOCK_EX | LOCK_NB), EWOULDBLOCK));  // two open()s conflict
    CHECK(fails_with(flock(fd2, LOCK_SH | LOCK_NB), EWOULDBLOCK));
    int fd3 = dup(fd1);
    CHECK(flock(fd3, LOCK_EX | LOCK_NB) == 0);  // a dup shares the description and its lock
    CHECK(flock(fd1, LOCK_SH) == 0);            // converted
    CHECK(flock(fd2, LOCK_SH | LOCK_NB) == 0);  // shared with shared
    CHECK(fails_with(flock(fd4, LOCK_EX | LOCK_NB), EWOULDBLOCK));
    CHECK(flock(fd2, LOCK_UN) == 0);
    CHECK(flock(fd2, LOCK_UN) == 0);  // nothing held: still fine
    CHECK(flock(fd1, LOCK_EX) == 0);

    // A blocking lock waits until the holder's description goes: closing one of two
    // descriptors of it is not enough.
    struct Locker a = {.fd = fd2, .op = LOCK_EX};
    pthread_t ta;
    CHECK(pthread_create(&ta, NULL, locker, &a) == 0);
    sleep_ms(100);
    CHECK(!atomic_load(&a.done));
    close(fd1);
    sleep_ms(50);
    CHECK(!atomic_load(&a.done));
    close(fd3);  // the last reference: its lock goes
    CHECK(wait_done(&a, 5000));
    CHECK(atomic_load(&a.result) == 0);
    pthread_join(ta, NULL);

    // ... or until it unlocks.
    struct Locker b = {.fd = fd4, .op = LOCK_SH};
    pthread_t tb;
    CHECK(pthread_create(&tb, NULL, locker, &b) == 0);
    sleep_ms(100);
    CHECK(!atomic_load(&b.done));
    CHECK(flock(fd2, LOCK_UN) == 0);
    CHECK(wait_done(&b, 5000));
    CHECK(atomic_load(&b.result) == 0);
    pthread_join(tb, NULL);

    // The wait is interruptible: a handler without SA_RESTART ends it with EINTR.
    struct sigaction sa = {.sa_handler = on_usr1};
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    struct Locker c = {.fd = fd2, .op = LOCK_EX};  // fd4 holds a shared lock
    pthread_t tc;
    CHECK(pthread_create(&tc, NULL, locker, &c) == 0);
    sleep_ms(100);
    CHECK(!atomic_load(&c.done));
    for (int i = 0; i < 100 && !atomic_load(&c.done); ++i) {
        pthread_kill(tc, SIGUSR1);
        sleep_ms(50);
    }
    CHECK(atomic_load(&c.done));
    CHECK(atomic_load(&c.result) == -1 && atomic_load(&c.err) == EINTR);
    pthread_join(tc, NULL);
    CHECK(fails_with(flock(fd2, LOCK_EX | LOCK_NB), EWOULDBLOCK));  // fd4's is still there
    close(fd4);
    CHECK(flock(fd2, LOCK_EX | LOCK_NB) == 0);
    close(fd2);
}

static void test_statfs(void) {
    struct statfs s;
    CHECK(statfs("/proc", &s) == 0 && s.f_type == PROC_SUPER_MAGIC);
    CHECK(statfs("/", &s) == 0 && s.f_bsize > 0);
    if (getpid() == 1) {
        CHECK(s.f_type == TMPFS_MAGIC && s.f_bsize == 4096 && s.f_namelen == 255);
        CHECK(s.f_blocks > 0 && s.f_bfree <= s.f_blocks && s.f_bavail == s.f_bfree);
    }
    struct statfs t;
    CHECK(statfs("/tmp", &t) == 0);
    int fd = open("/tmp", O_RDONLY | O_DIRECTORY);
    struct statfs u;
    CHECK(fd >= 0 && fstatfs(fd, &u) == 0 && u.f_type == t.f_type && u.f_bsize == t.f_bsize);
    close(fd);
    CHECK(fails_with(statfs("/no/such/path", &s), ENOENT));
    CHECK(fails_with(syscall(SYS_statfs, NULL, &s), EFAULT));
    CHECK(fails_with(syscall(SYS_statfs, "/", NULL), EFAULT));
    CHECK(fails_with(fstatfs(-1, &s), EBADF));

    int pfd[2], sv[2];
    CHECK(pipe(pfd) == 0);
    CHECK(fstatfs(pfd[0], &s) == 0 && s.f_type == PIPEFS_MAGIC && s.f_bsize == 4096);
    CHECK(fails_with(syscall(SYS_fstatfs, pfd[0], NULL), EFAULT));
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    CHECK(fstatfs(sv[0], &s) == 0 && s.f_type == SOCKFS_MAGIC);
    int efd = eventfd(0, 0), epfd = epoll_create1(0);
    CHECK(fstatfs(efd, &s) == 0 && s.f_type == ANON_INODE_FS_MAGIC);
    CHECK(fstatfs(epfd, &s) == 0 && s.f_type == ANON_INODE_FS_MAGIC);
    close(pfd[0]);
    close(pfd[1]);
    close(sv[0]);
    close(sv[1]);
    close(efd);
    close(epfd);
}

int main(void) {
    pthread_t t;
    CHECK(pthread_create(&t, NULL, helper, NULL) == 0);
    for (int i = 0; i < 5000 && !atomic_load(&helper_tid); ++i) sleep_ms(1);
    test_ids(atomic_load(&helper_tid));
    atomic_store(&helper_go, 1);
    pthread_join(t, NULL);
    test_priority();
    test_sched();
    test_memory();
    test_close_range();
    test_wait();
    test_flock();
    test_statfs();
    return check_summary();
}
