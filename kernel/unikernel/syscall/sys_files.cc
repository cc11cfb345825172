// Descriptors, sockets and epoll: the Linux-ABI entries over the same sys_* functions the
// hosted runtime exports (eventpoll/include/eventpoll/sys.h). The portable code dereferences
// the pointers it is given, so each entry first checks that the application's memory it
// names is mapped with the access the call needs (Linux's access_ok + the fault it would take)
// and fails with EFAULT otherwise. Data buffers are different: Linux fails with EFAULT only
// when a copy actually faults (read(fd, NULL, n) on an empty socket is EAGAIN), and the
// portable code's stand-in for such a buffer is a null base (eventpoll/io_iter.h), so an
// unmapped data buffer is passed on as null. One weakness remains: another application
// thread may unmap memory between the check and the access, which ends the application.
#include <linux/errno.h>

#include <cstring>
#include <new>
#include <optional>

#include "eventpoll/fd_table.h"
#include "eventpoll/linux_abi.h"
#include "eventpoll/socket.h"
#include "eventpoll/sys.h"
#include "syscall/syscall.h"
#include "user/address_space.h"
#include "user/user_access.h"

namespace pollux::sys {

using user::ptr;
using user::readable;
using user::writable;
namespace {

using pollux::IoVec;

// A data buffer as the portable code takes it: null when not mapped with the access needed.
void* data_buf(uint64_t addr, uint64_t len, bool to_user) {
    if (len > uint64_t(abi::kMAX_RW_COUNT)) len = abi::kMAX_RW_COUNT;
    return (to_user ? writable(addr, len) : readable(addr, len)) ? ptr<void>(addr) : nullptr;
}

// An iovec array: it must be readable (EFAULT otherwise, as import_iovec); a segment that is
// not mapped becomes null in a kernel copy of the array. Counts beyond UIO_MAXIOV are left to
// the portable code, which gives Linux's EINVAL.
class SafeIov {
public:
    SafeIov(uint64_t iov, uint64_t count, bool to_user) : user_(ptr<const IoVec>(iov)) {
        if (count > uint64_t(abi::kUIO_MAXIOV)) return;
        if (!readable(iov, count * sizeof(IoVec))) {
            ok_ = false;
            return;
        }
        for (uint64_t i = 0; i < count; ++i) {
            uint64_t base = reinterpret_cast<uint64_t>(user_[i].base);
            if (data_buf(base, user_[i].len, to_user) != nullptr || user_[i].len == 0) continue;
            if (copy_ == nullptr) {
                copy_ = new (std::nothrow) IoVec[count];
                if (copy_ == nullptr) {
                    ok_ = false;
                    return;
                }
                memcpy(copy_, user_, count * sizeof(IoVec));
            }
            copy_[i].base = nullptr;
        }
    }
    ~SafeIov() { delete[] copy_; }
    SafeIov(const SafeIov&) = delete;
    SafeIov& operator=(const SafeIov&) = delete;
    bool ok() const { return ok_; }
    const IoVec* get() const { return copy_ ? copy_ : user_; }

private:
    const IoVec* user_;
    IoVec* copy_ = nullptr;
    bool ok_ = true;
};

// An address check failed: but Linux looks the socket up (sockfd_lookup_light(): EBADF, then
// ENOTSOCK) before it copies any address in or out, so those errors come first. Only this
// failure path pays for the extra lookup; the portable call does its own.
int64_t efault_after_fd(uint64_t fd) {
    FileRef file = FdTable::instance().get(int(fd));
    if (!file) return -EBADF;
    return is_socket(*file) ? -EFAULT : -ENOTSOCK;
}

// A socket address and its in/out length: the length word (when given) and then as many bytes
// as it says the buffer holds.
bool addr_out_ok(uint64_t addr, uint64_t lenp) {
    if (lenp == 0) return true;
    if (!writable(lenp, sizeof(unsigned))) return false;
    int len = *ptr<const int>(lenp);
    return addr == 0 || len <= 0 || writable(addr, uint64_t(len));
}

// A msghdr for sendmsg/recvmsg: the header, name and control must be mapped (EFAULT); the
// iovec goes through SafeIov, in a kernel copy of the header when it had to be copied.
class SafeMsg {
public:
    SafeMsg(uint64_t m, bool to_user) : user_(ptr<abi::MsgHdr>(m)) {
        if (!(to_user ? writable(m, sizeof(abi::MsgHdr)) : readable(m, sizeof(abi::MsgHdr)))) return;
        const abi::MsgHdr& h = *user_;
        uint64_t name = reinterpret_cast<uint64_t>(h.msg_name), control = reinterpret_cast<uint64_t>(h.msg_control);
        if (name && !(to_user ? writable(name, h.msg_namelen) : readable(name, h.msg_namelen))) return;
        if (control && !(to_user ? writable(control, h.msg_controllen) : readable(control, h.msg_controllen)))
            return;
        iov_.emplace(reinterpret_cast<uint64_t>(h.msg_iov), h.msg_iovlen, to_user);
        if (!iov_->ok()) return;
        ok_ = true;
        if (iov_->get() != h.msg_iov) {
            copy_ = h;
            copy_.msg_iov = const_cast<IoVec*>(iov_->get());
        }
    }
    bool ok() const { return ok_; }
    abi::MsgHdr* get() { return iov_ && iov_->get() != user_->msg_iov ? &copy_ : user_; }
    // recvmsg's results, from the kernel copy back to the application's header.
    void copy_back() {
        if (get() == user_) return;
        user_->msg_namelen = copy_.msg_namelen;
        user_->msg_controllen = copy_.msg_controllen;
        user_->msg_flags = copy_.msg_flags;
    }

private:
    abi::MsgHdr* user_;
    abi::MsgHdr copy_{};
    std::optional<SafeIov> iov_;
    bool ok_ = false;
};

// select's fd_sets: as many longs as nfds needs (fs/select.c reads exactly that much).
bool fdset_ok(uint64_t set, uint64_t nfds) {
    if (set == 0 || int64_t(nfds) < 0) return true;
    uint64_t bytes = (nfds + 63) / 64 * 8;
    return writable(set, bytes);
}

bool sigset_ok(uint64_t set) { return set == 0 || readable(set, sizeof(KernelSigset)); }

}  // namespace

int64_t sys_read(const Args& a) { return pollux::sys_read(int(a.a0), data_buf(a.a1, a.a2, true), a.a2); }
int64_t sys_write(const Args& a) { return pollux::sys_write(int(a.a0), data_buf(a.a1, a.a2, false), a.a2); }
int64_t sys_readv(const Args& a) {
    SafeIov iov(a.a1, a.a2, true);
    if (!iov.ok()) return -EFAULT;
    return pollux::sys_readv(int(a.a0), iov.get(), int(a.a2));
}
int64_t sys_writev(const Args& a) {
    SafeIov iov(a.a1, a.a2, false);
    if (!iov.ok()) return -EFAULT;
    return pollux::sys_writev(int(a.a0), iov.get(), int(a.a2));
}
// sendfile(out, in, offset, count): offset is read first and written back (EFAULT either way).
int64_t sys_sendfile(const Args& a) {
    if (a.a2 && (!readable(a.a2, sizeof(int64_t)) || !writable(a.a2, sizeof(int64_t)))) return -EFAULT;
    return pollux::sys_sendfile(int(a.a0), int(a.a1), ptr<int64_t>(a.a2), a.a3);
}
int64_t sys_pread64(const Args& a) {
    return pollux::sys_pread64(int(a.a0), data_buf(a.a1, a.a2, true), a.a2, int64_t(a.a3));
}
// x86_64's preadv takes the whole offset in its fourth argument (pos_from_hilo's high half is 0).
int64_t sys_preadv(const Args& a) {
    SafeIov iov(a.a1, a.a2, true);
    if (!iov.ok()) return -EFAULT;
    return pollux::sys_preadv(int(a.a0), iov.get(), int(a.a2), int64_t(a.a3));
}
int64_t sys_lseek(const Args& a) { return pollux::sys_lseek(int(a.a0), int64_t(a.a1), unsigned(a.a2)); }
int64_t sys_close(const Args& a) { return pollux::sys_close(int(a.a0)); }
int64_t sys_dup(const Args& a) { return pollux::sys_dup(int(a.a0)); }
int64_t sys_dup2(const Args& a) { return pollux::sys_dup2(int(a.a0), int(a.a1)); }
int64_t sys_dup3(const Args& a) { return pollux::sys_dup3(int(a.a0), int(a.a1), int(a.a2)); }
int64_t sys_fcntl(const Args& a) { return pollux::sys_fcntl(int(a.a0), int(a.a1), a.a2); }
int64_t sys_close_range(const Args& a) {
    return pollux::sys_close_range(unsigned(a.a0), unsigned(a.a1), unsigned(a.a2));
}
int64_t sys_flock(const Args& a) { return pollux::sys_flock(int(a.a0), unsigned(a.a1)); }

int64_t sys_poll(const Args& a) {
    if (a.a1 <= 1u << 20 && !writable(a.a0, a.a1 * sizeof(PollFd))) return -EFAULT;
    return pollux::sys_poll(ptr<PollFd>(a.a0), a.a1, int(a.a2));
}
int64_t sys_ppoll(const Args& a) {
    if (a.a1 <= 1u << 20 && !writable(a.a0, a.a1 * sizeof(PollFd))) return -EFAULT;
    if ((a.a2 && !writable(a.a2, sizeof(abi::Timespec))) || !sigset_ok(a.a3)) return -EFAULT;
    return pollux::sys_ppoll(ptr<PollFd>(a.a0), a.a1, ptr<const abi::Timespec>(a.a2), ptr<const KernelSigset>(a.a3),
                             a.a4);
}
int64_t sys_select(const Args& a) {
    if (!fdset_ok(a.a1, a.a0) || !fdset_ok(a.a2, a.a0) || !fdset_ok(a.a3, a.a0)) return -EFAULT;
    if (a.a4 && !writable(a.a4, sizeof(Timeval))) return -EFAULT;
    return pollux::sys_select(int(a.a0), ptr<unsigned long>(a.a1), ptr<unsigned long>(a.a2),
                              ptr<unsigned long>(a.a3), ptr<Timeval>(a.a4));
}
int64_t sys_pselect6(const Args& a) {
    if (!fdset_ok(a.a1, a.a0) || !fdset_ok(a.a2, a.a0) || !fdset_ok(a.a3, a.a0)) return -EFAULT;
    if (a.a4 && !writable(a.a4, sizeof(abi::Timespec))) return -EFAULT;
    // The sixth argument is { const sigset_t* ss; size_t ss_len; } (fs/select.c).
    const KernelSigset* mask = nullptr;
    size_t mask_size = sizeof(KernelSigset);
    if (a.a5) {
        if (!readable(a.a5, 16)) return -EFAULT;
        uint64_t ss = ptr<const uint64_t>(a.a5)[0];
        mask_size = ptr<const uint64_t>(a.a5)[1];
        if (!sigset_ok(ss)) return -EFAULT;
        mask = ptr<const KernelSigset>(ss);
    }
    return pollux::sys_pselect6(int(a.a0), ptr<unsigned long>(a.a1), ptr<unsigned long>(a.a2),
                                ptr<unsigned long>(a.a3), ptr<abi::Timespec>(a.a4), mask, mask_size);
}

int64_t sys_epoll_create(const Args& a) { return pollux::sys_epoll_create(int(a.a0)); }
int64_t sys_epoll_create1(const Args& a) { return pollux::sys_epoll_create1(int(a.a0)); }
int64_t sys_epoll_ctl(const Args& a) {
    // EPOLL_CTL_DEL ignores the event; Linux copies it only for the other operations.
    if (a.a1 != 2 && !readable(a.a3, sizeof(abi::EpollEvent))) return -EFAULT;
    return pollux::sys_epoll_ctl(int(a.a0), int(a.a1), int(a.a2), ptr<const abi::EpollEvent>(a.a3));
}
namespace {
// Linux copies events out one by one and fails with EFAULT only when it has one to copy
// (epoll_wait(ep, NULL, 1, 0) on an idle eventpoll is 0): an unmapped array is passed on as
// null, the portable code's stand-in for it.
abi::EpollEvent* events_buf(uint64_t events, uint64_t max) {
    bool ok = int(max) <= 0 || max > (1u << 26) || writable(events, max * sizeof(abi::EpollEvent));
    return ok ? ptr<abi::EpollEvent>(events) : nullptr;
}
}  // namespace
int64_t sys_epoll_wait(const Args& a) {
    return pollux::sys_epoll_wait(int(a.a0), events_buf(a.a1, a.a2), int(a.a2), int(a.a3));
}
int64_t sys_epoll_pwait(const Args& a) {
    if (!sigset_ok(a.a4)) return -EFAULT;
    return pollux::sys_epoll_pwait(int(a.a0), events_buf(a.a1, a.a2), int(a.a2), int(a.a3),
                                   ptr<const KernelSigset>(a.a4), a.a5);
}
int64_t sys_epoll_pwait2(const Args& a) {
    if (!sigset_ok(a.a4)) return -EFAULT;
    if (a.a3 && !readable(a.a3, sizeof(abi::Timespec))) return -EFAULT;
    return pollux::sys_epoll_pwait2(int(a.a0), events_buf(a.a1, a.a2), int(a.a2),
                                    ptr<const abi::Timespec>(a.a3), ptr<const KernelSigset>(a.a4), a.a5);
}

int64_t sys_eventfd(const Args& a) { return pollux::sys_eventfd(unsigned(a.a0)); }
int64_t sys_eventfd2(const Args& a) { return pollux::sys_eventfd2(unsigned(a.a0), int(a.a1)); }
int64_t sys_timerfd_create(const Args& a) { return pollux::sys_timerfd_create(int(a.a0), int(a.a1)); }
int64_t sys_timerfd_settime(const Args& a) {
    if (!readable(a.a2, sizeof(abi::Itimerspec)) || (a.a3 && !writable(a.a3, sizeof(abi::Itimerspec))))
        return -EFAULT;
    return pollux::sys_timerfd_settime(int(a.a0), int(a.a1), ptr<const abi::Itimerspec>(a.a2),
                                       ptr<abi::Itimerspec>(a.a3));
}
int64_t sys_timerfd_gettime(const Args& a) {
    if (!writable(a.a1, sizeof(abi::Itimerspec))) return -EFAULT;
    return pollux::sys_timerfd_gettime(int(a.a0), ptr<abi::Itimerspec>(a.a1));
}
int64_t sys_pipe(const Args& a) {
    if (!writable(a.a0, 2 * sizeof(int))) return -EFAULT;
    return pollux::sys_pipe(ptr<int>(a.a0));
}
int64_t sys_pipe2(const Args& a) {
    if (!writable(a.a0, 2 * sizeof(int))) return -EFAULT;
    return pollux::sys_pipe2(ptr<int>(a.a0), int(a.a1));
}
int64_t sys_socketpair(const Args& a) {
    if (!writable(a.a3, 2 * sizeof(int))) return -EFAULT;
    return pollux::sys_socketpair(int(a.a0), int(a.a1), int(a.a2), ptr<int>(a.a3));
}

int64_t sys_socket(const Args& a) { return pollux::sys_socket(int(a.a0), int(a.a1), int(a.a2)); }
int64_t sys_bind(const Args& a) {
    if (int(a.a2) > 0 && int(a.a2) <= 128 && !readable(a.a1, a.a2)) return efault_after_fd(a.a0);
    return pollux::sys_bind(int(a.a0), ptr<const void>(a.a1), int(a.a2));
}
int64_t sys_connect(const Args& a) {
    // __sys_connect(): EBADF, then the address, then ENOTSOCK (which the portable call checks).
    if (int(a.a2) > 0 && int(a.a2) <= 128 && !readable(a.a1, a.a2))
        return FdTable::instance().get(int(a.a0)) ? -EFAULT : -EBADF;
    return pollux::sys_connect(int(a.a0), ptr<const void>(a.a1), int(a.a2));
}
int64_t sys_listen(const Args& a) { return pollux::sys_listen(int(a.a0), int(a.a1)); }
int64_t sys_accept(const Args& a) {
    if (!addr_out_ok(a.a1, a.a2)) return efault_after_fd(a.a0);
    return pollux::sys_accept(int(a.a0), ptr<void>(a.a1), ptr<unsigned>(a.a2));
}
int64_t sys_accept4(const Args& a) {
    if (!addr_out_ok(a.a1, a.a2)) return efault_after_fd(a.a0);
    return pollux::sys_accept4(int(a.a0), ptr<void>(a.a1), ptr<unsigned>(a.a2), int(a.a3));
}
int64_t sys_getsockname(const Args& a) {
    if (!addr_out_ok(a.a1, a.a2)) return efault_after_fd(a.a0);
    return pollux::sys_getsockname(int(a.a0), ptr<void>(a.a1), ptr<unsigned>(a.a2));
}
int64_t sys_getpeername(const Args& a) {
    if (!addr_out_ok(a.a1, a.a2)) return efault_after_fd(a.a0);
    return pollux::sys_getpeername(int(a.a0), ptr<void>(a.a1), ptr<unsigned>(a.a2));
}
int64_t sys_setsockopt(const Args& a) {
    if (int(a.a4) > 0 && !readable(a.a3, a.a4 > 4096 ? 4096 : a.a4)) return efault_after_fd(a.a0);
    return pollux::sys_setsockopt(int(a.a0), int(a.a1), int(a.a2), ptr<const void>(a.a3), int(a.a4));
}
int64_t sys_getsockopt(const Args& a) {
    if (!addr_out_ok(a.a3, a.a4) || (a.a4 == 0)) return efault_after_fd(a.a0);
    return pollux::sys_getsockopt(int(a.a0), int(a.a1), int(a.a2), ptr<void>(a.a3), ptr<unsigned>(a.a4));
}
int64_t sys_sendto(const Args& a) {
    if (a.a4 && int(a.a5) > 0 && int(a.a5) <= 128 && !readable(a.a4, a.a5)) return efault_after_fd(a.a0);
    return pollux::sys_sendto(int(a.a0), data_buf(a.a1, a.a2, false), a.a2, int(a.a3), ptr<const void>(a.a4),
                              unsigned(a.a5));
}
int64_t sys_recvfrom(const Args& a) {
    if (!addr_out_ok(a.a4, a.a5)) return efault_after_fd(a.a0);
    return pollux::sys_recvfrom(int(a.a0), data_buf(a.a1, a.a2, true), a.a2, int(a.a3), ptr<void>(a.a4), ptr<unsigned>(a.a5));
}
int64_t sys_sendmsg(const Args& a) {
    SafeMsg msg(a.a1, false);
    if (!msg.ok()) return efault_after_fd(a.a0);
    return pollux::sys_sendmsg(int(a.a0), msg.get(), int(a.a2));
}
int64_t sys_recvmsg(const Args& a) {
    SafeMsg msg(a.a1, true);
    if (!msg.ok()) return efault_after_fd(a.a0);
    int64_t r = pollux::sys_recvmsg(int(a.a0), msg.get(), int(a.a2));
    msg.copy_back();
    return r;
}
int64_t sys_shutdown(const Args& a) { return pollux::sys_shutdown(int(a.a0), int(a.a1)); }

}  // namespace pollux::sys
