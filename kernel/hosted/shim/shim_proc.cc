// Hosted shim: the stack's /proc/net files. open() of /proc/net/snmp or /proc/net/dev would
// show the host's counters, not Pollux's; these names give a read-only descriptor of Pollux's
// text (netstack/procfs.cc) instead, generated at open as a snapshot (Linux generates it at the
// first read: the same for a program that opens, reads and closes). Every other path goes to
// the host unchanged.
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <memory>

#include "netstack/procfs.h"
#include "shim.h"

using pollux::shim::host;

namespace {

// open's third argument exists only when the flags create a file.
mode_t mode_arg(int flags, va_list ap) {
    bool takes_mode = (flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE;
    // NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): the callers va_start() it
    return takes_mode ? va_arg(ap, mode_t) : 0;
}

// The text in a sealed-size memfd, reopened read-only through /proc/self/fd as a real /proc
// file would be: reads, lseek and fstat work, writes fail with EBADF. -2: not our path.
int open_proc_net(const char* path, int flags) {
    if (path == nullptr || path[0] != '/') return -2;
    char small[4096];
    long len = pollux::net::proc_net_render(path, small, sizeof(small));
    if (len < 0) return -2;
    if ((flags & O_ACCMODE) != O_RDONLY) {
        errno = EACCES;  // the files are 0444
        return -1;
    }
    std::unique_ptr<char[]> big;
    const char* text = small;
    if (static_cast<size_t>(len) >= sizeof(small)) {
        big.reset(new char[len + 1]);
        len = pollux::net::proc_net_render(path, big.get(), static_cast<size_t>(len) + 1);
        text = big.get();
    }
    int mfd = static_cast<int>(host(SYS_memfd_create, "pollux-proc-net", MFD_CLOEXEC));
    if (mfd < 0) return -1;
    for (long done = 0; done < len;) {
        long w = host(SYS_write, mfd, text + done, len - done);
        if (w <= 0) {
            host(SYS_close, mfd);
            return -1;
        }
        done += w;
    }
    char self[64];
    snprintf(self, sizeof(self), "/proc/self/fd/%d", mfd);
    int fd = static_cast<int>(host(SYS_openat, AT_FDCWD, self, O_RDONLY | (flags & O_CLOEXEC)));
    host(SYS_close, mfd);
    return fd;
}

int do_openat(int dirfd, const char* path, int flags, mode_t mode) {
    int fd = open_proc_net(path, flags);
    if (fd != -2) return fd;
    return static_cast<int>(host(SYS_openat, dirfd, path, flags, mode));
}

template <typename Fn>
Fn next_symbol(const char* name) {
    return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

FILE* do_fopen(const char* path, const char* mode, const char* real_name) {
    if (mode != nullptr && mode[0] == 'r' && strchr(mode, '+') == nullptr) {
        int fd = open_proc_net(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            FILE* f = fdopen(fd, "r");
            if (f == nullptr) host(SYS_close, fd);
            return f;
        }
        if (fd == -1) return nullptr;
    }
    using FopenFn = FILE* (*)(const char*, const char*);
    static FopenFn real = next_symbol<FopenFn>(real_name);
    if (real == nullptr) {
        errno = ENOSYS;
        return nullptr;
    }
    return real(path, mode);
}

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_openat(AT_FDCWD, path, flags, mode);
}

int openat(int dirfd, const char* path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = mode_arg(flags, ap);
    va_end(ap);
    return do_openat(dirfd, path, flags, mode);
}

// Largefile and _FORTIFY_SOURCE spellings of the same calls (glibc on x86_64: one ABI).
int open64(const char* path, int flags, ...) __attribute__((alias("open")));
int openat64(int dirfd, const char* path, int flags, ...) __attribute__((alias("openat")));
int __open_2(const char* path, int flags) { return do_openat(AT_FDCWD, path, flags, 0); }
int __open64_2(const char* path, int flags) { return do_openat(AT_FDCWD, path, flags, 0); }
int __openat_2(int dirfd, const char* path, int flags) { return do_openat(dirfd, path, flags, 0); }
int __openat64_2(int dirfd, const char* path, int flags) { return do_openat(dirfd, path, flags, 0); }

// glibc's fopen opens through its internal open, which the names above do not catch.
FILE* fopen(const char* path, const char* mode) { return do_fopen(path, mode, "fopen"); }
FILE* fopen64(const char* path, const char* mode) { return do_fopen(path, mode, "fopen64"); }

}  // extern "C"
