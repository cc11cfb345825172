// Minimal self-registering scenario framework for the epoll/eventfd/timerfd/
// pipe/socketpair conformance suite. It deliberately depends only on the C++
// standard library and POSIX so that the very same sources link against glibc
// (Linux is the reference), statically (the image a unikernel boots) and
// against Pollux's hosted library, which interposes the standard names.
// Checks never abort the process: they record a failure and let the scenario
// continue (REQUIRE_* returns from the scenario instead), so one broken
// behaviour cannot hide the others.
#pragma once

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <pthread.h>
#include <sys/types.h>
#include <unistd.h>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

namespace conf {

using scenario_fn = void (*)();

struct scenario_reg {
    scenario_reg(const char* name, scenario_fn fn, const char* file, int line);
};

// Records a failed check against the running scenario and prints it.
void fail_at(const char* file, int line, const std::string& what);
bool current_failed();
const char* current_name();

const char* errno_name(int e);
std::string epoll_mask_str(uint32_t mask);

std::string fmt_int(long long v);
std::string fmt_uint(unsigned long long v);
std::string fmt_double(double v);

template <typename T>
std::string fmt_value(const T& v)
{
    if constexpr (std::is_enum_v<T>) {
        return fmt_value(static_cast<std::underlying_type_t<T>>(v));
    } else if constexpr (std::is_same_v<T, bool>) {
        return v ? "true" : "false";
    } else if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
        return fmt_int(static_cast<long long>(v));
    } else if constexpr (std::is_integral_v<T>) {
        return fmt_uint(static_cast<unsigned long long>(v));
    } else if constexpr (std::is_same_v<T, std::string>) {
        return "\"" + v + "\"";
    } else if constexpr (std::is_convertible_v<const T&, const char*> &&
                         !std::is_null_pointer_v<T>) {
        const char* p = v;
        return p ? "\"" + std::string(p) + "\"" : "nullptr";
    } else if constexpr (std::is_floating_point_v<T>) {
        return fmt_double(static_cast<double>(v));
    } else if constexpr (std::is_pointer_v<T> || std::is_null_pointer_v<T>) {
        return v ? "non-null pointer" : "nullptr";
    } else {
        return "<value>";
    }
}

template <typename T>
constexpr auto norm(T v)
{
    if constexpr (std::is_enum_v<T>)
        return static_cast<std::underlying_type_t<T>>(v);
    else
        return v;
}

template <typename T>
constexpr bool is_cmp_int = std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                            !std::is_same_v<T, char> && !std::is_same_v<T, wchar_t> &&
                            !std::is_same_v<T, char8_t> && !std::is_same_v<T, char16_t> &&
                            !std::is_same_v<T, char32_t>;

// Integer comparisons go through std::cmp_* so that mixing int, uint32_t
// and the EPOLL_EVENTS enum neither warns nor silently converts.
enum class cmp_op { eq, ne, lt, le, gt, ge };

template <typename A, typename B>
bool compare(cmp_op op, const A& ra, const B& rb)
{
    auto a = norm(ra);
    auto b = norm(rb);
    using NA = decltype(a);
    using NB = decltype(b);
    if constexpr (is_cmp_int<NA> && is_cmp_int<NB>) {
        switch (op) {
        case cmp_op::eq: return std::cmp_equal(a, b);
        case cmp_op::ne: return std::cmp_not_equal(a, b);
        case cmp_op::lt: return std::cmp_less(a, b);
        case cmp_op::le: return std::cmp_less_equal(a, b);
        case cmp_op::gt: return std::cmp_greater(a, b);
        case cmp_op::ge: return std::cmp_greater_equal(a, b);
        }
        return false;
    } else {
        switch (op) {
        case cmp_op::eq: return a == b;
        case cmp_op::ne: return a != b;
        case cmp_op::lt: return a < b;
        case cmp_op::le: return a <= b;
        case cmp_op::gt: return a > b;
        case cmp_op::ge: return a >= b;
        }
        return false;
    }
}

// Operands are copied first: epoll_event is packed on x86_64, and binding a reference to its
// data member is a misaligned access (UBSan says so).
template <typename T>
T by_value(T v)
{
    return v;
}

template <typename A, typename B>
bool check_cmp(const A& a, const B& b, cmp_op op, const char* sa, const char* sop,
               const char* sb, const char* file, int line)
{
    int e = errno;
    if (compare(op, a, b))
        return true;
    fail_at(file, line,
            std::string("CHECK(") + sa + " " + sop + " " + sb + "): left = " + fmt_value(a) +
                ", right = " + fmt_value(b) + ", errno = " + errno_name(e));
    errno = e;
    return false;
}

template <typename A, typename B>
bool check_events(const A& a, const B& b, const char* sa, const char* sb, const char* file,
                  int line)
{
    int e = errno;
    auto ua = static_cast<uint32_t>(norm(a));
    auto ub = static_cast<uint32_t>(norm(b));
    if (ua == ub)
        return true;
    fail_at(file, line,
            std::string("CHECK_EVENTS(") + sa + ", " + sb + "): actual = " + epoll_mask_str(ua) +
                ", expected = " + epoll_mask_str(ub) + ", errno = " + errno_name(e));
    errno = e;
    return false;
}

inline bool check_true(bool c, const char* expr, const char* file, int line)
{
    int e = errno;
    if (!c)
        fail_at(file, line, std::string("CHECK(") + expr + ") is false, errno = " + errno_name(e));
    errno = e;
    return c;
}

// errno is read first thing: the checked expression is the only argument that
// makes a call, so nothing can clobber errno between it and here.
template <typename T>
T check_ok(T r, const char* expr, const char* file, int line)
{
    int e = errno;
    if (r == static_cast<T>(-1))
        fail_at(file, line,
                std::string("CHECK_OK(") + expr + "): returned -1, errno = " + errno_name(e));
    errno = e;
    return r;
}

template <typename T>
bool check_err(T r, int want, const char* expr, const char* swant, const char* file, int line)
{
    int e = errno;
    bool ok = r == static_cast<T>(-1) && e == want;
    if (!ok) {
        std::string msg = std::string("CHECK_ERR(") + expr + ", " + swant + "): returned " +
                          fmt_value(r);
        if (r == static_cast<T>(-1))
            msg += std::string(", errno = ") + errno_name(e);
        fail_at(file, line, msg);
    }
    errno = e;
    return ok;
}

// ---------------------------------------------------------------- helpers

// Hides a deliberately invalid argument (NULL buffer, negative count) from
// the compiler so glibc's access attributes do not turn it into a warning.
template <typename T>
T hide(T v)
{
    volatile T x = v;
    return x;
}

// Monotonic clock in milliseconds (fractional).
double now_ms();
void sleep_ms(int ms);

inline epoll_event ev(uint32_t events, uint64_t data = 0)
{
    epoll_event e{};
    e.events = events;
    e.data.u64 = data;
    return e;
}

// Owns one file descriptor. close() reports the result so scenarios that test
// close itself still go through the owner and never double-close a number
// that has been reused.
class ufd {
public:
    ufd() = default;
    explicit ufd(int fd) : fd_(fd) {}
    ufd(const ufd&) = delete;
    ufd& operator=(const ufd&) = delete;
    ufd(ufd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    ufd& operator=(ufd&& o) noexcept
    {
        if (this != &o) {
            reset();
            fd_ = std::exchange(o.fd_, -1);
        }
        return *this;
    }
    ~ufd() { reset(); }
    int get() const { return fd_; }
    operator int() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() { return std::exchange(fd_, -1); }
    void reset(int fd = -1);
    int close();  // returns close()'s result, forgets the fd

private:
    int fd_ = -1;
};

struct fd_pair {
    ufd a, b;  // for pipes: a = read end, b = write end
};

fd_pair make_pipe(int flags = 0);
fd_pair make_socketpair(int type = SOCK_STREAM);

// Adds fd to ep with the given mask and data, recording a failure if it fails.
bool ep_add(int ep, int fd, uint32_t events, uint64_t data = 0);
// epoll_wait wrapper that never blocks longer than timeout_ms.
int ep_wait(int ep, epoll_event* evs, int max, int timeout_ms);

// Writes / reads an eventfd counter; returns the syscall result.
ssize_t efd_write(int fd, uint64_t v);
ssize_t efd_read(int fd, uint64_t* v);

// A thread that can be joined with a deadline. If a scenario lets one of
// these go out of scope while it is still blocked (a bug in the system under
// test), the destructor waits a little more and then terminates the whole
// run with a diagnostic rather than hanging or touching a dead stack.
class bg_thread {
public:
    explicit bg_thread(std::function<void()> fn);
    bg_thread(const bg_thread&) = delete;
    bg_thread& operator=(const bg_thread&) = delete;
    ~bg_thread();
    bool join_for(int timeout_ms);
    bool done() const;
    pthread_t native() const;

private:
    struct state;
    state* st_;
};

// Polls pred every millisecond until it is true or timeout_ms elapses.
bool wait_until(const std::function<bool()>& pred, int timeout_ms);

// Installs a handler for the lifetime of the object and restores the old one.
class scoped_sigaction {
public:
    scoped_sigaction(int sig, void (*handler)(int), int flags);
    ~scoped_sigaction();
    scoped_sigaction(const scoped_sigaction&) = delete;
    scoped_sigaction& operator=(const scoped_sigaction&) = delete;

private:
    int sig_;
    struct sigaction old_{};
};

// ------------------------------------------------------------ inet sockets
//
// TCP/UDP scenarios never hard-code an address: the Pollux run puts two hosts
// on an in-memory wire, so the server address comes from the environment and
// a client's source address may be a different (the other host's) address.
// Servers bind to the harness address, clients connect to it, ports are
// always ephemeral (0), and every wait below is bounded.

// $CONF_INET_ADDR, default "127.0.0.1"; $CONF_INET6_ADDR, default "::1".
const char* inet_addr();
const char* inet6_addr();
// The harness address with the given port (host byte order).
sockaddr_in inet_sockaddr(uint16_t port);
sockaddr_in6 inet6_sockaddr(uint16_t port);

// A socket address of either family and its length.
struct sock_addr {
    sockaddr_storage ss{};
    socklen_t len = 0;
    sockaddr* sa() { return reinterpret_cast<sockaddr*>(&ss); }
    const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&ss); }
    int family() const { return ss.ss_family; }
    uint16_t port() const;  // host byte order; 0 for other families
};
// The harness address of `family` (AF_INET or AF_INET6) with `port`.
sock_addr harness_sockaddr(int family, uint16_t port);
// "127.0.0.1:5000", "[::1]:5000"; other families as "family N, len N".
std::string addr_str(const sockaddr* sa, socklen_t len);
std::string addr_str(const sock_addr& a);
// getsockname / getpeername, formatted with addr_str, or "error ENOTCONN".
// Compare them as strings: CHECK_EQ(peer_name(server), sock_name(client)).
std::string sock_name(int fd);
std::string peer_name(int fd);
// getsockname's port (host order), 0 if getsockname fails.
uint16_t local_port(int fd);

// A TCP socket of `family` bound to the harness address with port 0 and
// listening with `backlog`; *port_out gets the kernel-chosen port. type_flags
// (SOCK_NONBLOCK, SOCK_CLOEXEC) go to socket(). Returns the fd, or -1 after
// recording a failure.
int tcp_listener(int family, int backlog, uint16_t* port_out, int type_flags = 0);
// A TCP socket bound to the harness address, port 0, NOT listening: a port
// nobody accepts on, reserved while the returned fd stays open. -1 on failure.
int tcp_closed_port(int family, uint16_t* port_out);
// Connects a new TCP socket to the harness address and `port` without ever
// blocking unboundedly (non-blocking connect, then EPOLLOUT within
// timeout_ms, then SO_ERROR); the socket is left blocking unless type_flags
// has SOCK_NONBLOCK. Returns the fd, or -1 after recording a failure.
int tcp_connect_to(int family, uint16_t port, int type_flags = 0, int timeout_ms = 2000);
// Waits (bounded) for a pending connection on a listener and accepts it with
// accept4(flags). Returns the fd, or -1 after recording a failure.
int tcp_accept(int listener, int flags = 0, int timeout_ms = 2000);
// An established TCP connection over the harness address: *client connected,
// *server accepted (the listener is closed again). Both blocking unless
// type_flags has SOCK_NONBLOCK (SOCK_CLOEXEC applies to both, too).
bool tcp_connected_pair(int family, int* client, int* server, int type_flags = 0);
// The same as owned fds: a = client, b = server; empty after a recorded failure.
fd_pair make_tcp_pair(int family = AF_INET, int type_flags = 0);
// A UDP "server": bound to the harness address, port 0; -1 after a failure.
int udp_bound(int family, uint16_t* port_out, int type_flags = 0);
// A UDP "client": not bound, connect()ed to the harness address and `port`,
// which gives it a concrete local address (the other host's on the Pollux
// wire) for getsockname. -1 after a recorded failure.
int udp_client(int family, uint16_t port, int type_flags = 0);

// The fd's current epoll mask for `interest` (a private epoll, timeout 0).
uint32_t epoll_mask(int fd, uint32_t interest);
// Waits up to timeout_ms until every bit of `until` is in the fd's mask for
// `interest`; returns the whole mask last seen (so a timeout shows what was
// there instead).
uint32_t await_events(int fd, uint32_t interest, uint32_t until, int timeout_ms = 2000);
// Receives exactly n bytes (MSG_DONTWAIT reads, bounded waits for EPOLLIN).
// Returns the number received: less than n on EOF, error or timeout.
ssize_t recv_exact(int fd, void* buf, size_t n, int timeout_ms = 2000);
// Sends all n bytes (MSG_DONTWAIT|MSG_NOSIGNAL, bounded waits for EPOLLOUT).
ssize_t send_exact(int fd, const void* buf, size_t n, int timeout_ms = 2000);
// Sets or clears O_NONBLOCK; returns fcntl's result.
int set_nonblocking(int fd, bool on);
// getsockopt of an int option; returns the value, or -1 (errno set).
int get_int_opt(int fd, int level, int name);
int set_int_opt(int fd, int level, int name, int value);

}  // namespace conf

#define CONF_CAT2(a, b) a##b
#define CONF_CAT(a, b) CONF_CAT2(a, b)

#define SCENARIO(name)                                                                  \
    static void CONF_CAT(scenario_body_, name)();                                       \
    static const ::conf::scenario_reg CONF_CAT(scenario_reg_, name)(                    \
        #name, &CONF_CAT(scenario_body_, name), __FILE__, __LINE__);                    \
    static void CONF_CAT(scenario_body_, name)()

#define CHECK(cond) ::conf::check_true((cond), #cond, __FILE__, __LINE__)

#define CONF_CMP(a, b, op, sop)                                                         \
    ::conf::check_cmp(::conf::by_value(a), ::conf::by_value(b), ::conf::cmp_op::op, #a, sop, #b, __FILE__, __LINE__)
#define CHECK_EQ(a, b) CONF_CMP(a, b, eq, "==")
#define CHECK_NE(a, b) CONF_CMP(a, b, ne, "!=")
#define CHECK_LT(a, b) CONF_CMP(a, b, lt, "<")
#define CHECK_LE(a, b) CONF_CMP(a, b, le, "<=")
#define CHECK_GT(a, b) CONF_CMP(a, b, gt, ">")
#define CHECK_GE(a, b) CONF_CMP(a, b, ge, ">=")

// Compares whole event masks and prints them symbolically on mismatch.
#define CHECK_EVENTS(a, b) ::conf::check_events((a), (b), #a, #b, __FILE__, __LINE__)

// Evaluates expr, fails unless it returned -1 with errno == err.
#define CHECK_ERR(expr, err) ::conf::check_err((expr), (err), #expr, #err, __FILE__, __LINE__)

// Evaluates expr, fails if it returned -1; yields expr's value.
#define CHECK_OK(expr) ::conf::check_ok((expr), #expr, __FILE__, __LINE__)

// Variants that abandon the scenario when a precondition does not hold.
#define REQUIRE(cond)                                                                   \
    do {                                                                                \
        if (!CHECK(cond))                                                               \
            return;                                                                     \
    } while (0)
#define REQUIRE_OK(expr)                                                                \
    do {                                                                                \
        if (::conf::check_ok((expr), #expr, __FILE__, __LINE__) == -1)                  \
            return;                                                                     \
    } while (0)
