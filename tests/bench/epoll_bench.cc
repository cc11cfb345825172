// epoll micro-benchmarks: Pollux's in-process eventpoll against the host kernel's, in one binary
// and one run, so both sides see the same machine, the same moment and the same noise.
//
// Two backends, chosen per benchmark by a template parameter:
//  - Linux: the kernel itself through syscall(SYS_...), which is exactly what glibc's wrappers do.
//    (The plain names cannot reach it here: libpollux-hosted defines them.)
//  - Pollux: the standard names (epoll_ctl, epoll_wait, eventfd, read, write, close). This program
//    links libpollux-hosted ahead of libc, so they resolve to the hosted shim over the core.
// check_backends() makes sure of both before anything is measured: a mis-linked binary would
// otherwise time Linux twice and report it as Pollux.
//
// Descriptor budget: the epoll_wait rows watch up to 1 000 000 eventfds. Each Pollux descriptor
// also holds one host number (a /dev/null placeholder), so either backend needs about N host
// descriptor numbers, under RLIMIT_NOFILE, itself capped by fs.nr_open (1 048 576). Only one
// backend's set exists at a time: WatchedSet keeps the last one built and frees it when a row
// asks for another (backend, N). Rows run in registration order and repetitions of a row run
// back to back, so each set is built exactly once.
//
// A row that cannot get its descriptors does not measure anything smaller in their place: it
// fails with SkipWithError("needs N descriptors; RLIMIT_NOFILE is X"), and the report prints that.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr int kEventfdFlags = EFD_NONBLOCK | EFD_CLOEXEC;
// stdio, the epoll, Pollux's /dev/null placeholder, the benchmark library's own files.
constexpr long kSpareDescriptors = 64;
constexpr int kMaxEvents = 16;
constexpr long kLogSetupFrom = 100000;           // sets this big say how long they took to build and free
constexpr long kCounterSize = sizeof(uint64_t);  // what an eventfd read or write moves

// The host kernel, called the way glibc's wrappers call it.
struct Linux {
    static constexpr const char* kName = "linux";
    static int epoll_create() { return static_cast<int>(syscall(SYS_epoll_create1, EPOLL_CLOEXEC)); }
    static int ctl(int epfd, int op, int fd, epoll_event* event) {
        return static_cast<int>(syscall(SYS_epoll_ctl, epfd, op, fd, event));
    }
    static int wait(int epfd, epoll_event* events, int maxevents, int timeout_ms) {
        return static_cast<int>(syscall(SYS_epoll_wait, epfd, events, maxevents, timeout_ms));
    }
    static int new_eventfd() { return static_cast<int>(syscall(SYS_eventfd2, 0, kEventfdFlags)); }
    static long read(int fd, void* buf, size_t count) { return syscall(SYS_read, fd, buf, count); }
    static long write(int fd, const void* buf, size_t count) { return syscall(SYS_write, fd, buf, count); }
    static int close(int fd) { return static_cast<int>(syscall(SYS_close, fd)); }
};

// Pollux: the standard names, which libpollux-hosted defines.
struct Pollux {
    static constexpr const char* kName = "pollux";
    static int epoll_create() { return ::epoll_create1(EPOLL_CLOEXEC); }
    static int ctl(int epfd, int op, int fd, epoll_event* event) { return ::epoll_ctl(epfd, op, fd, event); }
    static int wait(int epfd, epoll_event* events, int maxevents, int timeout_ms) {
        return ::epoll_wait(epfd, events, maxevents, timeout_ms);
    }
    static int new_eventfd() { return ::eventfd(0, kEventfdFlags); }
    static long read(int fd, void* buf, size_t count) { return ::read(fd, buf, count); }
    static long write(int fd, const void* buf, size_t count) { return ::write(fd, buf, count); }
    static int close(int fd) { return ::close(fd); }
};

long nofile_limit() {
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return 0;
    return static_cast<long>(lim.rlim_cur);
}

long read_proc_long(const char* path, long fallback) {
    long value = fallback;
    if (FILE* f = std::fopen(path, "re")) {
        if (std::fscanf(f, "%ld", &value) != 1) value = fallback;
        std::fclose(f);
    }
    return value;
}

// Raises RLIMIT_NOFILE to fs.nr_open (root may raise the hard limit), else the soft limit to
// the hard one. Must run before the first Pollux descriptor: Pollux parks its placeholder just
// under the limit it sees then.
void raise_nofile_limit() {
    rlim_t nr_open = static_cast<rlim_t>(read_proc_long("/proc/sys/fs/nr_open", 1 << 20));
    struct rlimit lim = {nr_open, nr_open};
    if (setrlimit(RLIMIT_NOFILE, &lim) == 0) return;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    lim.rlim_cur = lim.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &lim);
}

long rss_mib() {
    long pages = 0;
    long resident = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "re")) {
        if (std::fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        std::fclose(f);
    }
    return resident * sysconf(_SC_PAGESIZE) / (1024L * 1024);
}

std::string fd_target(int fd) {
    char path[64];
    char target[256];
    std::snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(path, target, sizeof(target) - 1);
    if (n < 0) return "?";
    target[n] = '\0';
    return target;
}

// The host must see Linux's objects as eventpoll/eventfd inodes and Pollux's as placeholders.
bool check_backends() {
    struct Probe {
        const char* backend;
        int fd;
        const char* expected;
    };
    int linux_ep = Linux::epoll_create();
    int linux_efd = Linux::new_eventfd();
    int pollux_ep = Pollux::epoll_create();
    int pollux_efd = Pollux::new_eventfd();
    const Probe probes[] = {{"linux epoll", linux_ep, "anon_inode:[eventpoll]"},
                            {"linux eventfd", linux_efd, "anon_inode:[eventfd]"},
                            {"pollux epoll", pollux_ep, "/dev/null"},
                            {"pollux eventfd", pollux_efd, "/dev/null"}};
    bool ok = true;
    for (const Probe& p : probes) {
        std::string target = p.fd < 0 ? std::string("error: ") + std::strerror(errno) : fd_target(p.fd);
        if (p.fd < 0 || target != p.expected) {
            std::fprintf(stderr, "epoll-bench: %s is fd %d -> %s, expected %s\n", p.backend, p.fd, target.c_str(),
                         p.expected);
            ok = false;
        }
    }
    if (linux_efd >= 0) Linux::close(linux_efd);
    if (linux_ep >= 0) Linux::close(linux_ep);
    if (pollux_efd >= 0) Pollux::close(pollux_efd);
    if (pollux_ep >= 0) Pollux::close(pollux_ep);
    return ok;
}

// One backend's epoll watching N eventfds (level-triggered EPOLLIN), exactly one of them ready.
class WatchedSet {
public:
    // The set for (Backend, n), building it (and freeing any other) if needed. Check error().
    template <class Backend>
    static const WatchedSet& get(long n);
    // Frees the current set, if any.
    static void release_current();

    int epfd() const { return epfd_; }
    uint64_t ready_index() const { return fds_.size() - 1; }
    const std::string& error() const { return error_; }

private:
    template <class Backend>
    void build(long n);
    // Closes the descriptors but remembers (backend, n) and any error, so that a set that
    // could not be built is not tried again by every repetition.
    void free_descriptors();
    void release();

    const char* backend_ = nullptr;
    long n_ = 0;
    int epfd_ = -1;
    std::vector<int> fds_;
    int (*close_)(int) = nullptr;
    std::string error_;

    static WatchedSet current_;
};

WatchedSet WatchedSet::current_;

template <class Backend>
const WatchedSet& WatchedSet::get(long n) {
    if (current_.backend_ != Backend::kName || current_.n_ != n) {
        current_.release();
        current_.build<Backend>(n);
    }
    return current_;
}

void WatchedSet::release_current() { current_.release(); }

void WatchedSet::release() {
    free_descriptors();
    backend_ = nullptr;
    n_ = 0;
    error_.clear();
}

template <class Backend>
void WatchedSet::build(long n) {
    backend_ = Backend::kName;
    n_ = n;
    close_ = &Backend::close;
    error_.clear();
    char msg[256];
    long limit = nofile_limit();
    if (n + kSpareDescriptors > limit) {
        std::snprintf(msg, sizeof(msg), "needs %ld descriptors; RLIMIT_NOFILE is %ld", n + kSpareDescriptors, limit);
        error_ = msg;
        return;
    }
    auto start = std::chrono::steady_clock::now();
    epfd_ = Backend::epoll_create();
    if (epfd_ < 0) {
        std::snprintf(msg, sizeof(msg), "epoll_create1: %s", std::strerror(errno));
        error_ = msg;
        return;
    }
    fds_.reserve(static_cast<size_t>(n));
    for (long i = 0; i < n; ++i) {
        int fd = Backend::new_eventfd();
        if (fd < 0) {
            std::snprintf(msg, sizeof(msg), "needs %ld descriptors; RLIMIT_NOFILE is %ld (eventfd %ld failed: %s)",
                          n + kSpareDescriptors, limit, i, std::strerror(errno));
            error_ = msg;
            free_descriptors();
            return;
        }
        fds_.push_back(fd);
        epoll_event event = {};
        event.events = EPOLLIN;
        event.data.u64 = static_cast<uint64_t>(i);
        if (Backend::ctl(epfd_, EPOLL_CTL_ADD, fd, &event) != 0) {
            std::snprintf(msg, sizeof(msg), "epoll_ctl ADD %ld failed: %s (fs.epoll.max_user_watches is %ld)", i,
                          std::strerror(errno), read_proc_long("/proc/sys/fs/epoll/max_user_watches", -1));
            error_ = msg;
            free_descriptors();
            return;
        }
    }
    // Level-triggered and never read, so it stays ready for every iteration.
    uint64_t one = 1;
    if (Backend::write(fds_.back(), &one, sizeof(one)) != kCounterSize) {
        std::snprintf(msg, sizeof(msg), "write(eventfd): %s", std::strerror(errno));
        error_ = msg;
        free_descriptors();
        return;
    }
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (n >= kLogSetupFrom) {
        std::fprintf(stderr, "epoll-bench: %s: %ld eventfds watched in %.2f s (RSS %ld MiB)\n", backend_, n,
                     took.count(), rss_mib());
    }
}

void WatchedSet::free_descriptors() {
    if (epfd_ < 0 && fds_.empty()) return;
    auto start = std::chrono::steady_clock::now();
    // The epoll first: freeing it drops every item in one pass, so the closes below need not
    // unhook them one by one.
    if (epfd_ >= 0) close_(epfd_);
    for (int fd : fds_) close_(fd);
    size_t n = fds_.size();
    epfd_ = -1;
    std::vector<int>().swap(fds_);
    malloc_trim(0);  // give Pollux's freed files and items back before the next set is built
    std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
    if (static_cast<long>(n) >= kLogSetupFrom) {
        std::fprintf(stderr, "epoll-bench: %s: %zu eventfds freed in %.2f s (RSS %ld MiB)\n", backend_, n, took.count(),
                     rss_mib());
    }
}

// A small fixture for the rows that need one epoll and one eventfd; frees any big set first.
template <class Backend>
class Pair {
public:
    explicit Pair(benchmark::State& state) {
        WatchedSet::release_current();
        epfd_ = Backend::epoll_create();
        efd_ = Backend::new_eventfd();
        if (epfd_ < 0 || efd_ < 0) state.SkipWithError(("setup: " + std::string(std::strerror(errno))).c_str());
    }
    ~Pair() {
        if (efd_ >= 0) Backend::close(efd_);
        if (epfd_ >= 0) Backend::close(epfd_);
    }
    Pair(const Pair&) = delete;
    Pair& operator=(const Pair&) = delete;

    bool ok() const { return epfd_ >= 0 && efd_ >= 0; }
    int epfd() const { return epfd_; }
    int efd() const { return efd_; }

private:
    int epfd_ = -1;
    int efd_ = -1;
};

// Ends a row whose call did not do what it must: r is what the call returned.
void fail(benchmark::State& state, const char* what, long r) {
    std::string msg = std::string(what) + " returned " + std::to_string(r);
    if (r < 0) msg += std::string(": ") + std::strerror(errno);
    state.SkipWithError(msg.c_str());
}

// One iteration: EPOLL_CTL_ADD of an eventfd, then EPOLL_CTL_DEL of it.
template <class Backend>
void ctl_add_del(benchmark::State& state) {
    Pair<Backend> pair(state);
    if (!pair.ok()) return;
    epoll_event event = {};
    event.events = EPOLLIN;
    for (auto _ : state) {
        if (long r = Backend::ctl(pair.epfd(), EPOLL_CTL_ADD, pair.efd(), &event); r != 0) {
            return fail(state, "EPOLL_CTL_ADD", r);
        }
        if (long r = Backend::ctl(pair.epfd(), EPOLL_CTL_DEL, pair.efd(), nullptr); r != 0) {
            return fail(state, "EPOLL_CTL_DEL", r);
        }
    }
}

// One iteration: one EPOLL_CTL_MOD, alternating EPOLLIN and EPOLLIN|EPOLLOUT, the toggle of
// write interest an event loop does. The eventfd is writable, so the OUT mask makes the item
// ready: each MOD re-polls the file and may queue the item, on both backends alike.
template <class Backend>
void ctl_mod(benchmark::State& state) {
    Pair<Backend> pair(state);
    if (!pair.ok()) return;
    epoll_event masks[2] = {};
    masks[0].events = EPOLLIN;
    masks[1].events = EPOLLIN | EPOLLOUT;
    if (long r = Backend::ctl(pair.epfd(), EPOLL_CTL_ADD, pair.efd(), &masks[0]); r != 0) {
        return fail(state, "EPOLL_CTL_ADD", r);
    }
    unsigned i = 0;
    for (auto _ : state) {
        if (long r = Backend::ctl(pair.epfd(), EPOLL_CTL_MOD, pair.efd(), &masks[++i & 1]); r != 0) {
            return fail(state, "EPOLL_CTL_MOD", r);
        }
    }
}

// One iteration: epoll_wait(timeout 0) on an epoll watching n eventfds, one of them ready.
template <class Backend>
void wait_one_ready(benchmark::State& state, long n) {
    const WatchedSet& set = WatchedSet::get<Backend>(n);
    if (!set.error().empty()) {
        state.SkipWithError(set.error().c_str());
        return;
    }
    epoll_event events[kMaxEvents] = {};
    for (auto _ : state) {
        if (long r = Backend::wait(set.epfd(), events, kMaxEvents, 0); r != 1) return fail(state, "epoll_wait", r);
    }
    if (events[0].data.u64 != set.ready_index()) state.SkipWithError("epoll_wait reported the wrong descriptor");
    state.counters["watched"] = static_cast<double>(n);
}

// One iteration: write(eventfd, 1), epoll_wait(timeout 0) sees it, read(eventfd) drains it.
template <class Backend>
void write_wait_read(benchmark::State& state) {
    Pair<Backend> pair(state);
    if (!pair.ok()) return;
    epoll_event event = {};
    event.events = EPOLLIN;
    if (long r = Backend::ctl(pair.epfd(), EPOLL_CTL_ADD, pair.efd(), &event); r != 0) {
        return fail(state, "EPOLL_CTL_ADD", r);
    }
    epoll_event events[kMaxEvents] = {};
    uint64_t value = 1;
    for (auto _ : state) {
        value = 1;
        if (long r = Backend::write(pair.efd(), &value, sizeof(value)); r != kCounterSize) {
            return fail(state, "write", r);
        }
        if (long r = Backend::wait(pair.epfd(), events, kMaxEvents, 0); r != 1) return fail(state, "epoll_wait", r);
        if (long r = Backend::read(pair.efd(), &value, sizeof(value)); r != kCounterSize) {
            return fail(state, "read", r);
        }
    }
}

// Names are "<row>/<backend>"; run-epoll-bench keys its table on them.
template <class Backend>
void register_row(const char* row, void (*fn)(benchmark::State&)) {
    benchmark::RegisterBenchmark((std::string(row) + "/" + Backend::kName).c_str(), fn);
}

template <class Backend>
void register_wait_row(long n) {
    std::string name = "wait_one_ready/" + std::to_string(n) + "/" + Backend::kName;
    benchmark::RegisterBenchmark(name.c_str(), wait_one_ready<Backend>, n);
}

}  // namespace

int main(int argc, char** argv) {
    raise_nofile_limit();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    if (!check_backends()) {
        std::fprintf(stderr,
                     "epoll-bench: the backends are not what they should be; is it linked against "
                     "libpollux-hosted ahead of libc?\n");
        return 2;
    }
    benchmark::AddCustomContext("rlimit_nofile", std::to_string(nofile_limit()));
    benchmark::AddCustomContext("fs.nr_open", std::to_string(read_proc_long("/proc/sys/fs/nr_open", -1)));

    // Linux and Pollux alternate row by row, so that both sides of a row run close in time.
    register_row<Linux>("ctl_add_del", ctl_add_del<Linux>);
    register_row<Pollux>("ctl_add_del", ctl_add_del<Pollux>);
    register_row<Linux>("ctl_mod", ctl_mod<Linux>);
    register_row<Pollux>("ctl_mod", ctl_mod<Pollux>);
    register_row<Linux>("write_wait_read", write_wait_read<Linux>);
    register_row<Pollux>("write_wait_read", write_wait_read<Pollux>);
    for (long n : {10L, 1000L, 100000L, 1000000L}) {
        register_wait_row<Linux>(n);
        register_wait_row<Pollux>(n);
    }

    benchmark::RunSpecifiedBenchmarks();
    WatchedSet::release_current();
    benchmark::Shutdown();
    return 0;
}
