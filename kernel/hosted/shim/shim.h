// Helpers shared by the hosted POSIX shim: the standard libc names, implemented by Pollux for
// descriptors Pollux owns and forwarded to the host kernel (raw syscalls, never libc, which
// would loop back into us) for every other descriptor.
#pragma once

#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "eventpoll/fd_table.h"

namespace pollux::shim {

// The POSIX edge: -errno becomes -1 with errno set.
inline long ret(long r) {
    if (r < 0) {
        errno = static_cast<int>(-r);
        return -1;
    }
    return r;
}

inline bool ours(int fd) { return FdTable::instance().owns(fd); }

// syscall() already returns -1 and sets errno.
template <typename... Args>
long host(long nr, Args... args) {
    return syscall(nr, args...);
}

// Reports once per process that a call met something the hosted runtime does not bridge.
void warn_once(const char* what);

// Libraries the runtime itself drives (DPDK's EAL and poll-mode drivers) open sockets, pipes,
// eventfds and epolls for their own use, through the same libc names the application uses:
// those descriptors belong to the host. Once a library is named here (a fragment of its file
// name, e.g. "librte_"), the descriptor-creating calls ask whether their caller's code lies in
// such a library and, if so, go to the host.
void host_library(const char* name_fragment);
bool for_host_library(const void* caller);

}  // namespace pollux::shim
