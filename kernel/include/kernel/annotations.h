// Clang thread-safety annotations. Under clang (-Wthread-safety) every lock says what it
// guards and the compiler checks it; under GCC they compile to nothing.
#pragma once

#if defined(__clang__)
#define PX_ATTR(x) __attribute__((x))
#else
#define PX_ATTR(x)
#endif

#define CAPABILITY(x) PX_ATTR(capability(x))
#define SCOPED_CAPABILITY PX_ATTR(scoped_lockable)
#define GUARDED_BY(x) PX_ATTR(guarded_by(x))
#define PT_GUARDED_BY(x) PX_ATTR(pt_guarded_by(x))
#define ACQUIRE(...) PX_ATTR(acquire_capability(__VA_ARGS__))
#define RELEASE(...) PX_ATTR(release_capability(__VA_ARGS__))
#define TRY_ACQUIRE(...) PX_ATTR(try_acquire_capability(__VA_ARGS__))
#define REQUIRES(...) PX_ATTR(requires_capability(__VA_ARGS__))
#define EXCLUDES(...) PX_ATTR(locks_excluded(__VA_ARGS__))
#define NO_THREAD_SAFETY_ANALYSIS PX_ATTR(no_thread_safety_analysis)
#define ASSERT_CAPABILITY(x) PX_ATTR(assert_capability(x))
