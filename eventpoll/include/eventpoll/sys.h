// The sys_* layer: Linux's system calls as the core implements them.
//
// Each returns what the Linux syscall returns: a value >= 0, or -errno. The unikernel's
// syscall table calls these directly; the hosted shim turns -errno into -1 + errno. Tests
// call them directly too. Pointers are the caller's memory; a null one where Linux would
// copy gives -EFAULT, exactly where Linux's copy would fail.
#pragma once

#include <cstddef>
#include <cstdint>

#include "eventpoll/io_iter.h"
#include "eventpoll/linux_abi.h"

namespace pollux {

struct PollFd {  // layout of struct pollfd
    int fd;
    short events;
    short revents;
};

struct Timeval {  // layout of struct timeval
    int64_t tv_sec;
    int64_t tv_usec;
};

using KernelSigset = uint64_t;  // the kernel's sigset_t is 8 bytes on x86_64

long sys_epoll_create(int size);
long sys_epoll_create1(int flags);
long sys_epoll_ctl(int epfd, int op, int fd, const abi::EpollEvent* event);
long sys_epoll_wait(int epfd, abi::EpollEvent* events, int maxevents, int timeout_ms);
long sys_epoll_pwait(int epfd, abi::EpollEvent* events, int maxevents, int timeout_ms,
                     const KernelSigset* sigmask, size_t sigsetsize);
long sys_epoll_pwait2(int epfd, abi::EpollEvent* events, int maxevents, const abi::Timespec* timeout,
                      const KernelSigset* sigmask, size_t sigsetsize);

long sys_eventfd2(unsigned int initval, int flags);
long sys_eventfd(unsigned int initval);
long sys_timerfd_create(int clockid, int flags);
long sys_timerfd_settime(int fd, int flags, const abi::Itimerspec* new_value, abi::Itimerspec* old_value);
long sys_timerfd_gettime(int fd, abi::Itimerspec* curr_value);
long sys_pipe2(int* fds, int flags);
long sys_pipe(int* fds);
long sys_socketpair(int domain, int type, int protocol, int* sv);
long sys_shutdown(int fd, int how);
long sys_socket(int family, int type, int protocol);
long sys_bind(int fd, const void* addr, int addrlen);
long sys_connect(int fd, const void* addr, int addrlen);
long sys_listen(int fd, int backlog);
long sys_accept(int fd, void* addr, unsigned* addrlen);
long sys_accept4(int fd, void* addr, unsigned* addrlen, int flags);
long sys_getsockname(int fd, void* addr, unsigned* addrlen);
long sys_getpeername(int fd, void* addr, unsigned* addrlen);
long sys_setsockopt(int fd, int level, int name, const void* val, int len);
long sys_getsockopt(int fd, int level, int name, void* val, unsigned* len);
long sys_sendmsg(int fd, const abi::MsgHdr* msg, int flags);
long sys_recvmsg(int fd, abi::MsgHdr* msg, int flags);
long sys_sendto(int fd, const void* buf, size_t len, int flags, const void* addr, unsigned addrlen);
long sys_recvfrom(int fd, void* buf, size_t len, int flags, void* addr, unsigned* addrlen);

long sys_read(int fd, void* buf, size_t count);
long sys_write(int fd, const void* buf, size_t count);
long sys_readv(int fd, const IoVec* iov, int iovcnt);
long sys_writev(int fd, const IoVec* iov, int iovcnt);
long sys_close(int fd);
// close_range(2): closes, or with CLOSE_RANGE_CLOEXEC marks close-on-exec, every open
// descriptor in [first, last]; CLOSE_RANGE_UNSHARE changes nothing (one fd table).
long sys_close_range(unsigned int first, unsigned int last, unsigned int flags);
// flock(2): BSD advisory locks held by open file descriptions (eventpoll/flock.cc).
long sys_flock(int fd, unsigned int cmd);
long sys_dup(int oldfd);
long sys_dup2(int oldfd, int newfd);
long sys_dup3(int oldfd, int newfd, int flags);
long sys_fcntl(int fd, int cmd, unsigned long arg);
// offset null: from the input's file position, which moves; else from *offset, which moves.
long sys_sendfile(int out_fd, int in_fd, int64_t* offset, size_t count);
long sys_ioctl(int fd, unsigned long cmd, unsigned long arg);
// Positions: ESPIPE on what has none (pipes, sockets, the console), EBADF on O_PATH files.
long sys_lseek(int fd, int64_t offset, unsigned int whence);
long sys_pread64(int fd, void* buf, size_t count, int64_t pos);
long sys_preadv(int fd, const IoVec* iov, int iovcnt, int64_t pos);

long sys_poll(PollFd* fds, unsigned long nfds, int timeout_ms);
long sys_ppoll(PollFd* fds, unsigned long nfds, const abi::Timespec* timeout,
               const KernelSigset* sigmask, size_t sigsetsize);
// fd sets are arrays of unsigned long bits, as the kernel sees fd_set.
long sys_select(int nfds, unsigned long* readfds, unsigned long* writefds, unsigned long* exceptfds,
                Timeval* timeout);
long sys_pselect6(int nfds, unsigned long* readfds, unsigned long* writefds, unsigned long* exceptfds,
                  abi::Timespec* timeout, const KernelSigset* sigmask, size_t sigsetsize);

// Introspection: the interest list of eventpoll `epfd` in /proc/PID/fdinfo format plus a
// ready flag per item. Returns the length written (truncated to size) or -errno.
long pollux_epoll_fdinfo(int epfd, char* buf, size_t size);

}  // namespace pollux
