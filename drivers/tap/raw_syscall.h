// Host syscalls for the TAP driver, bypassing libc: the hosted runtime defines read(), write(),
// ioctl(), poll() and close() under their libc names, so a libc call here would land in Pollux's
// own descriptor table instead of the host's.
#pragma once

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace pollux::tap {

// The result, or -errno (the kernel's convention; errno itself is left alone).
inline long raw_syscall(long nr, long a = 0, long b = 0, long c = 0, long d = 0, long e = 0) {
    long r = syscall(nr, a, b, c, d, e);
    return r == -1 ? -errno : r;
}

template <typename T>
inline long arg(T* p) {
    return reinterpret_cast<long>(p);
}

}  // namespace pollux::tap
