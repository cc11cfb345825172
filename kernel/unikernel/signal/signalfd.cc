// signalfd(2), after fs/signalfd.c: a file that reads the caller's pending signals of its mask
// as 128-byte signalfd_siginfo records, and polls readable while one is pending. Which thread
// asks matters, as on Linux: the file looks at the calling thread's pending set and the
// process's (a thread blocked in epoll_wait is the caller of the poll). Every signal sent wakes
// the signalfd queue (signalfd_notify()), which all signalfds share, as Linux's sighand does.
#include <linux/errno.h>

#include <atomic>
#include <cstring>
#include <new>

#include "eventpoll/fd_table.h"
#include "eventpoll/file.h"
#include "eventpoll/wait_event.h"
#include "eventpoll/wait_queue.h"
#include "sched/irq_guard.h"
#include "sched/scheduler.h"
#include "signal/internal.h"
#include "syscall/syscall.h"
#include "user/user_access.h"

namespace pollux::signal {
namespace {

constexpr int kSfdNonblock = 04000, kSfdCloexec = 02000000;  // O_NONBLOCK, O_CLOEXEC
constexpr uint64_t kSigsetSize = 8;

WaitQueueHead signalfd_wq;  // sighand->signalfd_wqh

// include/uapi/linux/signalfd.h
struct SignalfdSiginfo {
    uint32_t signo;
    int32_t errno_, code;
    uint32_t pid, uid;
    int32_t fd;
    uint32_t tid, band, overrun, trapno;
    int32_t status, int_;
    uint64_t ptr, utime, stime, addr;
    uint16_t addr_lsb, pad2;
    int32_t syscall;
    uint64_t call_addr;
    uint32_t arch;
    uint8_t pad[28];
};
static_assert(sizeof(SignalfdSiginfo) == 128);

// signalfd_copyinfo(): the fields of the siginfo's layout.
SignalfdSiginfo to_record(const SigInfo& info) {
    SignalfdSiginfo r{};
    r.signo = uint32_t(info.signo);
    r.errno_ = info.errno_;
    r.code = info.code;
    if (info.code == kSiTimer) {
        r.tid = uint32_t(info.timer.tid);
        r.overrun = uint32_t(info.timer.overrun);
        r.ptr = info.timer.value;
        r.int_ = int32_t(info.timer.value);
    } else if (info.signo == kSigSegv || info.signo == kSigBus || info.signo == kSigIll || info.signo == kSigFpe ||
               info.signo == kSigTrap) {
        r.addr = info.fault.addr;
    } else {
        r.pid = uint32_t(info.kill.pid);
        r.uid = info.kill.uid;
    }
    return r;
}

class SignalFd final : public File {
public:
    SignalFd(uint64_t mask, int flags)
        : File(FileKind::signalfd, FMODE_READ | FMODE_WRITE, abi::kO_RDWR | (flags & kSfdNonblock)), mask_(mask) {}

    bool can_read() const override { return true; }
    void set_mask(uint64_t mask) { mask_.store(mask, std::memory_order_release); }

    // signalfd_poll(): EPOLLIN alone, while a signal of the mask is pending for the caller.
    PollMask poll(PollTable* pt) override {
        poll_wait(*this, signalfd_wq, pt);
        return pending() ? abi::kEPOLLIN : 0;
    }

    // signalfd_read(): as many records as fit, waiting (unless nonblocking) for the first only.
    kstd::Result<size_t> read(IoIter& to, bool nonblock) override {
        size_t count = to.remaining() / sizeof(SignalfdSiginfo);
        if (count == 0) return kstd::err(EINVAL);
        size_t done = 0;
        while (done < count) {
            SigInfo info;
            int sig;
            {
                sched::IrqGuard guard;
                sig = detail::dequeue(sched::current(), mask_.load(std::memory_order_acquire), info);
            }
            if (sig == 0) {
                if (done != 0) break;
                if (nonblock) return kstd::err(EAGAIN);
                // A signal outside the mask that is not blocked ends the wait (-ERESTARTSYS).
                int waited = wait_event(signalfd_wq, [this] { return pending(); }, 0);
                if (waited == -EINTR) return kstd::err(abi::kERESTARTSYS);
                continue;
            }
            SignalfdSiginfo record = to_record(info);
            // The signal is taken when the copy faults, as in signalfd_read().
            if (to.copy_out(&record, sizeof record) != sizeof record) return done != 0 ? kstd::Result<size_t>(done * sizeof record) : kstd::err(EFAULT);
            ++done;
        }
        return done * sizeof(SignalfdSiginfo);
    }

private:
    bool pending() {
        sched::IrqGuard guard;
        uint64_t m = mask_.load(std::memory_order_acquire);
        return ((sched::current()->signals.pending | detail::shared_pending) & m) != 0;
    }

    std::atomic<uint64_t> mask_;
};

}  // namespace

namespace detail {
// Most signals find no signalfd polled or read: a peek spares them the queue's lock. The fence
// orders the pending bit the sender set before the peek, as waitqueue_active() asks; a poller
// joins the queue before it looks at the pending sets.
void signalfd_notify() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (signalfd_wq.active()) signalfd_wq.wake_up(0);
}
}  // namespace detail

}  // namespace pollux::signal

namespace pollux::sys {

// signalfd4(fd, mask, sizemask, flags): the mask's size, the mask, the flags; fd -1 makes a
// file, a signalfd's number gets the new mask. SIGKILL and SIGSTOP are never in it.
int64_t sys_signalfd4(const Args& a) {
    if (a.a2 != signal::kSigsetSize) return -EINVAL;
    uint64_t mask;
    if (!user::get(a.a1, mask)) return -EFAULT;
    int flags = int(a.a3);
    if (flags & ~(signal::kSfdCloexec | signal::kSfdNonblock)) return -EINVAL;
    mask &= ~signal::detail::kUnblockable;
    int fd = int(a.a0);
    if (fd == -1) {
        auto* file = new (std::nothrow) signal::SignalFd(mask, flags);
        if (file == nullptr) return -ENOMEM;
        kstd::Result<int> installed = FdTable::instance().install(FileRef(file), (flags & signal::kSfdCloexec) != 0);
        return installed.ok() ? installed.value() : -installed.error_code();
    }
    FileRef file = FdTable::instance().get(fd);
    if (!file) return -EBADF;
    if (file->kind() != FileKind::signalfd) return -EINVAL;
    static_cast<signal::SignalFd*>(file.get())->set_mask(mask);
    signal::detail::signalfd_notify();  // waiters re-test with the new mask
    return fd;
}

int64_t sys_signalfd(const Args& a) { return sys_signalfd4({a.a0, a.a1, a.a2, 0, 0, 0, a.frame}); }

}  // namespace pollux::sys
