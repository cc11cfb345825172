// kstd::Result<T>: a value or an errno, the error type of every internal Pollux call.
//
// Errors are Linux errno numbers (positive), so the POSIX edge only has to copy them into
// errno and the unikernel's syscall table only has to negate them. No exceptions anywhere.
#pragma once

#include <new>
#include <type_traits>
#include <utility>

namespace kstd {

struct Error {
    int code;  // a positive Linux errno value
};

inline constexpr Error err(int code) { return Error{code}; }

template <typename T>
class [[nodiscard]] Result {
public:
    Result(const T& value) : ok_(true) { new (&storage_) T(value); }           // NOLINT(google-explicit-constructor)
    Result(T&& value) : ok_(true) { new (&storage_) T(std::move(value)); }     // NOLINT(google-explicit-constructor)
    Result(Error e) : ok_(false), error_(e.code) {}                            // NOLINT(google-explicit-constructor)
    Result(const Result& other) : ok_(other.ok_), error_(other.error_) {
        if (ok_) new (&storage_) T(other.value());
    }
    Result& operator=(const Result&) = delete;
    ~Result() {
        if (ok_) value().~T();
    }

    bool ok() const { return ok_; }
    Error error() const { return Error{error_}; }
    int error_code() const { return ok_ ? 0 : error_; }
    T& value() { return *std::launder(reinterpret_cast<T*>(&storage_)); }
    const T& value() const { return *std::launder(reinterpret_cast<const T*>(&storage_)); }
    T release_value() { return std::move(value()); }

private:
    bool ok_;
    int error_ = 0;
    alignas(T) unsigned char storage_[sizeof(T)];  // NOLINT(bugprone-sizeof-expression): T may be a pointer
};

template <>
class [[nodiscard]] Result<void> {
public:
    Result() = default;
    Result(Error e) : error_(e.code) {}  // NOLINT(google-explicit-constructor)
    bool ok() const { return error_ == 0; }
    Error error() const { return Error{error_}; }
    int error_code() const { return error_; }
    void release_value() {}

private:
    int error_ = 0;
};

}  // namespace kstd

// TRY(expr): evaluate a Result; on error return it from the enclosing function, else yield
// the value. A GNU statement expression, as SerenityOS's TRY, so error paths read straight.
#define TRY(expr)                                   \
    ({                                              \
        auto _try_result = (expr);                  \
        if (!_try_result.ok()) return _try_result.error(); \
        _try_result.release_value();                \
    })
