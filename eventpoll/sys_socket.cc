// The socket system calls, after net/socket.c (Linux 6.x): argument checks in Linux's order,
// addresses copied in and out as move_addr_to_kernel()/move_addr_to_user() do, and the
// operations of whichever family made the socket.
#include <linux/errno.h>

#include <atomic>
#include <cstring>
#include <utility>

#include "eventpoll/fd_table.h"
#include "eventpoll/restart.h"
#include "eventpoll/socket.h"
#include "eventpoll/sys.h"
#include "eventpoll/sys_util.h"
#include "kernel/platform.h"

namespace pollux {

namespace {

std::atomic<SocketCreate> families[abi::kNPROTO];

// sockfd_lookup_light(): EBADF, then ENOTSOCK.
long lookup(int fd, FileRef& file) {
    file = FdTable::instance().get(fd);
    if (!file) return -EBADF;
    if (!is_socket(*file)) return -ENOTSOCK;
    return 0;
}

Socket& sock(const FileRef& file) { return static_cast<Socket&>(*file); }

// move_addr_to_kernel(): a length beyond sockaddr_storage is EINVAL, 0 copies nothing.
long addr_in(const void* uaddr, int ulen, SockAddr& out) {
    if (ulen < 0 || static_cast<unsigned>(ulen) > abi::kSockaddrStorageSize) return -EINVAL;
    out.len = static_cast<unsigned>(ulen);
    if (ulen == 0) return 0;
    if (uaddr == nullptr) return -EFAULT;
    std::memcpy(out.data, uaddr, out.len);
    return 0;
}

// move_addr_to_user(): copies min(len, klen) bytes and always reports the full length.
long addr_out(const SockAddr& addr, void* uaddr, unsigned* ulen) {
    if (ulen == nullptr) return -EFAULT;
    int len;
    std::memcpy(&len, ulen, sizeof(len));
    if (len > static_cast<int>(addr.len)) len = static_cast<int>(addr.len);
    if (len < 0) return -EINVAL;
    if (len != 0) {
        if (uaddr == nullptr) return -EFAULT;
        std::memcpy(uaddr, addr.data, static_cast<size_t>(len));
    }
    std::memcpy(ulen, &addr.len, sizeof(addr.len));
    return 0;
}

long install(FileRef file, int flags) {
    kstd::Result<int> fd = FdTable::instance().install(std::move(file), (flags & abi::kSOCK_CLOEXEC) != 0);
    return fd.ok() ? fd.value() : -fd.error_code();
}

long do_sendmsg(const FileRef& file, IoIter& it, int flags, const SockAddr* to) {
    if (file->nonblocking()) flags |= abi::kMSG_DONTWAIT;
    return restart_syscall([&] { return result_of(sock(file).sendmsg(it, flags, to)); });
}

}  // namespace

void sock_register(int family, SocketCreate create) {
    if (family > 0 && family < abi::kNPROTO) families[family].store(create, std::memory_order_release);
}

// Socket's defaults: Linux's sock_no_*() and sock_read_iter()/sock_write_iter().
kstd::Result<size_t> Socket::read(IoIter& to, bool nonblock) {
    if (to.remaining() == 0) return size_t{0};  // "Match SYS5 behaviour"
    int msg_flags = 0;
    return recvmsg(to, nonblock ? abi::kMSG_DONTWAIT : 0, nullptr, &msg_flags);
}
kstd::Result<size_t> Socket::write(IoIter& from, bool nonblock) {
    return sendmsg(from, nonblock ? abi::kMSG_DONTWAIT : 0, nullptr);
}
kstd::Result<void> Socket::bind(const SockAddr&) { return kstd::err(EOPNOTSUPP); }
kstd::Result<void> Socket::connect(const SockAddr&, bool) { return kstd::err(EOPNOTSUPP); }
kstd::Result<void> Socket::listen(int) { return kstd::err(EOPNOTSUPP); }
kstd::Result<FileRef> Socket::accept(int, bool) { return kstd::err(EOPNOTSUPP); }
kstd::Result<void> Socket::getname(SockAddr&, bool) { return kstd::err(EOPNOTSUPP); }
kstd::Result<void> Socket::shutdown(int) { return kstd::err(EOPNOTSUPP); }
kstd::Result<void> Socket::setsockopt(int, int, const void*, unsigned) { return kstd::err(ENOPROTOOPT); }
kstd::Result<void> Socket::getsockopt(int, int, void*, unsigned*) { return kstd::err(ENOPROTOOPT); }

// __sys_socket(): the flags, then __sock_create()'s family and type ranges, then the family.
long sys_socket(int family, int type, int protocol) {
    int flags = type & ~abi::kSOCK_TYPE_MASK;
    if ((flags & ~(abi::kSOCK_CLOEXEC | abi::kSOCK_NONBLOCK)) != 0) return -EINVAL;
    type &= abi::kSOCK_TYPE_MASK;
    if (family < 0 || family >= abi::kNPROTO) return -EAFNOSUPPORT;
    if (type < 0 || type >= abi::kSOCK_MAX) return -EINVAL;
    SocketCreate create = families[family].load(std::memory_order_acquire);
    if (create == nullptr) return -EAFNOSUPPORT;
    kstd::Result<FileRef> file = create(family, type, protocol, flags & abi::kSOCK_NONBLOCK);
    if (!file.ok()) return -file.error_code();
    return install(std::move(file.value()), flags);
}

long sys_bind(int fd, const void* addr, int addrlen) {
    FileRef file;
    if (long r = lookup(fd, file); r < 0) return r;
    SockAddr a;
    if (long r = addr_in(addr, addrlen, a); r < 0) return r;
    return result_of(sock(file).bind(a));
}

// __sys_connect(): EBADF, then the address, then ENOTSOCK.
long sys_connect(int fd, const void* addr, int addrlen) {
    FileRef file = FdTable::instance().get(fd);
    if (!file) return -EBADF;
    SockAddr a;
    if (long r = addr_in(addr, addrlen, a); r < 0) return r;
    if (!is_socket(*file)) return -ENOTSOCK;
    return restart_syscall([&] { return result_of(sock(file).connect(a, file->nonblocking())); });
}

// __sys_listen(): the backlog is capped at net.core.somaxconn.
long sys_listen(int fd, int backlog) {
    FileRef file;
    if (long r = lookup(fd, file); r < 0) return r;
    if (static_cast<unsigned>(backlog) > static_cast<unsigned>(abi::kSOMAXCONN)) backlog = abi::kSOMAXCONN;
    return result_of(sock(file).listen(backlog));
}

// do_accept(): the flags, the descriptor, a free number (EMFILE leaves the connection queued),
// the accept itself, then the peer's address.
long sys_accept4(int fd, void* addr, unsigned* addrlen, int flags) {
    if ((flags & ~(abi::kSOCK_CLOEXEC | abi::kSOCK_NONBLOCK)) != 0) return -EINVAL;
    FileRef file;
    if (long r = lookup(fd, file); r < 0) return r;
    int newfd = platform::reserve_fd(0);
    if (newfd < 0) return newfd;
    FileRef conn;
    long r = restart_syscall([&] {
        kstd::Result<FileRef> got = sock(file).accept(flags & abi::kSOCK_NONBLOCK, file->nonblocking());
        if (!got.ok()) return -static_cast<long>(got.error_code());
        conn = std::move(got.value());
        return 0L;
    });
    if (r < 0 || !conn) {
        platform::release_fd(newfd);
        return r < 0 ? r : -ECONNABORTED;
    }
    if (addr != nullptr) {
        SockAddr peer;
        if (!sock(conn).getname(peer, true).ok()) r = -ECONNABORTED;
        if (r == 0) r = addr_out(peer, addr, addrlen);
        if (r < 0) {
            platform::release_fd(newfd);
            return r;
        }
    }
    kstd::Result<int> installed =
        FdTable::instance().install_at(newfd, std::move(conn), (flags & abi::kSOCK_CLOEXEC) != 0);
    if (!installed.ok()) {
        platform::release_fd(newfd);
        return -installed.error_code();
    }
    return newfd;
}

long sys_accept(int fd, void* addr, unsigned* addrlen) { return sys_accept4(fd, addr, addrlen, 0); }

namespace {

long getname(int fd, void* addr, unsigned* addrlen, bool peer) {
    FileRef file;
    if (long r = lookup(fd, file); r < 0) return r;
    SockAddr a;
    if (kstd::Result<void> r = sock(file).getname(a, peer); !r.ok()) return -r.error_code();
    return addr_out(a, addr, addrlen);
}

}  // namespace

long sys_getsockname(int fd, void* addr, unsigned* addrlen) { return getname(fd, addr, addrlen, false); }
long sys_getpeername(int fd, void* addr, unsigned* addrlen) { return getname(fd, addr, addrlen, true); }

long sys_setsockopt(int fd, int level, int name, const void* val, int len) {
    if (len < 0) return -EINVAL;
    FileRef file;
    if (long r = lookup(fd, file); r < 0) return r;
    return result_of(sock(file).setsockopt(level, name, val, static_cast<unsigned>(len)));
}

long sys_getsockopt(int fd, int level, int name, void* val, unsigned* len) {
    FileRef file;
    if (long r = lookup(fd, file); r < 0) return r;
    if (len == nullptr) return -EFAULT;
    int ulen;
    std::memcpy(&ulen, len, sizeof(ulen));
    if (ulen < 0) return -EINVAL;
    return result_of(sock(file).getsockopt(level, name, val, len));
}

long sys_shutdown(int fd, int how) {
    FileRef file;
    if (long r = lookup(fd, file); r < 0) return r;
    return result_of(sock(file).shutdown(how));
}

// __sys_sendto(): the socket, then the destination.
long sys_sendto(int fd, const void* buf, size_t len, int flags, const void* addr, unsigned addrlen) {
    if (len > static_cast<size_t>(abi::kMAX_RW_COUNT)) len = static_cast<size_t>(abi::kMAX_RW_COUNT);
    FileRef file;
    if (long r = lookup(fd, file); r < 0) return r;
    SockAddr to;
    if (addr != nullptr) {
        if (long r = addr_in(addr, static_cast<int>(addrlen), to); r < 0) return r;
    }
    IoVec seg{const_cast<void*>(buf), len};
    IoIter it(&seg, 1);
    return do_sendmsg(file, it, flags, addr != nullptr ? &to : nullptr);
}

// __sys_recvfrom(): the data is consumed before the address is written back.
long sys_recvfrom(int fd, void* buf, size_t len, int flags, void* addr, unsigned* addrlen) {
    if (len > static_cast<size_t>(abi::kMAX_RW_COUNT)) len = static_cast<size_t>(abi::kMAX_RW_COUNT);
    FileRef file;
    if (long r = lookup(fd, file); r < 0) return r;
    if (file->nonblocking()) flags |= abi::kMSG_DONTWAIT;
    IoVec seg{buf, len};
    IoIter it(&seg, 1);
    SockAddr from;
    int msg_flags = 0;
    long got = restart_syscall([&] { return result_of(sock(file).recvmsg(it, flags, &from, &msg_flags)); });
    if (got < 0 || addr == nullptr) return got;
    if (long r = addr_out(from, addr, addrlen); r < 0) return r;
    return got;
}

// ___sys_sendmsg(): the header's iovec and name are imported first; control data is ignored
// (no family here takes any).
long sys_sendmsg(int fd, const abi::MsgHdr* msg, int flags) {
    FileRef file;
    if (long r = lookup(fd, file); r < 0) return r;
    if (msg == nullptr) return -EFAULT;
    abi::MsgHdr m;
    std::memcpy(&m, msg, sizeof(m));
    if (m.msg_iovlen > static_cast<size_t>(abi::kUIO_MAXIOV)) return -EMSGSIZE;
    SockAddr to;
    if (m.msg_name != nullptr) {
        if (long r = addr_in(m.msg_name, static_cast<int>(m.msg_namelen), to); r < 0) return r;
    }
    IovecBuffer room;
    IoVec* segs = room.get(static_cast<long>(m.msg_iovlen));
    if (segs == nullptr) return -ENOMEM;
    long total = import_iovec(static_cast<const IoVec*>(m.msg_iov), static_cast<int>(m.msg_iovlen), segs);
    if (total < 0) return total;
    IoIter it(segs, m.msg_iovlen);
    return do_sendmsg(file, it, flags, m.msg_name != nullptr ? &to : nullptr);
}

long sys_recvmsg(int fd, abi::MsgHdr* msg, int flags) {
    FileRef file;
    if (long r = lookup(fd, file); r < 0) return r;
    if (msg == nullptr) return -EFAULT;
    abi::MsgHdr m;
    std::memcpy(&m, msg, sizeof(m));
    if (m.msg_iovlen > static_cast<size_t>(abi::kUIO_MAXIOV)) return -EMSGSIZE;
    if (static_cast<int>(m.msg_namelen) < 0) return -EINVAL;
    IovecBuffer room;
    IoVec* segs = room.get(static_cast<long>(m.msg_iovlen));
    if (segs == nullptr) return -ENOMEM;
    long total = import_iovec(static_cast<const IoVec*>(m.msg_iov), static_cast<int>(m.msg_iovlen), segs);
    if (total < 0) return total;
    IoIter it(segs, m.msg_iovlen);
    if (file->nonblocking()) flags |= abi::kMSG_DONTWAIT;
    SockAddr from;
    int msg_flags = 0;
    long got = restart_syscall([&] { return result_of(sock(file).recvmsg(it, flags, &from, &msg_flags)); });
    if (got < 0) return got;
    if (m.msg_name != nullptr) {
        unsigned namelen = m.msg_namelen;
        if (long r = addr_out(from, m.msg_name, &namelen); r < 0) return r;
        msg->msg_namelen = namelen;
    } else {
        msg->msg_namelen = 0;
    }
    msg->msg_controllen = 0;
    msg->msg_flags = msg_flags;
    return got;
}

}  // namespace pollux
