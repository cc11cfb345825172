// Runner for the conformance scenarios: registration, failure reporting, the
// per-scenario fd-leak / signal-state audit, a watchdog that turns a hung
// scenario into a reported failure, and main(). Only libc, libstdc++ and
// POSIX are used so the runner links statically for unikernel boots.
#include "harness.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

namespace conf {
namespace {

struct scenario {
    const char* name;
    scenario_fn fn;
    const char* file;
    int line;
};

std::vector<scenario>& registry()
{
    static std::vector<scenario> r;
    return r;
}

std::mutex g_report_mu;
const char* g_current = "";
std::atomic<bool> g_failed{false};
// Progress, for the summary printed when a hung scenario aborts the run.
int g_passed_count = 0, g_failed_count = 0, g_not_run = 0;

// Caller holds g_report_mu. Counts the current and all unrun scenarios as failed.
[[noreturn]] void abort_run(const char* why)
{
    std::printf("%s: %s; aborting the run\n", g_current, why);
    std::printf("FAIL %s\n", g_current);
    std::printf("%d passed, %d failed\n", g_passed_count, g_failed_count + 1 + g_not_run);
    std::fflush(stdout);
    _exit(1);
}

constexpr int kMaxProbeFd = 1024;
constexpr int kScenarioTimeoutMs = 60000;

std::vector<int> open_fds()
{
    std::vector<int> fds;
    for (int fd = 0; fd < kMaxProbeFd; fd++) {
        int saved = errno;
        if (fcntl(fd, F_GETFD) != -1)
            fds.push_back(fd);
        errno = saved;
    }
    return fds;
}

struct signal_state {
    sigset_t mask;
    void (*handlers[32])(int);
};

signal_state capture_signals()
{
    signal_state s{};
    pthread_sigmask(SIG_SETMASK, nullptr, &s.mask);
    for (int sig = 1; sig < 32; sig++) {
        struct sigaction sa {};
        if (sig != SIGKILL && sig != SIGSTOP && sigaction(sig, nullptr, &sa) == 0)
            s.handlers[sig] = sa.sa_handler;
    }
    return s;
}

// Watchdog: a scenario that blocks forever is reported and ends the run
// instead of hanging CI.
struct watchdog {
    std::mutex mu;
    std::condition_variable cv;
    long generation = 0;
    bool running = false;
    bool quit = false;
    std::thread th;

    void start()
    {
        th = std::thread([this] { loop(); });
    }
    void loop()
    {
        std::unique_lock<std::mutex> lk(mu);
        while (!quit) {
            if (!running) {
                cv.wait(lk);
                continue;
            }
            long gen = generation;
            bool woke = cv.wait_for(lk, std::chrono::milliseconds(kScenarioTimeoutMs),
                                    [&] { return quit || generation != gen || !running; });
            if (!woke) {
                std::lock_guard<std::mutex> rlk(g_report_mu);
                abort_run("timed out after 60 s");
            }
        }
    }
    void begin()
    {
        std::lock_guard<std::mutex> lk(mu);
        generation++;
        running = true;
        cv.notify_all();
    }
    void end()
    {
        std::lock_guard<std::mutex> lk(mu);
        running = false;
        generation++;
        cv.notify_all();
    }
    void stop()
    {
        {
            std::lock_guard<std::mutex> lk(mu);
            quit = true;
            cv.notify_all();
        }
        th.join();
    }
};

}  // namespace

scenario_reg::scenario_reg(const char* name, scenario_fn fn, const char* file, int line)
{
    registry().push_back({name, fn, file, line});
}

void fail_at(const char* file, int line, const std::string& what)
{
    std::lock_guard<std::mutex> lk(g_report_mu);
    g_failed = true;
    std::printf("%s:%d: %s: %s\n", file, line, g_current, what.c_str());
    std::fflush(stdout);
}

bool current_failed() { return g_failed; }
const char* current_name() { return g_current; }

const char* errno_name(int e)
{
    switch (e) {
#define E(x) \
    case x: return #x;
        E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF)
        E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST) E(EXDEV)
        E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(EFBIG)
        E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK)
        E(ENAMETOOLONG) E(ENOSYS) E(ELOOP) E(EOVERFLOW) E(ENOTSOCK) E(EMSGSIZE)
        E(EPROTOTYPE) E(ENOPROTOOPT) E(EPROTONOSUPPORT) E(EOPNOTSUPP) E(EAFNOSUPPORT)
        E(EADDRINUSE) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ETIMEDOUT)
        E(ECONNREFUSED) E(EALREADY) E(EINPROGRESS) E(ECANCELED) E(ESHUTDOWN)
#undef E
    case 0: return "0";
    default: {
        static thread_local char buf[32];
        std::snprintf(buf, sizeof buf, "errno %d", e);
        return buf;
    }
    }
}

std::string epoll_mask_str(uint32_t mask)
{
    static const struct {
        uint32_t bit;
        const char* name;
    } names[] = {
        {EPOLLIN, "EPOLLIN"},         {EPOLLPRI, "EPOLLPRI"},       {EPOLLOUT, "EPOLLOUT"},
        {EPOLLERR, "EPOLLERR"},       {EPOLLHUP, "EPOLLHUP"},       {0x020, "POLLNVAL"},
        {EPOLLRDNORM, "EPOLLRDNORM"}, {EPOLLRDBAND, "EPOLLRDBAND"}, {EPOLLWRNORM, "EPOLLWRNORM"},
        {EPOLLWRBAND, "EPOLLWRBAND"}, {EPOLLMSG, "EPOLLMSG"},       {EPOLLRDHUP, "EPOLLRDHUP"},
        {EPOLLEXCLUSIVE, "EPOLLEXCLUSIVE"}, {EPOLLWAKEUP, "EPOLLWAKEUP"},
        {EPOLLONESHOT, "EPOLLONESHOT"},     {EPOLLET, "EPOLLET"},
    };
    std::string s;
    uint32_t rest = mask;
    for (const auto& n : names) {
        if (mask & n.bit) {
            if (!s.empty())
                s += "|";
            s += n.name;
            rest &= ~n.bit;
        }
    }
    if (rest) {
        char buf[24];
        std::snprintf(buf, sizeof buf, "%s0x%x", s.empty() ? "" : "|", rest);
        s += buf;
    }
    if (s.empty())
        s = "0";
    char hex[24];
    std::snprintf(hex, sizeof hex, " (0x%x)", mask);
    return s + hex;
}

std::string fmt_int(long long v)
{
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld", v);
    return buf;
}

std::string fmt_uint(unsigned long long v)
{
    char buf[64];
    if (v > 9)
        std::snprintf(buf, sizeof buf, "%llu (0x%llx)", v, v);
    else
        std::snprintf(buf, sizeof buf, "%llu", v);
    return buf;
}

std::string fmt_double(double v)
{
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

double now_ms()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<double>(ts.tv_sec) * 1000.0 + static_cast<double>(ts.tv_nsec) / 1e6;
}

void sleep_ms(int ms)
{
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
}

void ufd::reset(int fd)
{
    if (fd_ >= 0) {
        int saved = errno;
        ::close(fd_);
        errno = saved;
    }
    fd_ = fd;
}

int ufd::close()
{
    int fd = std::exchange(fd_, -1);
    return ::close(fd);
}

fd_pair make_pipe(int flags)
{
    int p[2] = {-1, -1};
    if (pipe2(p, flags) == -1) {
        fail_at(__FILE__, __LINE__, std::string("pipe2 failed: ") + errno_name(errno));
        return {};
    }
    return {ufd(p[0]), ufd(p[1])};
}

fd_pair make_socketpair(int type)
{
    int p[2] = {-1, -1};
    if (socketpair(AF_UNIX, type, 0, p) == -1) {
        fail_at(__FILE__, __LINE__, std::string("socketpair failed: ") + errno_name(errno));
        return {};
    }
    return {ufd(p[0]), ufd(p[1])};
}

bool ep_add(int ep, int fd, uint32_t events, uint64_t data)
{
    epoll_event e = ev(events, data);
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == 0)
        return true;
    fail_at(__FILE__, __LINE__,
            std::string("epoll_ctl(ADD) failed: ") + errno_name(errno));
    return false;
}

int ep_wait(int ep, epoll_event* evs, int max, int timeout_ms)
{
    return epoll_wait(ep, evs, max, timeout_ms);
}

ssize_t efd_write(int fd, uint64_t v) { return write(fd, &v, sizeof v); }
ssize_t efd_read(int fd, uint64_t* v) { return read(fd, v, sizeof *v); }

struct bg_thread::state {
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false;
    bool joined = false;
    std::thread th;
};

bg_thread::bg_thread(std::function<void()> fn) : st_(new state)
{
    state* st = st_;
    st->th = std::thread([st, fn = std::move(fn)] {
        fn();
        std::lock_guard<std::mutex> lk(st->mu);
        st->finished = true;
        st->cv.notify_all();
    });
}

bool bg_thread::join_for(int timeout_ms)
{
    if (st_->joined)
        return true;
    {
        std::unique_lock<std::mutex> lk(st_->mu);
        if (!st_->cv.wait_for(lk, std::chrono::milliseconds(timeout_ms),
                              [&] { return st_->finished; }))
            return false;
    }
    st_->th.join();
    st_->joined = true;
    return true;
}

bool bg_thread::done() const
{
    std::lock_guard<std::mutex> lk(st_->mu);
    return st_->finished;
}

pthread_t bg_thread::native() const { return st_->th.native_handle(); }

bg_thread::~bg_thread()
{
    if (!st_->joined && !join_for(10000)) {
        std::lock_guard<std::mutex> lk(g_report_mu);
        abort_run("helper thread still blocked 10 s after the scenario gave up on it");
    }
    delete st_;
}

bool wait_until(const std::function<bool()>& pred, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    while (!pred()) {
        if (now_ms() > deadline)
            return false;
        sleep_ms(1);
    }
    return true;
}

scoped_sigaction::scoped_sigaction(int sig, void (*handler)(int), int flags) : sig_(sig)
{
    struct sigaction sa {};
    sa.sa_handler = handler;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, &old_) == -1)
        fail_at(__FILE__, __LINE__, std::string("sigaction failed: ") + errno_name(errno));
}

scoped_sigaction::~scoped_sigaction() { sigaction(sig_, &old_, nullptr); }

}  // namespace conf

int main(int argc, char** argv)
{
    using namespace conf;
    bool list = false;
    bool verbose = false;
    const char* filter = nullptr;
    for (int i = 1; i < argc; i++) {
        if (std::strcmp(argv[i], "--list") == 0)
            list = true;
        else if (std::strcmp(argv[i], "-v") == 0 || std::strcmp(argv[i], "--verbose") == 0)
            verbose = true;
        else if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
            std::printf("usage: %s [--list] [-v] [NAME-SUBSTRING]\n", argv[0]);
            return 0;
        } else
            filter = argv[i];
    }

    auto& all = registry();
    std::stable_sort(all.begin(), all.end(), [](const scenario& a, const scenario& b) {
        int c = std::strcmp(a.file, b.file);
        return c != 0 ? c < 0 : a.line < b.line;
    });
    for (size_t i = 0; i + 1 < all.size(); i++)
        for (size_t j = i + 1; j < all.size(); j++)
            if (std::strcmp(all[i].name, all[j].name) == 0) {
                std::printf("duplicate scenario name %s (%s:%d and %s:%d)\n", all[i].name,
                            all[i].file, all[i].line, all[j].file, all[j].line);
                std::printf("0 passed, 1 failed\n");
                return 1;
            }

    std::vector<const scenario*> selected;
    for (const auto& s : all)
        if (!filter || std::strstr(s.name, filter))
            selected.push_back(&s);

    if (list) {
        for (const auto* s : selected)
            std::printf("%s\n", s->name);
        return 0;
    }

    // A scenario that trips over a broken pipe must fail, not kill the run;
    // SIGPIPE scenarios install their own counting handler.
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, nullptr, _IOLBF, 0);

    watchdog wd;
    wd.start();
    int passed = 0, failed = 0;
    for (size_t i = 0; i < selected.size(); i++) {
        const scenario* s = selected[i];
        {
            std::lock_guard<std::mutex> lk(g_report_mu);
            g_current = s->name;
            g_passed_count = passed;
            g_failed_count = failed;
            g_not_run = static_cast<int>(selected.size() - i - 1);
        }
        g_failed = false;
        std::vector<int> before = open_fds();
        signal_state sig_before = capture_signals();
        wd.begin();
        double t0 = now_ms();
        s->fn();
        double t1 = now_ms();
        wd.end();

        std::vector<int> after = open_fds();
        for (int fd : after)
            if (!std::binary_search(before.begin(), before.end(), fd)) {
                fail_at(s->file, s->line, "leaked fd " + std::to_string(fd));
                close(fd);  // keep later scenarios independent of this leak
            }
        for (int fd : before)
            if (!std::binary_search(after.begin(), after.end(), fd))
                fail_at(s->file, s->line,
                        "closed fd " + std::to_string(fd) + " that it did not open");
        signal_state sig_after = capture_signals();
        for (int sig = 1; sig < 32; sig++) {
            if (sigismember(&sig_before.mask, sig) != sigismember(&sig_after.mask, sig))
                fail_at(s->file, s->line,
                        "left signal " + std::to_string(sig) + " blocked/unblocked");
            if (sig_before.handlers[sig] != sig_after.handlers[sig])
                fail_at(s->file, s->line,
                        "did not restore the handler of signal " + std::to_string(sig));
        }

        if (g_failed) {
            failed++;
            std::printf("FAIL %s\n", s->name);
        } else {
            passed++;
            if (verbose)
                std::printf("PASS %s (%.0f ms)\n", s->name, t1 - t0);
        }
    }
    wd.stop();
    std::printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
