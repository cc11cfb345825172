// Socket: Linux's struct socket with its proto_ops, as a File in the fd table.
//
// The sys_* socket calls (sys_socket.cc) check their arguments as net/socket.c does, copy
// addresses in and out (move_addr_to_kernel / move_addr_to_user), and call these operations.
// A family registers how it makes sockets (Linux's sock_register); eventpoll knows no family's
// internals: AF_UNIX pairs live here, AF_INET/AF_INET6 in netstack/.
#pragma once

#include <cstdint>

#include "eventpoll/file.h"
#include "eventpoll/linux_abi.h"
#include "kstd/result.h"

namespace pollux {

// A socket address in kernel memory (struct sockaddr_storage) and its length.
struct SockAddr {
    alignas(8) unsigned char data[abi::kSockaddrStorageSize];
    unsigned len = 0;
};

class Socket : public File {
public:
    Socket(FileKind kind, int flags) : File(kind, FMODE_READ | FMODE_WRITE, flags) {}

    bool can_read() const override { return true; }
    bool can_write() const override { return true; }
    bool has_fasync() const override { return true; }
    // sock_read_iter() / sock_write_iter(): recvmsg/sendmsg with MSG_DONTWAIT when nonblocking;
    // a write never has MSG_NOSIGNAL.
    kstd::Result<size_t> read(IoIter& to, bool nonblock) override;
    kstd::Result<size_t> write(IoIter& from, bool nonblock) override;

    // The operations; the defaults are Linux's sock_no_*() answers.
    virtual kstd::Result<void> bind(const SockAddr& addr);
    virtual kstd::Result<void> connect(const SockAddr& addr, bool nonblock);
    virtual kstd::Result<void> listen(int backlog);
    // The new connection's file, with O_NONBLOCK from flags (SOCK_NONBLOCK).
    virtual kstd::Result<FileRef> accept(int flags, bool nonblock);
    virtual kstd::Result<void> getname(SockAddr& out, bool peer);
    // flags carry MSG_DONTWAIT for a nonblocking file; `to` is null for a connected send.
    virtual kstd::Result<size_t> sendmsg(IoIter& from, int flags, const SockAddr* to) = 0;
    // `from` (may be null) receives the sender's address; msg_flags gets MSG_TRUNC and the like.
    virtual kstd::Result<size_t> recvmsg(IoIter& to, int flags, SockAddr* from, int* msg_flags) = 0;
    virtual kstd::Result<void> shutdown(int how);
    virtual kstd::Result<void> setsockopt(int level, int name, const void* val, unsigned len);
    // *len is the caller's buffer size in, the value's length out.
    virtual kstd::Result<void> getsockopt(int level, int name, void* val, unsigned* len);
};

inline bool is_socket(const File& file) { return file.kind() == FileKind::unix_stream || file.kind() == FileKind::inet; }

// A family's socket constructor: the protocol checks of its create() (EPROTONOSUPPORT,
// ESOCKTNOSUPPORT), then a new socket whose file flags come from `flags` (SOCK_NONBLOCK).
using SocketCreate = kstd::Result<FileRef> (*)(int family, int type, int protocol, int flags);
void sock_register(int family, SocketCreate create);

}  // namespace pollux
