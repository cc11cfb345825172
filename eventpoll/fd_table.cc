// FdTable: see eventpoll/include/eventpoll/fd_table.h for the model and locking.
#include "eventpoll/fd_table.h"

#include <linux/errno.h>

#include "kernel/platform.h"

namespace pollux {

namespace {
constexpr uintptr_t kCloexecBit = 1;

File* file_of(uintptr_t slot) { return reinterpret_cast<File*>(slot & ~kCloexecBit); }
uintptr_t make_slot(File* file, bool cloexec) {
    return reinterpret_cast<uintptr_t>(file) | (cloexec ? kCloexecBit : 0);
}
}  // namespace

FdTable& FdTable::instance() {
    static FdTable table;
    return table;
}

FdTable::FdTable() : capacity_(platform::fd_capacity()) {
    slots_ = static_cast<std::atomic<uintptr_t>*>(
        platform::reserve_zeroed(sizeof(std::atomic<uintptr_t>) * static_cast<size_t>(capacity_)));
}

kstd::Result<int> FdTable::install(FileRef file, bool cloexec, int min_fd) {
    int fd = platform::reserve_fd(min_fd);
    if (fd < 0) return kstd::err(-fd);
    if (!in_range(fd)) {
        platform::release_fd(fd);
        return kstd::err(EMFILE);
    }
    LockGuard guard(lock_);
    slots_[fd].store(make_slot(file.leak(), cloexec), std::memory_order_release);
    return fd;
}

kstd::Result<int> FdTable::install_at(int fd, FileRef file, bool cloexec) {
    if (!in_range(fd)) return kstd::err(EBADF);
    uintptr_t old;
    {
        LockGuard guard(lock_);
        old = slots_[fd].load(std::memory_order_relaxed);
        if (old == 0) {
            // The number is the host's or free: take it over on the host first.
            int r = platform::reserve_fd_at(fd);
            if (r < 0) return kstd::err(-r);
        }
        slots_[fd].store(make_slot(file.leak(), cloexec), std::memory_order_release);
    }
    if (old != 0) file_of(old)->put();
    return fd;
}

FileRef FdTable::get(int fd) {
    if (!in_range(fd)) return FileRef();
    if (slots_[fd].load(std::memory_order_acquire) == 0) return FileRef();
    LockGuard guard(lock_);
    uintptr_t slot = slots_[fd].load(std::memory_order_relaxed);
    if (slot == 0) return FileRef();
    File* file = file_of(slot);
    file->get();
    return FileRef(file);
}

bool FdTable::owns(int fd) const {
    return in_range(fd) && slots_[fd].load(std::memory_order_acquire) != 0;
}

kstd::Result<void> FdTable::close(int fd) {
    if (!in_range(fd)) return kstd::err(EBADF);
    uintptr_t old;
    {
        LockGuard guard(lock_);
        old = slots_[fd].exchange(0, std::memory_order_acq_rel);
        if (old == 0) return kstd::err(EBADF);
        // Released under the lock so that install_at() cannot see a free slot whose host
        // placeholder is still open.
        platform::release_fd(fd);
    }
    file_of(old)->put();
    return {};
}

kstd::Result<void> FdTable::detach(int fd) {
    if (!in_range(fd)) return kstd::err(EBADF);
    uintptr_t old;
    {
        LockGuard guard(lock_);
        old = slots_[fd].exchange(0, std::memory_order_acq_rel);
        if (old == 0) return kstd::err(EBADF);
    }
    file_of(old)->put();
    return {};
}

kstd::Result<bool> FdTable::cloexec(int fd) {
    if (!in_range(fd)) return kstd::err(EBADF);
    uintptr_t slot = slots_[fd].load(std::memory_order_acquire);
    if (slot == 0) return kstd::err(EBADF);
    return (slot & kCloexecBit) != 0;
}

kstd::Result<void> FdTable::set_cloexec(int fd, bool cloexec) {
    if (!in_range(fd)) return kstd::err(EBADF);
    LockGuard guard(lock_);
    uintptr_t slot = slots_[fd].load(std::memory_order_relaxed);
    if (slot == 0) return kstd::err(EBADF);
    slots_[fd].store(make_slot(file_of(slot), cloexec), std::memory_order_release);
    return {};
}

}  // namespace pollux
