// poll, ppoll, select and pselect6, after Linux's fs/select.c: hook on every queue during the
// first pass, then sleep until a hook fires, a signal arrives or the deadline passes, and
// re-poll. A pass that finds something ready stops hooking (as do_poll clears _qproc).
#include <linux/errno.h>

#include <new>

#include "eventpoll/fd_table.h"
#include "eventpoll/poll_wait_set.h"
#include "eventpoll/scoped_sigmask.h"
#include "eventpoll/sys.h"
#include "kernel/platform.h"

namespace pollux {

namespace {

constexpr PollMask kPollInSet = abi::kEPOLLRDNORM | abi::kEPOLLRDBAND | abi::kEPOLLIN | abi::kEPOLLHUP | abi::kEPOLLERR;
constexpr PollMask kPollOutSet = abi::kEPOLLWRBAND | abi::kEPOLLWRNORM | abi::kEPOLLOUT | abi::kEPOLLERR;
constexpr PollMask kPollExSet = abi::kEPOLLPRI;
constexpr int kBitsPerLong = 64;

uint64_t deadline_after(int64_t timeout_ns) {
    if (timeout_ns < 0) return 0;
    uint64_t d = platform::monotonic_ns() + static_cast<uint64_t>(timeout_ns);
    return d == 0 ? 1 : d;
}


// One pass of do_pollfd() over every entry.
int poll_pass(PollFd* fds, unsigned long nfds, PollWaitSet& waits) {
    int count = 0;
    for (unsigned long i = 0; i < nfds; ++i) {
        PollFd& pfd = fds[i];
        pfd.revents = 0;
        if (pfd.fd < 0) continue;
        FileRef file = FdTable::instance().get(pfd.fd);
        if (!file) {
            pfd.revents = static_cast<short>(abi::kEPOLLNVAL);
            ++count;
            continue;
        }
        PollMask filter = static_cast<uint16_t>(pfd.events) | abi::kEPOLLERR | abi::kEPOLLHUP;
        waits.set_key(filter);
        PollMask mask = file->poll(waits.table()) & filter;
        pfd.revents = static_cast<short>(mask);
        if (mask != 0) {
            ++count;
            waits.stop_registering();
        }
    }
    return count;
}

// Linux's do_poll(): 0 timeout never sleeps; a signal gives EINTR (ERESTARTNOHAND).
long do_poll(PollFd* fds, unsigned long nfds, int64_t timeout_ns) {
    if (nfds > static_cast<unsigned long>(platform::fd_limit())) return -EINVAL;
    if (nfds > 0 && fds == nullptr) return -EFAULT;
    uint64_t deadline = deadline_after(timeout_ns);
    PollWaitSet waits;
    if (timeout_ns == 0) waits.stop_registering();
    for (;;) {
        int count = poll_pass(fds, nfds, waits);
        waits.stop_registering();
        if (count == 0 && waits.failed()) return -ENOMEM;
        if (count > 0 || timeout_ns == 0) return count;
        platform::WaitStatus status = waits.parker().park(deadline, /*poll_first=*/true);
        if (status == platform::WaitStatus::timed_out) return poll_pass(fds, nfds, waits);
        if (status == platform::WaitStatus::interrupted) {
            count = poll_pass(fds, nfds, waits);
            return count > 0 ? count : -EINTR;
        }
    }
}

bool fd_isset(const unsigned long* set, int fd) {
    return set != nullptr && ((set[fd / kBitsPerLong] >> (fd % kBitsPerLong)) & 1UL) != 0;
}
void fd_set_bit(unsigned long* set, int fd) { set[fd / kBitsPerLong] |= 1UL << (fd % kBitsPerLong); }

// Linux's do_select(). Results go to local sets and are copied out at the end, so the
// caller's sets are only overwritten on success.
long do_select(int nfds, unsigned long* in, unsigned long* out, unsigned long* ex, int64_t timeout_ns) {
    if (nfds < 0) return -EINVAL;
    int max = FdTable::instance().capacity();
    if (nfds > max) nfds = max;
    int words = (nfds + kBitsPerLong - 1) / kBitsPerLong;
    for (int fd = 0; fd < nfds; ++fd) {
        if ((fd_isset(in, fd) || fd_isset(out, fd) || fd_isset(ex, fd)) && !FdTable::instance().owns(fd)) return -EBADF;
    }
    // Result sets: on the stack for up to 1024 descriptors, else allocated, as core_sys_select()
    // does with SELECT_STACK_ALLOC.
    constexpr int kStackWords = 16;
    unsigned long stack_sets[3 * kStackWords];
    unsigned long* sets = stack_sets;
    if (words > kStackWords) {
        sets = new (std::nothrow) unsigned long[3 * static_cast<size_t>(words)];
        if (sets == nullptr) return -ENOMEM;
    }
    struct FreeSets {
        unsigned long* sets;
        unsigned long* stack;
        ~FreeSets() {
            if (sets != stack) delete[] sets;
        }
    } free_sets{sets, stack_sets};
    unsigned long* res_in = sets;
    unsigned long* res_out = sets + words;
    unsigned long* res_ex = sets + 2 * static_cast<ptrdiff_t>(words);
    uint64_t deadline = deadline_after(timeout_ns);
    PollWaitSet waits;
    if (timeout_ns == 0) waits.stop_registering();
    bool final_pass = false;
    for (;;) {
        int count = 0;
        for (int w = 0; w < words; ++w) res_in[w] = res_out[w] = res_ex[w] = 0;
        for (int fd = 0; fd < nfds; ++fd) {
            bool want_in = fd_isset(in, fd), want_out = fd_isset(out, fd), want_ex = fd_isset(ex, fd);
            if (!want_in && !want_out && !want_ex) continue;
            FileRef file = FdTable::instance().get(fd);
            if (!file) return -EBADF;
            PollMask key = abi::kEPOLLERR | abi::kEPOLLHUP;
            if (want_in) key |= kPollInSet;
            if (want_out) key |= kPollOutSet;
            if (want_ex) key |= kPollExSet;
            waits.set_key(key);
            PollMask mask = file->poll(waits.table());
            if (want_in && (mask & kPollInSet)) {
                fd_set_bit(res_in, fd);
                ++count;
                waits.stop_registering();
            }
            if (want_out && (mask & kPollOutSet)) {
                fd_set_bit(res_out, fd);
                ++count;
                waits.stop_registering();
            }
            if (want_ex && (mask & kPollExSet)) {
                fd_set_bit(res_ex, fd);
                ++count;
                waits.stop_registering();
            }
        }
        waits.stop_registering();
        if (count > 0 || timeout_ns == 0 || final_pass) {
            for (int w = 0; w < words; ++w) {
                if (in != nullptr) in[w] = res_in[w];
                if (out != nullptr) out[w] = res_out[w];
                if (ex != nullptr) ex[w] = res_ex[w];
            }
            return count;
        }
        if (waits.failed()) return -ENOMEM;
        platform::WaitStatus status = waits.parker().park(deadline, /*poll_first=*/true);
        if (status == platform::WaitStatus::timed_out) final_pass = true;
        if (status == platform::WaitStatus::interrupted) return -EINTR;
    }
}

}  // namespace

long sys_poll(PollFd* fds, unsigned long nfds, int timeout_ms) {
    return do_poll(fds, nfds, timeout_ms < 0 ? -1 : static_cast<int64_t>(timeout_ms) * 1000000);
}

long sys_ppoll(PollFd* fds, unsigned long nfds, const abi::Timespec* timeout, const KernelSigset* sigmask,
               size_t sigsetsize) {
    int64_t timeout_ns = -1;
    if (timeout != nullptr) {
        if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000) return -EINVAL;
        timeout_ns = timeout->tv_sec > 9000000000LL ? -1 : timeout->tv_sec * 1000000000 + timeout->tv_nsec;
    }
    if (sigmask != nullptr && sigsetsize != sizeof(KernelSigset)) return -EINVAL;
    ScopedSigmask mask(sigmask);
    if (mask.delivered()) {
        long r = do_poll(fds, nfds, 0);
        return r == 0 ? -EINTR : r;
    }
    return do_poll(fds, nfds, timeout_ns);
}

// select() writes the time left back into *timeout, as Linux does (poll_select_finish).
long sys_select(int nfds, unsigned long* in, unsigned long* out, unsigned long* ex, Timeval* timeout) {
    int64_t timeout_ns = -1;
    uint64_t start = 0;
    if (timeout != nullptr) {
        if (timeout->tv_sec < 0 || timeout->tv_usec < 0) return -EINVAL;
        // Linux normalises an oversized tv_usec rather than rejecting it.
        int64_t sec = timeout->tv_sec + timeout->tv_usec / 1000000;
        int64_t usec = timeout->tv_usec % 1000000;
        timeout_ns = sec > 9000000000LL ? -1 : sec * 1000000000 + usec * 1000;
        start = platform::monotonic_ns();
    }
    long r = do_select(nfds, in, out, ex, timeout_ns);
    if (timeout != nullptr && timeout_ns >= 0) {
        uint64_t spent = platform::monotonic_ns() - start;
        int64_t left = static_cast<int64_t>(spent) >= timeout_ns ? 0 : timeout_ns - static_cast<int64_t>(spent);
        timeout->tv_sec = left / 1000000000;
        timeout->tv_usec = (left % 1000000000) / 1000;
    }
    return r;
}

long sys_pselect6(int nfds, unsigned long* in, unsigned long* out, unsigned long* ex, abi::Timespec* timeout,
                  const KernelSigset* sigmask, size_t sigsetsize) {
    int64_t timeout_ns = -1;
    uint64_t start = 0;
    if (timeout != nullptr) {
        if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 || timeout->tv_nsec >= 1000000000) return -EINVAL;
        timeout_ns = timeout->tv_sec > 9000000000LL ? -1 : timeout->tv_sec * 1000000000 + timeout->tv_nsec;
        start = platform::monotonic_ns();
    }
    if (sigmask != nullptr && sigsetsize != sizeof(KernelSigset)) return -EINVAL;
    long r;
    {
        ScopedSigmask mask(sigmask);
        r = do_select(nfds, in, out, ex, mask.delivered() ? 0 : timeout_ns);
        if (mask.delivered() && r == 0) r = -EINTR;
    }
    if (timeout != nullptr && timeout_ns >= 0) {
        uint64_t spent = platform::monotonic_ns() - start;
        int64_t left = static_cast<int64_t>(spent) >= timeout_ns ? 0 : timeout_ns - static_cast<int64_t>(spent);
        timeout->tv_sec = left / 1000000000;
        timeout->tv_nsec = left % 1000000000;
    }
    return r;
}

}  // namespace pollux
