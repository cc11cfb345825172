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
