// File: defaults for the operations a file does not implement, and the last-reference path.
#include "eventpoll/file.h"

#include <linux/errno.h>

#include "eventpoll/printer.h"

namespace pollux {

namespace {
std::atomic<uint64_t> next_ino{1};
}

File::File(FileKind kind, uint8_t mode, int flags)
    : flags_(flags), ino_(next_ino.fetch_add(1, std::memory_order_relaxed)), kind_(kind), mode_(mode) {}

kstd::Result<size_t> File::read(IoIter&, bool) { return kstd::err(EINVAL); }
kstd::Result<size_t> File::write(IoIter&, bool) { return kstd::err(EINVAL); }
kstd::Result<long> File::ioctl(unsigned long, uintptr_t) { return kstd::err(ENOTTY); }
kstd::Result<int64_t> File::llseek(int64_t, int) {
    switch (kind_) {
    case FileKind::eventpoll:
    case FileKind::eventfd:
    case FileKind::timerfd:
    case FileKind::signalfd:
        return int64_t{0};
    default:
        return kstd::err(ESPIPE);
    }
}
kstd::Result<size_t> File::read_at(IoIter&, int64_t) { return kstd::err(ESPIPE); }
void File::show_fdinfo(Printer&) {}

void File::put() {
    if (refcount_.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    // As Linux's __fput(): epitems go first, so no ep_poll_callback can run on a dying file.
    eventpoll_release_file(*this);
    flock_release_file(*this);
    release();
    destroy();
}

}  // namespace pollux
