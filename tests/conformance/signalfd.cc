// signalfd: the process's blocked, pending signals as a readable file, the way epoll servers
// take SIGTERM and SIGINT. Argument checks and their order, the file's flags, readiness in
// poll and epoll (EPOLLIN only), 128-byte signalfd_siginfo records (one per signal, lowest
// first, several per read), a blocking read and an epoll_wait woken by a signal from another
// thread, the mask changed through the same descriptor, and a POSIX timer's value. Follows
// fs/signalfd.c: do_signalfd4(), signalfd_poll(), signalfd_read(), signalfd_copyinfo().
//
// Not part of the hosted run (conformance-pollux): there signalfd is the host's, and a host
// descriptor cannot join a Pollux epoll (README, "hosted runtime"). Every signal here is sent
// to a thread (tgkill, a timer's SIGEV_THREAD_ID): the harness's watchdog thread does not
// block them, and a process-directed one could land there and end the run.
#include "harness.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

using namespace conf;

namespace {

// Blocks the signals for the scenario (threads it starts inherit the mask) and, on the way
// out, takes whatever of them is still pending before restoring the old mask.
class scoped_block {
public:
    explicit scoped_block(std::initializer_list<int> sigs)
    {
        sigemptyset(&set_);
        for (int s : sigs)
            sigaddset(&set_, s);
        CHECK_OK(pthread_sigmask(SIG_BLOCK, &set_, &old_));
    }
    ~scoped_block()
    {
        timespec zero{};
        while (sigtimedwait(&set_, nullptr, &zero) > 0) {
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    const sigset_t* set() const { return &set_; }

private:
    sigset_t set_{}, old_{};
};

sigset_t only(int sig)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    return s;
}

int send_to(pid_t tid, int sig) { return static_cast<int>(syscall(SYS_tgkill, getpid(), tid, sig)); }

short poll_in(int fd)
{
    pollfd p{fd, POLLIN | POLLOUT | POLLPRI | POLLRDHUP, 0};
    return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

}  // namespace

SCENARIO(signalfd_arguments_and_flags)
{
    sigset_t mask = only(SIGUSR1);
    // The mask's size first, then the flags.
    CHECK_ERR(syscall(SYS_signalfd4, -1, &mask, 4, 0), EINVAL);
    CHECK_ERR(signalfd(-1, &mask, 0x1), EINVAL);
    CHECK_ERR(syscall(SYS_signalfd4, -1, nullptr, 8, 0), EFAULT);
    ufd sfd(CHECK_OK(signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)));
    CHECK_EQ(fcntl(sfd, F_GETFL), O_RDWR | O_NONBLOCK);
    CHECK_EQ(fcntl(sfd, F_GETFD), FD_CLOEXEC);
    ufd plain(CHECK_OK(signalfd(-1, &mask, 0)));
    CHECK_EQ(fcntl(plain, F_GETFL), O_RDWR);
    CHECK_EQ(fcntl(plain, F_GETFD), 0);
    // Updating: a descriptor that is not a signalfd, or none at all.
    ufd efd(CHECK_OK(eventfd(0, 0)));
    CHECK_ERR(signalfd(efd, &mask, 0), EINVAL);
    CHECK_ERR(signalfd(9999, &mask, 0), EBADF);
    CHECK_EQ(signalfd(sfd, &mask, 0), sfd.get());
    // Short reads and any write are EINVAL; nothing pending is EAGAIN.
    char small[64];
    CHECK_ERR(read(sfd, small, sizeof small), EINVAL);
    signalfd_siginfo si;
    CHECK_ERR(read(sfd, &si, sizeof si), EAGAIN);
    CHECK_ERR(write(sfd, &si, sizeof si), EINVAL);
    CHECK_EQ(poll_in(sfd), 0);
}

SCENARIO(signalfd_reads_blocked_signals)
{
    scoped_block block({SIGUSR1, SIGUSR2});
    sigset_t mask = *block.set();
    ufd sfd(CHECK_OK(signalfd(-1, &mask, SFD_NONBLOCK)));
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, sfd, EPOLLIN | EPOLLOUT | EPOLLET, 7));
    epoll_event ev[2];
    CHECK_EQ(ep_wait(ep, ev, 2, 0), 0);
    CHECK_OK(send_to(gettid(), SIGUSR2));
    CHECK_OK(raise(SIGUSR1));
    CHECK_EVENTS(poll_in(sfd), POLLIN);
    CHECK_EQ(ep_wait(ep, ev, 2, 0), 1);
    CHECK_EVENTS(ev[0].events, EPOLLIN);
    CHECK_EQ(ev[0].data.u64, 7u);
    // Both in one read, lowest number first, each as its sender made it.
    signalfd_siginfo si[3];
    std::memset(si, 0xff, sizeof si);
    CHECK_EQ(read(sfd, si, sizeof si), ssize_t(2 * sizeof(signalfd_siginfo)));
    CHECK_EQ(si[0].ssi_signo, uint32_t(SIGUSR1));
    CHECK_EQ(si[0].ssi_code, SI_TKILL);
    CHECK_EQ(si[0].ssi_pid, uint32_t(getpid()));
    CHECK_EQ(si[0].ssi_uid, uint32_t(getuid()));
    CHECK_EQ(si[0].ssi_errno, 0);
    CHECK_EQ(si[1].ssi_signo, uint32_t(SIGUSR2));
    CHECK_EQ(si[1].ssi_code, SI_TKILL);
    CHECK_EQ(si[1].ssi_pid, uint32_t(getpid()));
    CHECK_EQ(si[1].ssi_tid, 0u);
    CHECK_EQ(si[1].ssi_ptr, 0u);
    CHECK_ERR(read(sfd, si, sizeof si), EAGAIN);
    CHECK_EQ(poll_in(sfd), 0);
    // Taken by the read: sigpending no longer shows them.
    sigset_t pending;
    CHECK_OK(sigpending(&pending));
    CHECK_EQ(sigismember(&pending, SIGUSR1), 0);
    // A signal outside the fd's mask is not its to report.
    sigset_t just2 = only(SIGUSR2);
    CHECK_EQ(signalfd(sfd, &just2, 0), sfd.get());
    CHECK_OK(raise(SIGUSR1));
    CHECK_EQ(poll_in(sfd), 0);
    CHECK_ERR(read(sfd, si, sizeof si), EAGAIN);
    CHECK_OK(sigpending(&pending));
    CHECK_EQ(sigismember(&pending, SIGUSR1), 1);
}

SCENARIO(signalfd_wakes_blocked_reader_and_epoll)
{
    scoped_block block({SIGUSR1});
    sigset_t mask = only(SIGUSR1);
    ufd sfd(CHECK_OK(signalfd(-1, &mask, 0)));
    // A blocking read, woken by a signal sent from another thread.
    std::atomic<uint32_t> got{0};
    std::atomic<pid_t> tid{0};
    {
        bg_thread reader([&] {
            tid = gettid();
            signalfd_siginfo si{};
            if (read(sfd, &si, sizeof si) == ssize_t(sizeof si))
                got = si.ssi_signo;
        });
        REQUIRE(wait_until([&] { return tid.load() != 0; }, 2000));
        usleep(30000);
        CHECK_EQ(got.load(), 0u);
        CHECK_OK(send_to(tid, SIGUSR1));
        CHECK(reader.join_for(2000));
        CHECK_EQ(got.load(), uint32_t(SIGUSR1));
    }
    // An epoll_wait in another thread, likewise.
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK(ep_add(ep, sfd, EPOLLIN, 1));
    // epoll asks the file as the waiting thread: the signal is for that thread.
    std::atomic<int> n{-2};
    tid = 0;
    bg_thread waiter([&] {
        tid = gettid();
        epoll_event ev;
        n = epoll_wait(ep, &ev, 1, 2000);
    });
    REQUIRE(wait_until([&] { return tid.load() != 0; }, 2000));
    usleep(30000);
    CHECK_EQ(n.load(), -2);
    CHECK_OK(send_to(tid, SIGUSR1));
    CHECK(waiter.join_for(3000));
    CHECK_EQ(n.load(), 1);
}

SCENARIO(signalfd_timer_value)
{
    int sig = SIGRTMIN + 1;
    scoped_block block({sig});
    sigset_t mask = only(sig);
    ufd sfd(CHECK_OK(signalfd(-1, &mask, 0)));
    sigevent sev{};
    sev.sigev_notify = SIGEV_THREAD_ID;
    sev._sigev_un._tid = gettid();
    sev.sigev_signo = sig;
    sev.sigev_value.sival_int = 4242;
    timer_t t;
    REQUIRE(timer_create(CLOCK_MONOTONIC, &sev, &t) == 0);
    itimerspec its{};
    its.it_value.tv_nsec = 1000000;  // 1 ms
    CHECK_OK(timer_settime(t, 0, &its, nullptr));
    signalfd_siginfo si{};
    CHECK_EQ(read(sfd, &si, sizeof si), ssize_t(sizeof si));  // blocks until it fires
    CHECK_EQ(si.ssi_signo, uint32_t(sig));
    CHECK_EQ(si.ssi_code, SI_TIMER);
    CHECK_EQ(si.ssi_int, 4242);
    CHECK_EQ(si.ssi_overrun, 0u);
    CHECK_OK(timer_delete(t));
}
