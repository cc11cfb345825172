// Randomized differential test: Pollux's sys_* calls against the Linux kernel they copy.
//
// One process runs the same seeded random sequence of operations (epoll, eventfd, pipes,
// AF_UNIX stream socketpairs, read/write, close, dup, fcntl, ioctl, shutdown) against two
// backends and compares every result as it goes:
//   Linux   raw syscall(SYS_...), -1/errno turned into -errno;
//   Pollux  pollux::sys_*, linked from the static libraries (libc keeps its own names).
// The sequence works on slots (abstract handles), each mapped to one descriptor per backend.
// Everything is nonblocking, single-threaded and timer-free, so a run is a pure function of
// its seed: `differential --seed X --sequences 1` replays sequence X.
//
// Descriptor numbers. Hosted Pollux and the host share one number space (each Pollux
// descriptor holds a host placeholder), so left alone the two backends would steal numbers
// from each other and "lowest free number" would differ between them. That matters: epoll
// keys an item by (file, fd number), and a stale slot must name whatever its number names
// now. So the harness splits the space: Linux's descriptors live below a boundary B, Pollux's
// at B and above. Every free number below B is held by a "plug" (a dup of /dev/null), so
// Pollux always allocates >= B; around each Linux call the plugs the call may need (the two
// lowest, for calls that create descriptors, and any number passed in) are lifted and put
// back afterwards. Both regions then evolve isomorphically (the k-th free number of one
// matches the k-th of the other), which the harness checks on every new descriptor.
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "eventpoll/linux_abi.h"
#include "eventpoll/sys.h"

namespace {

namespace abi = pollux::abi;

// ---------------------------------------------------------------------------------------------
// Formatting helpers

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof(buf), f, ap);
    va_end(ap);
    return buf;
}

const char* errno_name(long e) {
    switch (e) {
#define E(x) \
    case x:  \
        return #x;
        E(EPERM) E(ENOENT) E(EINTR) E(EIO) E(EBADF) E(EAGAIN) E(ENOMEM) E(EFAULT) E(EBUSY) E(EEXIST)
        E(ENODEV) E(ENOTDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ENOSPC) E(ESPIPE) E(EPIPE)
        E(ELOOP) E(ENOSYS) E(ENOTSOCK) E(EOPNOTSUPP) E(EPROTONOSUPPORT) E(EAFNOSUPPORT)
        E(ESOCKTNOSUPPORT) E(EPROTOTYPE) E(ENOTCONN) E(ECONNRESET) E(ENOPKG) E(EACCES)
#undef E
    default:
        return nullptr;
    }
}

std::string ret_str(long r) {
    if (r >= 0) return fmt("%ld", r);
    const char* n = errno_name(-r);
    return n != nullptr ? fmt("-%s", n) : fmt("-errno(%ld)", -r);
}

std::string mask_str(uint32_t m) {
    static const struct {
        uint32_t bit;
        const char* name;
    } kNames[] = {
        {abi::kEPOLLIN, "IN"},         {abi::kEPOLLPRI, "PRI"},       {abi::kEPOLLOUT, "OUT"},
        {abi::kEPOLLERR, "ERR"},       {abi::kEPOLLHUP, "HUP"},       {abi::kEPOLLNVAL, "NVAL"},
        {abi::kEPOLLRDNORM, "RDNORM"}, {abi::kEPOLLRDBAND, "RDBAND"}, {abi::kEPOLLWRNORM, "WRNORM"},
        {abi::kEPOLLWRBAND, "WRBAND"}, {abi::kEPOLLMSG, "MSG"},       {abi::kEPOLLRDHUP, "RDHUP"},
        {abi::kEPOLLEXCLUSIVE, "EXCLUSIVE"}, {abi::kEPOLLWAKEUP, "WAKEUP"},
        {abi::kEPOLLONESHOT, "ONESHOT"}, {abi::kEPOLLET, "ET"},
    };
    if (m == 0) return "0";
    std::string s;
    for (const auto& n : kNames) {
        if ((m & n.bit) == 0) continue;
        if (!s.empty()) s += "|";
        s += n.name;
        m &= ~n.bit;
    }
    if (m != 0) s += fmt("%s0x%x", s.empty() ? "" : "|", m);
    return s;
}

std::string oflags_str(long f) {
    static const struct {
        long bit;
        const char* name;
    } kNames[] = {
        {abi::kO_NONBLOCK, "O_NONBLOCK"}, {abi::kO_APPEND, "O_APPEND"}, {abi::kO_DIRECT, "O_DIRECT"},
        {abi::kO_NOATIME, "O_NOATIME"},   {abi::kFASYNC, "FASYNC"},     {abi::kO_CLOEXEC, "O_CLOEXEC"},
    };
    std::string s;
    switch (f & abi::kO_ACCMODE) {
    case abi::kO_RDONLY: s = "O_RDONLY"; break;
    case abi::kO_WRONLY: s = "O_WRONLY"; break;
    case abi::kO_RDWR: s = "O_RDWR"; break;
    default: s = "O_ACCMODE"; break;
    }
    f &= ~static_cast<long>(abi::kO_ACCMODE);
    for (const auto& n : kNames) {
        if ((f & n.bit) == 0) continue;
        s += "|";
        s += n.name;
        f &= ~n.bit;
    }
    if (f != 0) s += fmt("|0%lo", f);
    return s;
}

// ---------------------------------------------------------------------------------------------
// Backends

struct Backend {
    virtual ~Backend() = default;
    virtual long epoll_create1(int flags) = 0;
    virtual long epoll_ctl(int epfd, int op, int fd, const abi::EpollEvent* ev) = 0;
    virtual long epoll_wait(int epfd, abi::EpollEvent* evs, int maxevents, int timeout) = 0;
    virtual long eventfd2(unsigned initval, int flags) = 0;
    virtual long pipe2(int* fds, int flags) = 0;
    virtual long socketpair(int domain, int type, int protocol, int* sv) = 0;
    virtual long shutdown(int fd, int how) = 0;
    virtual long read(int fd, void* buf, size_t n) = 0;
    virtual long write(int fd, const void* buf, size_t n) = 0;
    virtual long close(int fd) = 0;
    virtual long dup(int fd) = 0;
    virtual long fcntl(int fd, int cmd, unsigned long arg) = 0;
    virtual long ioctl(int fd, unsigned long cmd, unsigned long arg) = 0;
    virtual long poll(pollux::PollFd* fds, unsigned long nfds, int timeout) = 0;
};

long raw(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0, long f = 0) {
    long r = syscall(nr, a, b, c, d, e, f);
    return r == -1 ? -errno : r;
}

template <typename T>
long L(T v) {
    return (long)(v);
}

struct LinuxBackend final : Backend {
    long epoll_create1(int flags) override { return raw(SYS_epoll_create1, flags); }
    long epoll_ctl(int epfd, int op, int fd, const abi::EpollEvent* ev) override {
        return raw(SYS_epoll_ctl, epfd, op, fd, L(ev));
    }
    long epoll_wait(int epfd, abi::EpollEvent* evs, int maxevents, int timeout) override {
        return raw(SYS_epoll_wait, epfd, L(evs), maxevents, timeout);
    }
    long eventfd2(unsigned initval, int flags) override { return raw(SYS_eventfd2, initval, flags); }
    long pipe2(int* fds, int flags) override { return raw(SYS_pipe2, L(fds), flags); }
    long socketpair(int domain, int type, int protocol, int* sv) override {
        return raw(SYS_socketpair, domain, type, protocol, L(sv));
    }
    long shutdown(int fd, int how) override { return raw(SYS_shutdown, fd, how); }
    long read(int fd, void* buf, size_t n) override { return raw(SYS_read, fd, L(buf), L(n)); }
    long write(int fd, const void* buf, size_t n) override { return raw(SYS_write, fd, L(buf), L(n)); }
    long close(int fd) override { return raw(SYS_close, fd); }
    long dup(int fd) override { return raw(SYS_dup, fd); }
    long fcntl(int fd, int cmd, unsigned long arg) override { return raw(SYS_fcntl, fd, cmd, L(arg)); }
    long ioctl(int fd, unsigned long cmd, unsigned long arg) override { return raw(SYS_ioctl, fd, L(cmd), L(arg)); }
    long poll(pollux::PollFd* fds, unsigned long nfds, int timeout) override { return raw(SYS_poll, L(fds), L(nfds), timeout); }
};

struct PolluxBackend final : Backend {
    long epoll_create1(int flags) override { return pollux::sys_epoll_create1(flags); }
    long epoll_ctl(int epfd, int op, int fd, const abi::EpollEvent* ev) override {
        return pollux::sys_epoll_ctl(epfd, op, fd, ev);
    }
    long epoll_wait(int epfd, abi::EpollEvent* evs, int maxevents, int timeout) override {
        return pollux::sys_epoll_wait(epfd, evs, maxevents, timeout);
    }
    long eventfd2(unsigned initval, int flags) override { return pollux::sys_eventfd2(initval, flags); }
    long pipe2(int* fds, int flags) override { return pollux::sys_pipe2(fds, flags); }
    long socketpair(int domain, int type, int protocol, int* sv) override {
        return pollux::sys_socketpair(domain, type, protocol, sv);
    }
    long shutdown(int fd, int how) override { return pollux::sys_shutdown(fd, how); }
    long read(int fd, void* buf, size_t n) override { return pollux::sys_read(fd, buf, n); }
    long write(int fd, const void* buf, size_t n) override { return pollux::sys_write(fd, buf, n); }
    long close(int fd) override { return pollux::sys_close(fd); }
    long dup(int fd) override { return pollux::sys_dup(fd); }
    long fcntl(int fd, int cmd, unsigned long arg) override { return pollux::sys_fcntl(fd, cmd, arg); }
    long ioctl(int fd, unsigned long cmd, unsigned long arg) override { return pollux::sys_ioctl(fd, cmd, arg); }
    long poll(pollux::PollFd* fds, unsigned long nfds, int timeout) override { return pollux::sys_poll(fds, nfds, timeout); }
};

// ---------------------------------------------------------------------------------------------
// The split descriptor space (see the file comment).

class FdSpace {
public:
    // Call once Pollux has made its own host placeholder.
    void init() {
        struct rlimit lim;
        getrlimit(RLIMIT_NOFILE, &lim);
        long limit = lim.rlim_cur > 0x7fffffffL ? 0x7fffffffL : static_cast<long>(lim.rlim_cur);
        plug_src_ = static_cast<int>(raw(SYS_openat, AT_FDCWD_, L("/dev/null"), abi::kO_RDONLY | abi::kO_CLOEXEC));
        if (plug_src_ < 0) die("cannot open /dev/null");
        // B: a multiple of 64, at least 128, with kWindow free numbers above it (below the
        // placeholder Pollux keeps at limit-1) and at least 64 usable numbers below it.
        for (boundary_ = 128;; boundary_ += 64) {
            if (boundary_ + kWindow >= limit - 1) die("RLIMIT_NOFILE too small for the split descriptor space");
            bool clear = true;
            for (int n = boundary_; n < boundary_ + kWindow && clear; ++n) clear = !open_on_host(n);
            int usable = 0;
            for (int n = 0; n < boundary_; ++n) usable += open_on_host(n) ? 0 : 1;
            if (clear && usable >= 64) break;
        }
        for (int n = 0; n < boundary_; ++n) {
            if (open_on_host(n)) continue;
            linux_numbers_.push_back(n);
            plug(n);
        }
    }

    void teardown() {
        for (int n : plugs_) raw(SYS_close, n);
        plugs_.clear();
        raw(SYS_close, plug_src_);
    }

    int boundary() const { return boundary_; }

    // Lifts the plugs a Linux call needs: the numbers it is passed and, if it creates
    // descriptors, the `create` lowest free ones.
    void before_linux(const std::vector<int>& args, int create) {
        lifted_.clear();
        for (int n : args) lift(n);
        for (int i = 0; i < create && !plugs_.empty(); ++i) lift(*plugs_.begin());
    }
    // Plugs every lifted number the call left free (and the ones it closed).
    void after_linux(const std::vector<int>& args) {
        for (int n : args) {
            if (n >= 0 && n < boundary_) lifted_.push_back(n);
        }
        for (int n : lifted_) {
            if (plugs_.count(n) == 0 && is_linux_number(n) && !open_on_host(n)) plug(n);
        }
        lifted_.clear();
    }

    // The rank of a number in its backend's region, or -1 if it is outside it.
    int linux_rank(long n) const {
        auto it = std::lower_bound(linux_numbers_.begin(), linux_numbers_.end(), static_cast<int>(n));
        if (it == linux_numbers_.end() || *it != n) return -1;
        return static_cast<int>(it - linux_numbers_.begin());
    }
    int pollux_rank(long n) const {
        return n >= boundary_ && n < boundary_ + kWindow ? static_cast<int>(n - boundary_) : -1;
    }

    // True when no descriptor of either backend is left: every Linux number is plugged and
    // the Pollux window is empty.
    std::string check_clean() const {
        for (int n : linux_numbers_) {
            if (plugs_.count(n) == 0) return fmt("Linux-side number %d is not plugged", n);
            if (!open_on_host(n)) return fmt("plug %d vanished", n);
        }
        for (int n = boundary_; n < boundary_ + kWindow; ++n) {
            if (open_on_host(n)) return fmt("number %d in the Pollux window is still open on the host", n);
        }
        return {};
    }

    static bool open_on_host(int n) { return raw(SYS_fcntl, n, abi::kF_GETFD) >= 0; }

private:
    static constexpr int kWindow = 1024;
    static constexpr int AT_FDCWD_ = -100;

    [[noreturn]] static void die(const char* what) {
        fprintf(stderr, "differential: %s\n", what);
        exit(2);
    }
    bool is_linux_number(int n) const { return linux_rank(n) >= 0; }
    void plug(int n) {
        if (raw(SYS_dup3, plug_src_, n, abi::kO_CLOEXEC) != n) die("cannot plug a descriptor number");
        plugs_.insert(n);
    }
    void lift(int n) {
        if (plugs_.erase(n) == 0) return;
        raw(SYS_close, n);
        lifted_.push_back(n);
    }

    int plug_src_ = -1;
    int boundary_ = 0;
    std::vector<int> linux_numbers_;  // the Linux region's usable numbers, ascending
    std::set<int> plugs_;
    std::vector<int> lifted_;
};

// ---------------------------------------------------------------------------------------------
// Random sequence state

enum class Kind { epoll, eventfd, pipe_r, pipe_w, sock };

const char* kind_name(Kind k) {
    switch (k) {
    case Kind::epoll: return "ep";
    case Kind::eventfd: return "efd";
    case Kind::pipe_r: return "pr";
    case Kind::pipe_w: return "pw";
    case Kind::sock: return "sk";
    }
    return "?";
}

struct Slot {
    Kind kind;
    int lfd;
    int pfd;
    bool open;
    int object;  // shared by dups: names the open file description
};

// A descriptor argument: a slot, or a number that is invalid in both backends.
struct Fd {
    int l;
    int p;
    int slot;  // -1 for a special number
    std::string name;
};

struct Outcome {
    long ret = 0;
    std::string extra;  // what the call returned besides its value (events, bytes, counts)
    bool operator==(const Outcome& o) const { return ret == o.ret && extra == o.extra; }
    std::string str() const { return extra.empty() ? ret_str(ret) : ret_str(ret) + " " + extra; }
};

struct Options {
    uint64_t seed = 0x5eed0000;
    long sequences = 1000;
    int steps = 200;
    bool verbose = false;
    bool keep_going = false;
    bool unordered_wait = false;
};

constexpr size_t kMaxIo = 70000;
constexpr int kMaxLive = 20;
constexpr int kMaxSlots = 64;

uint64_t splitmix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

class Sequence {
public:
    Sequence(const Options& opt, uint64_t seed, FdSpace& space, Backend& lnx, Backend& plx,
             std::vector<uint8_t>& wbuf, std::vector<uint8_t>& rbuf_l, std::vector<uint8_t>& rbuf_p)
        : opt_(opt), seed_(seed), rng_(seed), space_(space), lnx_(lnx), plx_(plx), wbuf_(wbuf),
          rbuf_l_(rbuf_l), rbuf_p_(rbuf_p) {}

    // Runs the sequence; returns true when both backends agreed throughout.
    bool run() {
        for (step_ = 0; step_ < opt_.steps && ok_; ++step_) one_step();
        if (ok_) cleanup_compare();
        if (!ok_) cleanup_force();
        if (ok_) {
            std::string dirty = space_.check_clean();
            if (!dirty.empty()) {
                fprintf(stderr, "seed %llu: descriptor leak after cleanup: %s\n",
                        static_cast<unsigned long long>(seed_), dirty.c_str());
                ok_ = false;
            }
        }
        return ok_;
    }

private:
    // --- randomness
    uint64_t r() { return rng_(); }
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
    long range(long lo, long hi) { return std::uniform_int_distribution<long>(lo, hi)(rng_); }
    template <typename T>
    T pick(std::initializer_list<T> xs) {
        return *(xs.begin() + range(0, static_cast<long>(xs.size()) - 1));
    }

    // --- slots
    std::vector<int> live(bool (*pred)(Kind) = nullptr) const {
        std::vector<int> v;
        for (size_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].open && (pred == nullptr || pred(slots_[i].kind))) v.push_back(static_cast<int>(i));
        }
        return v;
    }
    std::vector<int> stale() const {
        std::vector<int> v;
        for (size_t i = 0; i < slots_.size(); ++i) {
            if (!slots_[i].open) v.push_back(static_cast<int>(i));
        }
        return v;
    }
    static bool is_epoll(Kind k) { return k == Kind::epoll; }
    static bool is_stream(Kind k) { return k == Kind::pipe_r || k == Kind::pipe_w || k == Kind::sock; }
    static bool is_sock(Kind k) { return k == Kind::sock; }

    Fd slot_fd(int i) const {
        const Slot& s = slots_[static_cast<size_t>(i)];
        std::string state;
        if (!s.open) {
            state = "[closed]";
            for (size_t j = 0; j < slots_.size(); ++j) {
                if (slots_[j].open && slots_[j].lfd == s.lfd) state = fmt("[closed, now %s#%zu]", kind_name(slots_[j].kind), j);
            }
        }
        return Fd{s.lfd, s.pfd, i, fmt("%s#%d%s(L%d,P%d)", kind_name(s.kind), i, state.c_str(), s.lfd, s.pfd)};
    }
    Fd special_fd() {
        int n = pick<int>({-1, 99999, INT_MAX, -1000});
        return Fd{n, n, -1, fmt("%d", n)};
    }
    // Mostly a live slot, sometimes a closed one, rarely a number that was never valid.
    Fd any_fd(bool (*pred)(Kind) = nullptr, double p_pred = 0.0) {
        if (pred != nullptr && chance(p_pred)) {
            std::vector<int> v = live(pred);
            if (!v.empty()) return slot_fd(v[static_cast<size_t>(range(0, static_cast<long>(v.size()) - 1))]);
        }
        double x = std::uniform_real_distribution<double>(0, 1)(rng_);
        std::vector<int> st = stale();
        if (x < 0.04 || slots_.empty()) return special_fd();
        if (x < 0.14 && !st.empty()) return slot_fd(st[static_cast<size_t>(range(0, static_cast<long>(st.size()) - 1))]);
        std::vector<int> lv = live();
        if (lv.empty()) {
            if (!st.empty()) return slot_fd(st[static_cast<size_t>(range(0, static_cast<long>(st.size()) - 1))]);
            return special_fd();
        }
        return slot_fd(lv[static_cast<size_t>(range(0, static_cast<long>(lv.size()) - 1))]);
    }
    // The live slot a descriptor argument names now: a closed slot's number may have been
    // reused by a newer slot (in both backends alike). -1 if it names nothing.
    int resolve(const Fd& fd) const {
        if (fd.slot < 0) return -1;
        if (slots_[static_cast<size_t>(fd.slot)].open) return fd.slot;
        for (size_t i = 0; i < slots_.size(); ++i) {
            if (slots_[i].open && slots_[i].lfd == fd.l) return static_cast<int>(i);
        }
        return -1;
    }
    Kind kind_of(const Fd& fd) const {
        int i = resolve(fd);
        if (i < 0) i = fd.slot;
        return i >= 0 ? slots_[static_cast<size_t>(i)].kind : Kind::pipe_r;
    }

    // --- running one call on both backends
    template <typename LF, typename PF>
    void both(const std::vector<int>& lfds, int create, LF lf, PF pf, Outcome& lo, Outcome& po) {
        space_.before_linux(lfds, create);
        lo = lf(lnx_);
        space_.after_linux(lfds);
        po = pf(plx_);
    }

    void record(const std::string& desc, const Outcome& lo, const Outcome& po) {
        bool same = lo == po;
        std::string line = fmt("step %d: %s -> ", step_, desc.c_str());
        line += same ? lo.str() : "Linux " + lo.str() + " | Pollux " + po.str();
        history_.push_back(line);
        if (history_.size() > 20) history_.pop_front();
        if (opt_.verbose) printf("%s\n", line.c_str());
        if (!same) mismatch(desc, lo, po);
    }

    void mismatch(const std::string& desc, const Outcome& lo, const Outcome& po) {
        if (!ok_) return;
        ok_ = false;
        fprintf(stderr, "\nMISMATCH seed=%llu step=%d\n  op:     %s\n  Linux:  %s\n  Pollux: %s\n",
                static_cast<unsigned long long>(seed_), step_, desc.c_str(), lo.str().c_str(), po.str().c_str());
        fprintf(stderr, "  last steps:\n");
        for (const std::string& h : history_) fprintf(stderr, "    %s\n", h.c_str());
        fprintf(stderr, "  reproduce: differential --seed %llu --sequences 1 --steps %d --verbose\n",
                static_cast<unsigned long long>(seed_), opt_.steps);
    }

    // A new descriptor in each backend: both must sit at the same rank of their region.
    void add_slot(Kind k, long lfd, long pfd, int object, std::string& note) {
        int lr = space_.linux_rank(lfd);
        int pr = space_.pollux_rank(pfd);
        if (lr < 0 || pr < 0 || lr != pr) note += fmt(" [numbering: Linux fd %ld is #%d, Pollux fd %ld is #%d]", lfd, lr, pfd, pr);
        slots_.push_back(Slot{k, static_cast<int>(lfd), static_cast<int>(pfd), true, object});
    }
    void orphan(long lfd, long pfd) {
        if (lfd >= 0) orphans_l_.push_back(static_cast<int>(lfd));
        if (pfd >= 0) orphans_p_.push_back(static_cast<int>(pfd));
    }
    bool room(int n) const { return static_cast<int>(live().size()) + n <= kMaxLive && slots_.size() + static_cast<size_t>(n) <= kMaxSlots; }

    // --- operations
    void op_epoll_create() {
        int flags = pick<int>({0, 0, abi::kEPOLL_CLOEXEC});
        if (chance(0.05)) flags = pick<int>({abi::kO_NONBLOCK, 1, -1});
        Outcome lo, po;
        both({}, 1, [&](Backend& b) { return Outcome{b.epoll_create1(flags), {}}; },
             [&](Backend& b) { return Outcome{b.epoll_create1(flags), {}}; }, lo, po);
        created(fmt("epoll_create1(%s)", flags == abi::kEPOLL_CLOEXEC ? "EPOLL_CLOEXEC" : fmt("%d", flags).c_str()),
                Kind::epoll, lo, po);
    }

    // Compares a single-descriptor creation and adds the slot.
    void created(const std::string& desc, Kind k, Outcome lo, Outcome po) {
        long lfd = lo.ret, pfd = po.ret;
        if (lo.ret >= 0) lo.ret = 0;
        if (po.ret >= 0) po.ret = 0;
        std::string note;
        if (lfd >= 0 && pfd >= 0) add_slot(k, lfd, pfd, next_object_++, note);
        else if (lfd >= 0 || pfd >= 0) orphan(lfd, pfd);
        if (!note.empty()) po.extra += note;
        record(desc + fmt(" [L%ld P%ld]", lfd, pfd), lo, po);
    }

    void op_eventfd() {
        unsigned initval = pick<unsigned>({0, 0, 1, 2, 7, 0xffffffffu});
        if (chance(0.2)) initval = static_cast<unsigned>(r());
        int flags = abi::kEFD_NONBLOCK;
        if (chance(0.4)) flags |= abi::kEFD_SEMAPHORE;
        if (chance(0.2)) flags |= abi::kEFD_CLOEXEC;
        if (chance(0.04)) flags |= pick<int>({abi::kO_APPEND, 0x10, abi::kO_DIRECT});
        Outcome lo, po;
        both({}, 1, [&](Backend& b) { return Outcome{b.eventfd2(initval, flags), {}}; },
             [&](Backend& b) { return Outcome{b.eventfd2(initval, flags), {}}; }, lo, po);
        created(fmt("eventfd2(%u, %s)", initval, oflags_str(flags).c_str()), Kind::eventfd, lo, po);
    }

    void op_pipe() {
        int flags = abi::kO_NONBLOCK;
        if (chance(0.2)) flags |= abi::kO_CLOEXEC;
        if (chance(0.15)) flags |= abi::kO_DIRECT;
        if (chance(0.04)) flags |= pick<int>({abi::kO_APPEND, 0200 /* O_NOTIFICATION_PIPE */, 0x1});
        int lf[2] = {-1, -1}, pf[2] = {-1, -1};
        Outcome lo, po;
        both({}, 2, [&](Backend& b) { return Outcome{b.pipe2(lf, flags), {}}; },
             [&](Backend& b) { return Outcome{b.pipe2(pf, flags), {}}; }, lo, po);
        created_pair(fmt("pipe2(%s)", oflags_str(flags).c_str()), Kind::pipe_r, Kind::pipe_w, lo, po, lf, pf);
    }

    void op_socketpair() {
        int type = abi::kSOCK_STREAM | abi::kSOCK_NONBLOCK;
        if (chance(0.2)) type |= abi::kSOCK_CLOEXEC;
        int protocol = chance(0.1) ? 1 : 0;  // PF_UNIX is accepted
        int domain = abi::kAF_UNIX;
        if (chance(0.04)) protocol = 2;
        if (chance(0.03)) type |= abi::kO_APPEND;
        if (chance(0.02)) domain = 0;
        int lf[2] = {-1, -1}, pf[2] = {-1, -1};
        Outcome lo, po;
        both({}, 2, [&](Backend& b) { return Outcome{b.socketpair(domain, type, protocol, lf), {}}; },
             [&](Backend& b) { return Outcome{b.socketpair(domain, type, protocol, pf), {}}; }, lo, po);
        created_pair(fmt("socketpair(%d, 0x%x, %d)", domain, type, protocol), Kind::sock, Kind::sock, lo, po, lf, pf);
    }

    void created_pair(const std::string& desc, Kind k0, Kind k1, Outcome lo, Outcome po, const int* lf, const int* pf) {
        std::string note;
        if (lo.ret == 0 && po.ret == 0) {
            int obj = next_object_;
            next_object_ += 2;
            add_slot(k0, lf[0], pf[0], obj, note);
            add_slot(k1, lf[1], pf[1], obj + 1, note);
        } else {
            if (lo.ret == 0) orphan(lf[0], -1), orphan(lf[1], -1);
            if (po.ret == 0) orphan(-1, pf[0]), orphan(-1, pf[1]);
        }
        if (!note.empty()) po.extra += note;
        record(desc + fmt(" [L%d,%d P%d,%d]", lf[0], lf[1], pf[0], pf[1]), lo, po);
    }

    uint32_t gen_events(bool add) {
        if (chance(0.05)) return 0;
        uint32_t e = 0;
        if (chance(0.55)) e |= abi::kEPOLLIN;
        if (chance(0.45)) e |= abi::kEPOLLOUT;
        if (chance(0.2)) e |= abi::kEPOLLRDHUP;
        if (chance(0.1)) e |= abi::kEPOLLPRI;
        if (chance(0.3)) e |= abi::kEPOLLET;
        if (chance(0.2)) e |= abi::kEPOLLONESHOT;
        if (chance(0.06)) e |= abi::kEPOLLRDNORM;
        if (chance(0.06)) e |= abi::kEPOLLWRNORM;
        if (chance(0.02)) e |= pick<uint32_t>({abi::kEPOLLRDBAND, abi::kEPOLLWRBAND, abi::kEPOLLMSG});
        if (chance(0.04)) e |= abi::kEPOLLERR;
        if (chance(0.04)) e |= abi::kEPOLLHUP;
        if (chance(0.02)) e |= abi::kEPOLLWAKEUP;
        if (chance(add ? 0.12 : 0.03)) {
            e |= abi::kEPOLLEXCLUSIVE;
            // Mostly a valid EPOLLEXCLUSIVE combination; sometimes an invalid one on purpose.
            if (chance(0.7)) {
                e &= abi::kEPOLLIN | abi::kEPOLLOUT | abi::kEPOLLERR | abi::kEPOLLHUP | abi::kEPOLLWAKEUP |
                     abi::kEPOLLET | abi::kEPOLLEXCLUSIVE;
            }
        }
        return e;
    }

    void op_epoll_ctl() {
        Fd ep = any_fd(is_epoll, 0.9);
        Fd target;
        double x = std::uniform_real_distribution<double>(0, 1)(rng_);
        if (x < 0.05 && ep.slot >= 0) {
            target = ep;  // the epoll itself
        } else if (x < 0.25) {
            target = any_fd(is_epoll, 1.0);  // nesting
        } else {
            target = any_fd();
        }
        int op = pick<int>({abi::kEPOLL_CTL_ADD, abi::kEPOLL_CTL_ADD, abi::kEPOLL_CTL_ADD, abi::kEPOLL_CTL_MOD,
                            abi::kEPOLL_CTL_MOD, abi::kEPOLL_CTL_DEL});
        if (chance(0.03)) op = pick<int>({0, 4, -1});
        abi::EpollEvent ev{gen_events(op == abi::kEPOLL_CTL_ADD), 0};
        ev.data = chance(0.1) ? r() : ((r() & 0xffff) << 16 | static_cast<uint64_t>(target.slot & 0xffff));
        bool null_event = chance(0.02);
        const abi::EpollEvent* evp = null_event ? nullptr : &ev;
        const char* opname = op == abi::kEPOLL_CTL_ADD ? "ADD" : op == abi::kEPOLL_CTL_MOD ? "MOD" : op == abi::kEPOLL_CTL_DEL ? "DEL" : "bad-op";
        std::string desc = fmt("epoll_ctl(%s, %s(%d), %s, %s)", ep.name.c_str(), opname, op, target.name.c_str(),
                               null_event ? "NULL" : fmt("{%s, 0x%llx}", mask_str(ev.events).c_str(),
                                                         static_cast<unsigned long long>(ev.data)).c_str());
        Outcome lo, po;
        both({ep.l, target.l}, 0, [&](Backend& b) { return Outcome{b.epoll_ctl(ep.l, op, target.l, evp), {}}; },
             [&](Backend& b) { return Outcome{b.epoll_ctl(ep.p, op, target.p, evp), {}}; }, lo, po);
        record(desc, lo, po);
    }

    static std::string events_str(long n, const abi::EpollEvent* evs, bool sorted) {
        if (n <= 0) return {};
        std::vector<std::string> items;
        for (long i = 0; i < n; ++i) {
            abi::EpollEvent e;
            std::memcpy(&e, &evs[i], sizeof(e));
            items.push_back(fmt("{%s, 0x%llx}", mask_str(e.events).c_str(), static_cast<unsigned long long>(e.data)));
        }
        if (sorted) std::sort(items.begin(), items.end());
        std::string s = sorted ? "multiset[" : "[";
        for (size_t i = 0; i < items.size(); ++i) s += (i ? " " : "") + items[i];
        return s + "]";
    }

    void op_epoll_wait() {
        Fd ep = any_fd(is_epoll, 0.92);
        int maxevents = static_cast<int>(range(1, 8));
        if (chance(0.02)) maxevents = pick<int>({0, -1, INT_MAX});
        bool null_events = chance(0.015);
        abi::EpollEvent le[8], pe[8];
        std::memset(le, 0xa5, sizeof(le));
        std::memset(pe, 0xa5, sizeof(pe));
        Outcome lo, po;
        bool sorted = opt_.unordered_wait;
        both({ep.l}, 0,
             [&](Backend& b) {
                 long n = b.epoll_wait(ep.l, null_events ? nullptr : le, maxevents, 0);
                 return Outcome{n, events_str(n, le, sorted)};
             },
             [&](Backend& b) {
                 long n = b.epoll_wait(ep.p, null_events ? nullptr : pe, maxevents, 0);
                 return Outcome{n, events_str(n, pe, sorted)};
             },
             lo, po);
        record(fmt("epoll_wait(%s, %s, %d, 0)", ep.name.c_str(), null_events ? "NULL" : "buf", maxevents), lo, po);
    }

    size_t stream_size() {
        double x = std::uniform_real_distribution<double>(0, 1)(rng_);
        if (x < 0.05) return 0;
        if (x < 0.45) return static_cast<size_t>(range(1, 64));
        if (x < 0.65) return static_cast<size_t>(range(65, 4096));
        if (x < 0.75) return static_cast<size_t>(pick<long>({4095, 4096, 4097, 8192, 65536, 65535, 65537}));
        return static_cast<size_t>(range(4097, static_cast<long>(kMaxIo)));
    }

    static std::string bytes_digest(const uint8_t* p, long n) {
        if (n <= 0) return {};
        uint64_t h = 1469598103934665603ull;
        for (long i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
        std::string s = fmt("bytes[%016llx]", static_cast<unsigned long long>(h));
        return s;
    }

    void op_read() {
        Fd fd = any_fd();
        Kind k = kind_of(fd);
        size_t n;
        if (k == Kind::eventfd) {
            n = chance(0.85) ? 8 : static_cast<size_t>(pick<int>({0, 4, 7, 9, 16}));
        } else {
            n = stream_size();
        }
        bool null_buf = chance(0.01);
        Outcome lo, po;
        both({fd.l}, 0,
             [&](Backend& b) {
                 long r = b.read(fd.l, null_buf ? nullptr : rbuf_l_.data(), n);
                 return Outcome{r, read_extra(k, rbuf_l_.data(), r)};
             },
             [&](Backend& b) {
                 long r = b.read(fd.p, null_buf ? nullptr : rbuf_p_.data(), n);
                 return Outcome{r, read_extra(k, rbuf_p_.data(), r)};
             },
             lo, po);
        if (!(lo == po) && lo.ret == po.ret && lo.ret > 0) {
            for (long i = 0; i < lo.ret; ++i) {
                if (rbuf_l_[static_cast<size_t>(i)] != rbuf_p_[static_cast<size_t>(i)]) {
                    po.extra += fmt(" (first difference at byte %ld: Linux 0x%02x, Pollux 0x%02x)", i,
                                    rbuf_l_[static_cast<size_t>(i)], rbuf_p_[static_cast<size_t>(i)]);
                    break;
                }
            }
        }
        record(fmt("read(%s, %s, %zu)", fd.name.c_str(), null_buf ? "NULL" : "buf", n), lo, po);
    }

    static std::string read_extra(Kind k, const uint8_t* buf, long r) {
        if (r <= 0) return {};
        if (k == Kind::eventfd && r == 8) {
            uint64_t v;
            std::memcpy(&v, buf, 8);
            return fmt("value=%llu", static_cast<unsigned long long>(v));
        }
        return bytes_digest(buf, r);
    }

    void op_write() {
        Fd fd = any_fd();
        Kind k = kind_of(fd);
        size_t n;
        std::string what;
        if (k == Kind::eventfd) {
            n = chance(0.85) ? 8 : static_cast<size_t>(pick<int>({0, 4, 7, 9, 16}));
            uint64_t v;
            double x = std::uniform_real_distribution<double>(0, 1)(rng_);
            if (x < 0.45) v = static_cast<uint64_t>(range(1, 10));
            else if (x < 0.55) v = 0;
            else if (x < 0.75) v = 0xfffffffffffffffeull - static_cast<uint64_t>(range(0, 3));
            else if (x < 0.82) v = 0xffffffffffffffffull;
            else v = r();
            std::memset(wbuf_.data(), 0, 16);
            std::memcpy(wbuf_.data(), &v, 8);
            what = fmt("value=%llu", static_cast<unsigned long long>(v));
        } else {
            n = stream_size();
            uint64_t x = seed_ * 0x100000001b3ull + static_cast<uint64_t>(step_);
            for (size_t i = 0; i < n; i += 8) {
                uint64_t w = splitmix(x);
                std::memcpy(wbuf_.data() + i, &w, 8);
            }
            what = "data";
        }
        bool null_buf = chance(0.01);
        Outcome lo, po;
        both({fd.l}, 0, [&](Backend& b) { return Outcome{b.write(fd.l, null_buf ? nullptr : wbuf_.data(), n), {}}; },
             [&](Backend& b) { return Outcome{b.write(fd.p, null_buf ? nullptr : wbuf_.data(), n), {}}; }, lo, po);
        record(fmt("write(%s, %s, %zu)", fd.name.c_str(), null_buf ? "NULL" : what.c_str(), n), lo, po);
    }

    // Writes one chunk size again and again until the call stops taking everything (at most
    // 400 calls): the quickest way to a full pipe or socket buffer.
    void op_fill() {
        Fd fd = any_fd(is_stream, 0.9);
        size_t n = chance(0.5) ? static_cast<size_t>(range(1, 512)) : stream_size();
        if (n == 0) n = 1;
        uint64_t x = seed_ * 0x100000001b3ull + static_cast<uint64_t>(step_);
        for (size_t i = 0; i < n; i += 8) {
            uint64_t w = splitmix(x);
            std::memcpy(wbuf_.data() + i, &w, 8);
        }
        auto fill = [&](Backend& b, int f) {
            std::string log;
            long last = 0, reps = 0, total = 0, calls = 0;
            for (; calls < 400; ++calls) {
                long r = b.write(f, wbuf_.data(), n);
                if (r > 0) total += r;
                if (r == last) {
                    ++reps;
                } else {
                    if (reps > 0) log += fmt("%s%sx%ld", log.empty() ? "" : ",", ret_str(last).c_str(), reps);
                    last = r;
                    reps = 1;
                }
                if (r != static_cast<long>(n)) break;
            }
            log += fmt("%s%sx%ld", log.empty() ? "" : ",", ret_str(last).c_str(), reps);
            return Outcome{total, "calls[" + log + "]"};
        };
        Outcome lo, po;
        both({fd.l}, 0, [&](Backend& b) { return fill(b, fd.l); }, [&](Backend& b) { return fill(b, fd.p); }, lo, po);
        record(fmt("fill(%s, chunk %zu) = total", fd.name.c_str(), n), lo, po);
    }

    // Reads with one size until a call returns less than asked (at most 64 calls).
    void op_drain() {
        Fd fd = any_fd(is_stream, 0.9);
        size_t n = chance(0.5) ? static_cast<size_t>(range(1, 4096)) : kMaxIo;
        auto drain = [&](Backend& b, int f, std::vector<uint8_t>& buf) {
            std::string log;
            uint64_t h = 1469598103934665603ull;
            long total = 0, calls = 0, r = 0;
            for (; calls < 64; ++calls) {
                r = b.read(f, buf.data(), n);
                if (r > 0) {
                    total += r;
                    for (long i = 0; i < r; ++i) h = (h ^ buf[static_cast<size_t>(i)]) * 1099511628211ull;
                }
                if (r != static_cast<long>(n)) break;
            }
            return Outcome{total, fmt("calls=%ld last=%s bytes[%016llx]", calls + 1, ret_str(r).c_str(),
                                      static_cast<unsigned long long>(h))};
        };
        Outcome lo, po;
        both({fd.l}, 0, [&](Backend& b) { return drain(b, fd.l, rbuf_l_); },
             [&](Backend& b) { return drain(b, fd.p, rbuf_p_); }, lo, po);
        record(fmt("drain(%s, chunk %zu) = total", fd.name.c_str(), n), lo, po);
    }

    void op_close() {
        Fd fd = any_fd();
        Outcome lo, po;
        both({fd.l}, 0, [&](Backend& b) { return Outcome{b.close(fd.l), {}}; },
             [&](Backend& b) { return Outcome{b.close(fd.p), {}}; }, lo, po);
        // A closed slot's number may name a newer slot now: whichever live slot holds the
        // number is the one that closed.
        for (Slot& s : slots_) {
            if (s.open && ((lo.ret == 0 && s.lfd == fd.l) || (po.ret == 0 && s.pfd == fd.p))) s.open = false;
        }
        record(fmt("close(%s)", fd.name.c_str()), lo, po);
    }

    // dup() and fcntl(F_DUPFD[_CLOEXEC], 0).
    void op_dup() {
        Fd fd = any_fd();
        int how = static_cast<int>(range(0, 3));  // 0,1: dup; 2: F_DUPFD; 3: F_DUPFD_CLOEXEC
        auto call = [&](Backend& b, int n) {
            if (how <= 1) return b.dup(n);
            return b.fcntl(n, how == 2 ? abi::kF_DUPFD : abi::kF_DUPFD_CLOEXEC, 0);
        };
        Outcome lo, po;
        both({fd.l}, 1, [&](Backend& b) { return Outcome{call(b, fd.l), {}}; },
             [&](Backend& b) { return Outcome{call(b, fd.p), {}}; }, lo, po);
        std::string desc = how <= 1 ? fmt("dup(%s)", fd.name.c_str())
                                    : fmt("fcntl(%s, %s, 0)", fd.name.c_str(), how == 2 ? "F_DUPFD" : "F_DUPFD_CLOEXEC");
        long lfd = lo.ret, pfd = po.ret;
        if (lo.ret >= 0) lo.ret = 0;
        if (po.ret >= 0) po.ret = 0;
        std::string note;
        int src = resolve(fd);
        if (lfd >= 0 && pfd >= 0 && src >= 0) {
            Slot s = slots_[static_cast<size_t>(src)];
            add_slot(s.kind, lfd, pfd, s.object, note);
        } else if (lfd >= 0 || pfd >= 0) {
            orphan(lfd, pfd);
        }
        if (!note.empty()) po.extra += note;
        record(desc + fmt(" [L%ld P%ld]", lfd, pfd), lo, po);
    }

    void op_fcntl() {
        Fd fd = any_fd();
        int cmd;
        unsigned long arg = 0;
        std::string desc;
        switch (range(0, 9)) {
        case 0:
        case 1:
        case 2:
            cmd = abi::kF_GETFL;
            desc = "F_GETFL";
            break;
        case 3:
        case 4:
        case 5: {
            cmd = abi::kF_SETFL;
            int f = abi::kO_NONBLOCK;  // O_NONBLOCK stays on
            if (chance(0.3)) f |= abi::kO_APPEND;
            if (chance(0.25)) f |= abi::kO_DIRECT;
            if (chance(0.1)) f |= abi::kO_NOATIME;
            if (chance(0.05)) f |= abi::kFASYNC;
            if (chance(0.1)) f |= pick<int>({abi::kO_RDWR, abi::kO_WRONLY, abi::kO_CLOEXEC, 0100 /* O_CREAT */});
            arg = static_cast<unsigned long>(f);
            desc = "F_SETFL, " + oflags_str(f);
            break;
        }
        case 6:
        case 7:
            cmd = abi::kF_GETFD;
            desc = "F_GETFD";
            break;
        case 8:
            cmd = abi::kF_SETFD;
            arg = static_cast<unsigned long>(pick<long>({0, 1, 1, 3, 0x100}));
            desc = fmt("F_SETFD, %lu", arg);
            break;
        default:
            cmd = pick<int>({9999, -1, 1031 /* F_SETPIPE_SZ */, 1032 /* F_GETPIPE_SZ */});
            arg = 0;
            if (cmd == 1031 || cmd == 1032) cmd = 9999;  // pipe sizing is not in scope
            desc = fmt("cmd %d", cmd);
            break;
        }
        Outcome lo, po;
        auto fl = [&](long v) { return cmd == abi::kF_GETFL && v >= 0 ? oflags_str(v) : std::string(); };
        both({fd.l}, 0,
             [&](Backend& b) {
                 long v = b.fcntl(fd.l, cmd, arg);
                 return Outcome{v, fl(v)};
             },
             [&](Backend& b) {
                 long v = b.fcntl(fd.p, cmd, arg);
                 return Outcome{v, fl(v)};
             },
             lo, po);
        record(fmt("fcntl(%s, %s)", fd.name.c_str(), desc.c_str()), lo, po);
    }

    void op_ioctl() {
        Fd fd = any_fd();
        int lv = -7, pv = -7;
        int on = 1;
        double x = std::uniform_real_distribution<double>(0, 1)(rng_);
        unsigned long cmd;
        std::string desc;
        bool null_arg = false;
        if (x < 0.8) {
            cmd = abi::kFIONREAD;
            null_arg = chance(0.03);
            desc = null_arg ? "FIONREAD, NULL" : "FIONREAD";
        } else if (x < 0.9) {
            cmd = chance(0.5) ? abi::kFIOCLEX : abi::kFIONCLEX;
            desc = cmd == abi::kFIOCLEX ? "FIOCLEX" : "FIONCLEX";
        } else {
            cmd = abi::kFIONBIO;
            desc = "FIONBIO, &1";
        }
        auto argp = [&](int* v) -> unsigned long {
            if (cmd == abi::kFIONREAD) return null_arg ? 0 : reinterpret_cast<unsigned long>(v);
            if (cmd == abi::kFIONBIO) return reinterpret_cast<unsigned long>(&on);
            return 0;
        };
        auto extra = [&](long r, int v) { return cmd == abi::kFIONREAD && r == 0 && !null_arg ? fmt("count=%d", v) : std::string(); };
        Outcome lo, po;
        both({fd.l}, 0,
             [&](Backend& b) {
                 long r = b.ioctl(fd.l, cmd, argp(&lv));
                 return Outcome{r, extra(r, lv)};
             },
             [&](Backend& b) {
                 long r = b.ioctl(fd.p, cmd, argp(&pv));
                 return Outcome{r, extra(r, pv)};
             },
             lo, po);
        record(fmt("ioctl(%s, %s)", fd.name.c_str(), desc.c_str()), lo, po);
    }

    // poll() with timeout 0 on a few descriptors: every file's poll mask, as the caller sees it.
    void op_poll() {
        static constexpr short kBits[] = {0x001 /* POLLIN */, 0x002 /* POLLPRI */, 0x004 /* POLLOUT */,
                                          0x040 /* POLLRDNORM */, 0x080 /* POLLRDBAND */, 0x100 /* POLLWRNORM */,
                                          0x200 /* POLLWRBAND */, 0x2000 /* POLLRDHUP */};
        size_t n = static_cast<size_t>(range(1, 4));
        std::vector<pollux::PollFd> lp(n), pp(n);
        std::vector<int> args;
        std::string desc = "poll([";
        for (size_t i = 0; i < n; ++i) {
            Fd fd = chance(0.05) ? Fd{-1, -1, -1, "-1"} : any_fd();
            short ev = 0;
            if (chance(0.5)) {
                ev = 0x001 | 0x004 | 0x002 | 0x2000;
            } else {
                for (short b : kBits) {
                    if (chance(0.3)) ev = static_cast<short>(ev | b);
                }
            }
            lp[i] = pollux::PollFd{fd.l, ev, 0x5a5};
            pp[i] = pollux::PollFd{fd.p, ev, 0x5a5};
            args.push_back(fd.l);
            desc += fmt("%s{%s, %s}", i ? " " : "", fd.name.c_str(), mask_str(static_cast<uint16_t>(ev)).c_str());
        }
        desc += "], 0)";
        auto revents = [](long r, const std::vector<pollux::PollFd>& v) {
            if (r < 0) return std::string();
            std::string s = "revents[";
            for (size_t i = 0; i < v.size(); ++i) s += (i ? " " : "") + mask_str(static_cast<uint16_t>(v[i].revents));
            return s + "]";
        };
        Outcome lo, po;
        both(args, 0,
             [&](Backend& b) {
                 long r = b.poll(lp.data(), n, 0);
                 return Outcome{r, revents(r, lp)};
             },
             [&](Backend& b) {
                 long r = b.poll(pp.data(), n, 0);
                 return Outcome{r, revents(r, pp)};
             },
             lo, po);
        record(desc, lo, po);
    }

    void op_shutdown() {
        Fd fd = any_fd(is_sock, 0.85);
        int how = pick<int>({abi::kSHUT_RD, abi::kSHUT_WR, abi::kSHUT_RDWR});
        if (chance(0.04)) how = pick<int>({3, -1});
        Outcome lo, po;
        both({fd.l}, 0, [&](Backend& b) { return Outcome{b.shutdown(fd.l, how), {}}; },
             [&](Backend& b) { return Outcome{b.shutdown(fd.p, how), {}}; }, lo, po);
        record(fmt("shutdown(%s, %d)", fd.name.c_str(), how), lo, po);
    }

    void one_step() {
        int n_live = static_cast<int>(live().size());
        int n_ep = static_cast<int>(live(is_epoll).size());
        bool can_create = room(2);
        struct Choice {
            int weight;
            void (Sequence::*fn)();
        };
        Choice choices[] = {
            {can_create ? (n_ep < 2 ? 8 : n_ep < 5 ? 3 : 1) : 0, &Sequence::op_epoll_create},
            {can_create ? (n_live < 8 ? 5 : 2) : 0, &Sequence::op_eventfd},
            {can_create ? (n_live < 8 ? 6 : 2) : 0, &Sequence::op_pipe},
            {can_create ? (n_live < 8 ? 6 : 2) : 0, &Sequence::op_socketpair},
            {26, &Sequence::op_epoll_ctl},
            {20, &Sequence::op_epoll_wait},
            {12, &Sequence::op_read},
            {14, &Sequence::op_write},
            {3, &Sequence::op_fill},
            {3, &Sequence::op_drain},
            {n_live > 12 ? 7 : 4, &Sequence::op_close},
            {room(1) ? 3 : 0, &Sequence::op_dup},
            {4, &Sequence::op_fcntl},
            {3, &Sequence::op_ioctl},
            {2, &Sequence::op_shutdown},
            {3, &Sequence::op_poll},
        };
        int total = 0;
        for (const Choice& c : choices) total += c.weight;
        long x = range(0, total - 1);
        for (const Choice& c : choices) {
            if (x < c.weight) {
                (this->*c.fn)();
                return;
            }
            x -= c.weight;
        }
    }

    // End of a sequence: close everything still open, comparing the results.
    void cleanup_compare() {
        for (size_t i = 0; i < slots_.size() && ok_; ++i) {
            if (!slots_[i].open) continue;
            Fd fd = slot_fd(static_cast<int>(i));
            Outcome lo, po;
            both({fd.l}, 0, [&](Backend& b) { return Outcome{b.close(fd.l), {}}; },
                 [&](Backend& b) { return Outcome{b.close(fd.p), {}}; }, lo, po);
            slots_[i].open = false;
            record(fmt("cleanup close(%s)", fd.name.c_str()), lo, po);
        }
        for (int n : orphans_l_) close_linux(n);
        for (int n : orphans_p_) plx_.close(n);
    }

    // After a mismatch: close whatever is left without comparing.
    void cleanup_force() {
        for (Slot& s : slots_) {
            if (!s.open) continue;
            close_linux(s.lfd);
            plx_.close(s.pfd);
            s.open = false;
        }
        for (int n : orphans_l_) close_linux(n);
        for (int n : orphans_p_) plx_.close(n);
        orphans_l_.clear();
        orphans_p_.clear();
    }
    void close_linux(int n) {
        space_.before_linux({n}, 0);
        lnx_.close(n);
        space_.after_linux({n});
    }

    const Options& opt_;
    uint64_t seed_;
    std::mt19937_64 rng_;
    FdSpace& space_;
    Backend& lnx_;
    Backend& plx_;
    std::vector<uint8_t>& wbuf_;
    std::vector<uint8_t>& rbuf_l_;
    std::vector<uint8_t>& rbuf_p_;
    std::vector<Slot> slots_;
    std::vector<int> orphans_l_, orphans_p_;
    std::deque<std::string> history_;
    int next_object_ = 0;
    int step_ = 0;
    bool ok_ = true;
};

int count_open_fds() {
    DIR* d = opendir("/proc/self/fd");
    if (d == nullptr) return -1;
    int n = 0;
    while (dirent* e = readdir(d)) {
        if (e->d_name[0] != '.') ++n;
    }
    closedir(d);
    return n - 1;  // the directory's own descriptor
}

[[noreturn]] void usage() {
    fprintf(stderr,
            "usage: differential [--sequences N] [--steps N] [--seed S] [--verbose] [--keep-going] "
            "[--unordered-wait]\n"
            "  Sequence i runs with seed S+i; a failure replays with --seed <its seed> --sequences 1.\n");
    exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    Options opt;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage();
            return argv[++i];
        };
        if (a == "--sequences") opt.sequences = strtol(value(), nullptr, 0);
        else if (a == "--steps") opt.steps = static_cast<int>(strtol(value(), nullptr, 0));
        else if (a == "--seed") opt.seed = strtoull(value(), nullptr, 0);
        else if (a == "--verbose") opt.verbose = true;
        else if (a == "--keep-going") opt.keep_going = true;
        else if (a == "--unordered-wait") opt.unordered_wait = true;
        else usage();
    }
    if (opt.sequences < 0 || opt.steps < 0) usage();

    // Writes to a pipe or socket without a reader raise SIGPIPE in both backends.
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, nullptr, _IOLBF, 0);

    // Let Pollux set up its fd table and host placeholder before anything is counted.
    long warm = pollux::sys_epoll_create1(0);
    if (warm >= 0) pollux::sys_close(static_cast<int>(warm));
    int fds_before = count_open_fds();

    if (opt.unordered_wait) printf("note: epoll_wait results compared as multisets (--unordered-wait)\n");

    FdSpace space;
    space.init();
    LinuxBackend lnx;
    PolluxBackend plx;
    std::vector<uint8_t> wbuf(kMaxIo + 16), rbuf_l(kMaxIo + 16), rbuf_p(kMaxIo + 16);

    long passed = 0, failed = 0;
    auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < opt.sequences; ++i) {
        uint64_t seed = opt.seed + static_cast<uint64_t>(i);
        Sequence seq(opt, seed, space, lnx, plx, wbuf, rbuf_l, rbuf_p);
        if (seq.run()) {
            ++passed;
        } else {
            ++failed;
            if (!opt.keep_going) break;
        }
    }
    space.teardown();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    int fds_after = count_open_fds();
    if (fds_before != fds_after) {
        fprintf(stderr, "descriptor leak on the host: %d open before the run, %d after\n", fds_before, fds_after);
        if (failed == 0) failed = 1;
    }
    fprintf(stderr, "(%.1f s)\n", secs);
    printf("%ld passed, %ld failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
