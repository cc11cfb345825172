// Runner for the conformance scenarios: registration, failure reporting, the
// per-scenario fd-leak / signal-state audit, a watchdog that turns a hung
// scenario into a reported failure, and main(). Only libc, libstdc++ and
// POSIX are used so the runner links statically for unikernel boots.
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
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
        E(EADDRNOTAVAIL) E(ESOCKTNOSUPPORT) E(EDESTADDRREQ) E(ENETUNREACH)
        E(EHOSTUNREACH) E(ECONNABORTED) E(ENETDOWN) E(EPFNOSUPPORT)
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

// ------------------------------------------------------------ inet sockets

namespace {

std::string err_str(const char* what)
{
    return std::string(what) + " failed: " + errno_name(errno);
}

}  // namespace

const char* inet_addr()
{
    const char* a = std::getenv("CONF_INET_ADDR");
    return a && *a ? a : "127.0.0.1";
}

const char* inet6_addr()
{
    const char* a = std::getenv("CONF_INET6_ADDR");
    return a && *a ? a : "::1";
}

sockaddr_in inet_sockaddr(uint16_t port)
{
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (inet_pton(AF_INET, inet_addr(), &sin.sin_addr) != 1)
        fail_at(__FILE__, __LINE__, std::string("bad CONF_INET_ADDR ") + inet_addr());
    return sin;
}

sockaddr_in6 inet6_sockaddr(uint16_t port)
{
    sockaddr_in6 sin6{};
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    if (inet_pton(AF_INET6, inet6_addr(), &sin6.sin6_addr) != 1)
        fail_at(__FILE__, __LINE__, std::string("bad CONF_INET6_ADDR ") + inet6_addr());
    return sin6;
}

uint16_t sock_addr::port() const
{
    if (ss.ss_family == AF_INET)
        return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
    return 0;
}

sock_addr harness_sockaddr(int family, uint16_t port)
{
    sock_addr a;
    if (family == AF_INET6) {
        sockaddr_in6 sin6 = inet6_sockaddr(port);
        std::memcpy(&a.ss, &sin6, sizeof sin6);
        a.len = sizeof sin6;
    } else {
        sockaddr_in sin = inet_sockaddr(port);
        std::memcpy(&a.ss, &sin, sizeof sin);
        a.len = sizeof sin;
    }
    return a;
}

std::string addr_str(const sockaddr* sa, socklen_t len)
{
    char buf[INET6_ADDRSTRLEN + 16];
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET && len >= sizeof(sockaddr_in)) {
        sockaddr_in sin;
        std::memcpy(&sin, sa, sizeof sin);
        inet_ntop(AF_INET, &sin.sin_addr, host, sizeof host);
        std::snprintf(buf, sizeof buf, "%s:%u", host, ntohs(sin.sin_port));
    } else if (sa->sa_family == AF_INET6 && len >= sizeof(sockaddr_in6)) {
        sockaddr_in6 sin6;
        std::memcpy(&sin6, sa, sizeof sin6);
        inet_ntop(AF_INET6, &sin6.sin6_addr, host, sizeof host);
        std::snprintf(buf, sizeof buf, "[%s]:%u", host, ntohs(sin6.sin6_port));
    } else {
        std::snprintf(buf, sizeof buf, "family %d, len %u", sa->sa_family,
                      static_cast<unsigned>(len));
    }
    return buf;
}

std::string addr_str(const sock_addr& a) { return addr_str(a.sa(), a.len); }

std::string sock_name(int fd)
{
    sock_addr a;
    a.len = sizeof a.ss;
    if (getsockname(fd, a.sa(), &a.len) == -1)
        return std::string("error ") + errno_name(errno);
    return addr_str(a);
}

std::string peer_name(int fd)
{
    sock_addr a;
    a.len = sizeof a.ss;
    if (getpeername(fd, a.sa(), &a.len) == -1)
        return std::string("error ") + errno_name(errno);
    return addr_str(a);
}

uint16_t local_port(int fd)
{
    sock_addr a;
    a.len = sizeof a.ss;
    if (getsockname(fd, a.sa(), &a.len) == -1)
        return 0;
    return a.port();
}

namespace {

// A TCP socket bound to the harness address with port 0.
int tcp_bound(int family, uint16_t* port_out, int type_flags)
{
    int fd = socket(family, SOCK_STREAM | type_flags, 0);
    if (fd == -1) {
        fail_at(__FILE__, __LINE__, err_str("socket"));
        return -1;
    }
    sock_addr a = harness_sockaddr(family, 0);
    if (bind(fd, a.sa(), a.len) == -1) {
        fail_at(__FILE__, __LINE__, err_str("bind") + " (" + addr_str(a) + ")");
        ::close(fd);
        return -1;
    }
    uint16_t port = local_port(fd);
    if (port == 0) {
        fail_at(__FILE__, __LINE__, "getsockname after bind reports port 0");
        ::close(fd);
        return -1;
    }
    if (port_out)
        *port_out = port;
    return fd;
}

}  // namespace

int tcp_listener(int family, int backlog, uint16_t* port_out, int type_flags)
{
    int fd = tcp_bound(family, port_out, type_flags);
    if (fd == -1)
        return -1;
    if (listen(fd, backlog) == -1) {
        fail_at(__FILE__, __LINE__, err_str("listen"));
        ::close(fd);
        return -1;
    }
    return fd;
}

int tcp_closed_port(int family, uint16_t* port_out)
{
    return tcp_bound(family, port_out, 0);
}

int tcp_connect_to(int family, uint16_t port, int type_flags, int timeout_ms)
{
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | type_flags, 0);
    if (fd == -1) {
        fail_at(__FILE__, __LINE__, err_str("socket"));
        return -1;
    }
    sock_addr a = harness_sockaddr(family, port);
    if (connect(fd, a.sa(), a.len) == -1 && errno != EINPROGRESS) {
        fail_at(__FILE__, __LINE__, err_str("connect") + " (" + addr_str(a) + ")");
        ::close(fd);
        return -1;
    }
    uint32_t m = await_events(fd, EPOLLOUT, EPOLLOUT, timeout_ms);
    int err = -1;
    socklen_t len = sizeof err;
    if (!(m & EPOLLOUT) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
        fail_at(__FILE__, __LINE__,
                "connect to " + addr_str(a) + " did not complete: mask " + epoll_mask_str(m) +
                    ", SO_ERROR " + (err >= 0 ? errno_name(err) : "?"));
        ::close(fd);
        return -1;
    }
    if (!(type_flags & SOCK_NONBLOCK) && set_nonblocking(fd, false) == -1) {
        fail_at(__FILE__, __LINE__, err_str("fcntl"));
        ::close(fd);
        return -1;
    }
    return fd;
}

int tcp_accept(int listener, int flags, int timeout_ms)
{
    uint32_t m = await_events(listener, EPOLLIN, EPOLLIN, timeout_ms);
    if (!(m & EPOLLIN)) {
        fail_at(__FILE__, __LINE__, "no connection to accept: mask " + epoll_mask_str(m));
        return -1;
    }
    int fd = accept4(listener, nullptr, nullptr, flags);
    if (fd == -1)
        fail_at(__FILE__, __LINE__, err_str("accept4"));
    return fd;
}

bool tcp_connected_pair(int family, int* client, int* server, int type_flags)
{
    *client = *server = -1;
    uint16_t port = 0;
    int l = tcp_listener(family, 16, &port);
    if (l == -1)
        return false;
    int c = tcp_connect_to(family, port, type_flags);
    if (c == -1) {
        ::close(l);
        return false;
    }
    int s = tcp_accept(l, type_flags & (SOCK_NONBLOCK | SOCK_CLOEXEC));
    ::close(l);
    if (s == -1) {
        ::close(c);
        return false;
    }
    *client = c;
    *server = s;
    return true;
}

fd_pair make_tcp_pair(int family, int type_flags)
{
    int c = -1, s = -1;
    if (!tcp_connected_pair(family, &c, &s, type_flags))
        return {};
    return {ufd(c), ufd(s)};
}

int udp_bound(int family, uint16_t* port_out, int type_flags)
{
    int fd = socket(family, SOCK_DGRAM | type_flags, 0);
    if (fd == -1) {
        fail_at(__FILE__, __LINE__, err_str("socket"));
        return -1;
    }
    sock_addr a = harness_sockaddr(family, 0);
    if (bind(fd, a.sa(), a.len) == -1) {
        fail_at(__FILE__, __LINE__, err_str("bind") + " (" + addr_str(a) + ")");
        ::close(fd);
        return -1;
    }
    uint16_t port = local_port(fd);
    if (port == 0) {
        fail_at(__FILE__, __LINE__, "getsockname after bind reports port 0");
        ::close(fd);
        return -1;
    }
    if (port_out)
        *port_out = port;
    return fd;
}

int udp_client(int family, uint16_t port, int type_flags)
{
    int fd = socket(family, SOCK_DGRAM | type_flags, 0);
    if (fd == -1) {
        fail_at(__FILE__, __LINE__, err_str("socket"));
        return -1;
    }
    sock_addr a = harness_sockaddr(family, port);
    if (connect(fd, a.sa(), a.len) == -1) {
        fail_at(__FILE__, __LINE__, err_str("connect") + " (" + addr_str(a) + ")");
        ::close(fd);
        return -1;
    }
    return fd;
}

uint32_t epoll_mask(int fd, uint32_t interest)
{
    int saved = errno;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep == -1) {
        fail_at(__FILE__, __LINE__, err_str("epoll_create1"));
        return 0;
    }
    epoll_event e = ev(interest);
    uint32_t mask = 0;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == -1) {
        fail_at(__FILE__, __LINE__, err_str("epoll_ctl(ADD)"));
    } else {
        epoll_event out{};
        if (epoll_wait(ep, &out, 1, 0) == 1)
            mask = out.events;
    }
    ::close(ep);
    errno = saved;
    return mask;
}

uint32_t await_events(int fd, uint32_t interest, uint32_t until, int timeout_ms)
{
    int saved = errno;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep == -1) {
        fail_at(__FILE__, __LINE__, err_str("epoll_create1"));
        return 0;
    }
    epoll_event e = ev(interest);
    uint32_t mask = 0;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) == -1) {
        fail_at(__FILE__, __LINE__, err_str("epoll_ctl(ADD)"));
        ::close(ep);
        return 0;
    }
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        // Level-triggered: an unrelated ready bit returns at once, so poll
        // in short slices and sleep a little between unsatisfied looks.
        double left = deadline - now_ms();
        int slice = left <= 0 ? 0 : left < 10 ? static_cast<int>(left) + 1 : 10;
        epoll_event out{};
        int n = epoll_wait(ep, &out, 1, slice);
        mask = n == 1 ? out.events : 0;
        if ((mask & until) == until || now_ms() >= deadline)
            break;
        if (n == 1)
            sleep_ms(1);
    }
    ::close(ep);
    errno = saved;
    return mask;
}

ssize_t recv_exact(int fd, void* buf, size_t n, int timeout_ms)
{
    auto* p = static_cast<char*>(buf);
    size_t got = 0;
    double deadline = now_ms() + timeout_ms;
    while (got < n) {
        ssize_t r = recv(fd, p + got, n - got, MSG_DONTWAIT);
        if (r > 0) {
            got += static_cast<size_t>(r);
            continue;
        }
        if (r == 0 || errno != EAGAIN)
            break;
        double left = deadline - now_ms();
        if (left <= 0)
            break;
        await_events(fd, EPOLLIN | EPOLLRDHUP, EPOLLIN, static_cast<int>(left) + 1);
    }
    return static_cast<ssize_t>(got);
}

ssize_t send_exact(int fd, const void* buf, size_t n, int timeout_ms)
{
    const auto* p = static_cast<const char*>(buf);
    size_t sent = 0;
    double deadline = now_ms() + timeout_ms;
    while (sent < n) {
        ssize_t r = send(fd, p + sent, n - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r > 0) {
            sent += static_cast<size_t>(r);
            continue;
        }
        if (r == 0 || errno != EAGAIN)
            break;
        double left = deadline - now_ms();
        if (left <= 0)
            break;
        await_events(fd, EPOLLOUT, EPOLLOUT, static_cast<int>(left) + 1);
    }
    return static_cast<ssize_t>(sent);
}

int set_nonblocking(int fd, bool on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl == -1)
        return -1;
    return fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

int get_int_opt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    if (getsockopt(fd, level, name, &v, &len) == -1)
        return -1;
    if (len != sizeof v) {
        fail_at(__FILE__, __LINE__, "getsockopt returned optlen " + std::to_string(len));
        return -1;
    }
    return v;
}

int set_int_opt(int fd, int level, int name, int value)
{
    return setsockopt(fd, level, name, &value, sizeof value);
}

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
