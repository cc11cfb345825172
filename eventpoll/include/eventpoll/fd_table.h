// FdTable: descriptor numbers to Files, plus each descriptor's FD_CLOEXEC.
//
// One table per process (the unikernel runs one). Numbers come from the platform, so hosted
// they never collide with the host's and follow Linux's lowest-free rule across both.
//
// Locking: lock_ guards slot writes and the load+get() pair of a lookup (so a concurrent close
// cannot free a File between the two). A slot holds a File* with bit 0 = FD_CLOEXEC.
#pragma once

#include <atomic>
#include <cstdint>

#include "eventpoll/file.h"
#include "kernel/spin_lock.h"
#include "kstd/result.h"

namespace pollux {

class FdTable {
public:
    static FdTable& instance();

    // Installs `file` (adopting the caller's reference) at the lowest free number >= min_fd.
    kstd::Result<int> install(FileRef file, bool cloexec, int min_fd = 0);
    // Installs at exactly `fd`, closing what was there (dup2/dup3 semantics).
    kstd::Result<int> install_at(int fd, FileRef file, bool cloexec);
    // A counted reference, or empty if fd is not one of ours.
    FileRef get(int fd);
    // True if fd currently names a Pollux file (a lockless peek for the hosted shim).
    bool owns(int fd) const;
    kstd::Result<void> close(int fd);
    // Forgets fd without giving its number back to the platform: the hosted shim uses it
    // when a host dup2() is about to take the number over.
    kstd::Result<void> detach(int fd);
    kstd::Result<bool> cloexec(int fd);
    kstd::Result<void> set_cloexec(int fd, bool cloexec);
    int capacity() const { return capacity_; }

private:
    FdTable();
    bool in_range(int fd) const { return fd >= 0 && fd < capacity_; }

    SpinLock lock_;
    std::atomic<uintptr_t>* slots_;
    int capacity_;
};

}  // namespace pollux
