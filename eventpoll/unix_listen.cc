// UnixStreamSocket's names and connections: bind, listen, connect, accept, after
// net/unix/af_unix.c (6.x). See eventpoll/include/eventpoll/unix_stream.h for the locking.
// A path's node is the platform's (platform::unix_mknod); abstract names live only in the
// table below. SOCK_SEQPACKET connections are made here as streams' are; SOCK_DGRAM sockets
// bind here and connect in unix_dgram.cc. Not modelled: SO_PASSCRED's autobind on connect,
// peer credentials.
#include <linux/errno.h>

#include <cstring>
#include <new>

#include "eventpoll/unix_stream.h"
#include "eventpoll/wait_event.h"
#include "kernel/platform.h"

namespace pollux {

namespace {

constexpr unsigned kSunPath = 2;  // offsetof(struct sockaddr_un, sun_path)
constexpr PollMask kReadable = abi::kEPOLLIN | abi::kEPOLLRDNORM;

// Every bound socket (Linux's unix_socket_table); a list, as few sockets have names.
Mutex table_lock;
UnixSock* table_head GUARDED_BY(table_lock) = nullptr;

// An address as unix_validate_addr() accepts it and unix_mkname_bsd() stores a path.
struct Name {
    UnixAddr addr;
    unsigned len = 0;
    bool abstract() const { return len <= kSunPath || addr.bytes[kSunPath] == 0; }
    const char* path() const { return reinterpret_cast<const char*>(addr.bytes + kSunPath); }
};

int make_name(const SockAddr& in, Name& out) {
    uint16_t family = 0;
    if (in.len >= sizeof(family)) std::memcpy(&family, in.data, sizeof(family));
    if (in.len < kSunPath || family != abi::kAF_UNIX || in.len > UnixAddr::kMaxLen) return EINVAL;
    std::memcpy(out.addr.bytes, in.data, in.len);
    out.len = in.len;
    if (out.abstract()) return 0;
    // A path ends at its first NUL or at addrlen, whichever comes first.
    unsigned n = 0;
    while (kSunPath + n < in.len && out.addr.bytes[kSunPath + n] != 0) ++n;
    out.addr.bytes[kSunPath + n] = 0;
    out.len = kSunPath + n + 1;
    return 0;
}

// Abstract names are Linux's per type (unix_abstract_hash() mixes the type in): a stream and
// a datagram socket may hold the same one, and neither finds the other.
bool same_abstract(const UnixSock& sk, const Name& name, int type) {
    unsigned len = sk.addr_len.load(std::memory_order_acquire);
    return sk.type == type && len == name.len && sk.addr.bytes[kSunPath] == 0 &&
           std::memcmp(sk.addr.bytes, name.addr.bytes, len) == 0;
}

UnixSock* find_abstract(const Name& name, int type) REQUIRES(table_lock) {
    for (UnixSock* sk = table_head; sk != nullptr; sk = sk->bound_next)
        if (same_abstract(*sk, name, type)) return sk;
    return nullptr;
}

// Publishes the address and puts the sock on the table.
void insert(UnixSock& sk, const Name& name) REQUIRES(table_lock) {
    std::memcpy(sk.addr.bytes, name.addr.bytes, name.len);
    sk.addr_len.store(static_cast<uint8_t>(name.len), std::memory_order_release);
    sk.bound_next = table_head;
    sk.bound = true;
    table_head = &sk;
}

// unix_find_other(): the sock bound to the name, with a reference on its pair; a path's
// socket of another type is EPROTOTYPE (unix_find_bsd()).
int find_other(const Name& name, int type, UnixSock** out) {
    platform::UnixNode node;
    if (!name.abstract()) {
        if (int error = platform::unix_find_node(name.path(), node)) return error;
    }
    LockGuard guard(table_lock);
    for (UnixSock* sk = table_head; sk != nullptr; sk = sk->bound_next) {
        bool match = name.abstract() ? same_abstract(*sk, name, type)
                                     : sk->addr.bytes[kSunPath] != 0 && sk->node_dev == node.dev && sk->node_ino == node.ino;
        if (match) {
            if (sk->type != type) return EPROTOTYPE;
            sk->owner->get();
            *out = sk;
            return 0;
        }
    }
    return ECONNREFUSED;  // a socket node nobody is bound to
}

// unix_autobind(): an abstract name of five hex digits.
kstd::Result<void> autobind(UnixSock& sk) REQUIRES(sk.bindlock) {
    static unsigned next_name = 0;  // guarded by table_lock
    if (sk.addr_len.load(std::memory_order_acquire) != 0) return {};
    LockGuard guard(table_lock);
    for (unsigned tries = 0; tries <= 0xfffff; ++tries) {
        Name name;
        uint16_t family = abi::kAF_UNIX;
        std::memcpy(name.addr.bytes, &family, sizeof(family));
        name.addr.bytes[kSunPath] = 0;
        unsigned n = next_name++ & 0xfffff;
        for (int i = 4; i >= 0; --i, n >>= 4) name.addr.bytes[kSunPath + 1 + i] = "0123456789abcdef"[n & 0xf];
        name.len = kSunPath + 1 + 5;
        if (find_abstract(name, sk.type) != nullptr) continue;
        insert(sk, name);
        return {};
    }
    return kstd::err(ENOSPC);
}

bool recvq_full(const UnixSock& listener) {
    return listener.accept_len.load(std::memory_order_acquire) >
           static_cast<uint32_t>(listener.backlog.load(std::memory_order_acquire));
}

}  // namespace

int unix_find_bound(const SockAddr& addr, int type, UnixSock** out) {
    Name name;
    if (int error = make_name(addr, name)) return error;
    return find_other(name, type, out);
}

void unix_unbind(UnixSock& sk) {
    LockGuard guard(table_lock);
    if (!sk.bound) return;
    for (UnixSock** link = &table_head; *link != nullptr; link = &(*link)->bound_next) {
        if (*link == &sk) {
            *link = sk.bound_next;
            break;
        }
    }
    sk.bound = false;
}

// unix_release_sock()'s purge of a listener: each connection never accepted is released as an
// embryo, which resets its client.
void unix_drop_embryos(UnixSock& listener) {
    for (;;) {
        UnixSock* embryo = nullptr;
        {
            LockGuard guard(listener.lock);
            if (listener.accept_queue.empty()) break;
            embryo = kstd::container_of(listener.accept_queue.next, &UnixSock::accept_node);
            kstd::list_del_init(&embryo->accept_node);
            listener.accept_len.fetch_sub(1, std::memory_order_release);
        }
        unix_release_sock(*embryo, true);
    }
}

// unix_bind(): addrlen == sizeof(sa_family_t) autobinds; a path's node is made before the
// second-bind check (unix_bind_bsd()), an abstract name checked after it.
kstd::Result<void> unix_bind(UnixSock& sk, const SockAddr& in) {
    LockGuard bind_guard(sk.bindlock);
    uint16_t family = 0;
    if (in.len == kSunPath) std::memcpy(&family, in.data, sizeof(family));
    if (in.len == kSunPath && family == abi::kAF_UNIX) return autobind(sk);
    Name name;
    if (int error = make_name(in, name)) return kstd::err(error);
    bool bound = sk.addr_len.load(std::memory_order_acquire) != 0;
    if (name.abstract()) {
        if (bound) return kstd::err(EINVAL);
        LockGuard guard(table_lock);
        if (find_abstract(name, sk.type) != nullptr) return kstd::err(EADDRINUSE);
        insert(sk, name);
        return {};
    }
    platform::UnixNode node;
    if (int error = platform::unix_mknod(name.path(), !bound, node)) return kstd::err(error);
    if (bound) return kstd::err(EINVAL);
    sk.node_dev = node.dev;
    sk.node_ino = node.ino;
    LockGuard guard(table_lock);
    insert(sk, name);
    return {};
}

// unix_listen(): only a bound socket, unconnected or listening already (a new backlog).
kstd::Result<void> unix_listen(UnixSock& sk, int backlog) {
    if (sk.type == abi::kSOCK_DGRAM) return kstd::err(EOPNOTSUPP);  // sock_no_listen
    if (sk.addr_len.load(std::memory_order_acquire) == 0) return kstd::err(EINVAL);
    LockGuard bind_guard(sk.bindlock);
    bool grew = false;
    {
        LockGuard guard(sk.lock);
        uint8_t state = sk.state.load(std::memory_order_acquire);
        if (state != UnixSock::unconnected && state != UnixSock::listening) return kstd::err(EINVAL);
        grew = backlog > sk.backlog.load(std::memory_order_relaxed);
        sk.backlog.store(backlog, std::memory_order_release);
        sk.peercred.store(true, std::memory_order_release);  // init_peercred() at listen
        sk.state.store(UnixSock::listening, std::memory_order_release);
    }
    if (grew) sk.peer_wait.wake_up_all(0);
    return {};
}

// unix_stream_connect(): the listener's state is checked before ours (so EISCONN comes after
// ENOENT and ECONNREFUSED), and a full queue makes a blocking connect wait on peer_wait. The
// new server end (our pair's second sock) is connected before it is queued, so we are
// connected at once.
kstd::Result<void> unix_stream_connect(UnixSock& sk, const SockAddr& in, bool nonblock) {
    Name name;
    if (int error = make_name(in, name)) return kstd::err(error);
    for (;;) {
        UnixSock* other = nullptr;
        if (int error = find_other(name, sk.type, &other)) return kstd::err(error);
        int error = 0;
        bool wait = false;
        {
            LockGuard bind_guard(sk.bindlock);
            LockGuard guard(other->lock);
            uint8_t state = sk.state.load(std::memory_order_acquire);
            if (other->dead.load(std::memory_order_acquire) ||
                other->state.load(std::memory_order_acquire) != UnixSock::listening ||
                (other->shutdown.load(std::memory_order_acquire) & UnixSock::RCV_SHUTDOWN) != 0) {
                error = ECONNREFUSED;
            } else if (recvq_full(*other)) {
                error = nonblock ? EAGAIN : 0;
                wait = !nonblock;
            } else if (state != UnixSock::unconnected) {
                error = state == UnixSock::connected ? EISCONN : EINVAL;
            } else {
                UnixSock& embryo = sk.owner->socks[1];
                embryo.type = sk.type;
                embryo.peercred.store(true, std::memory_order_relaxed);  // the client's, and the
                sk.peercred.store(true, std::memory_order_relaxed);      // listener's for the client
                unsigned len = other->addr_len.load(std::memory_order_acquire);
                std::memcpy(embryo.addr.bytes, other->addr.bytes, len);  // the listener's name
                embryo.addr_len.store(static_cast<uint8_t>(len), std::memory_order_release);
                embryo.peer = &sk;
                embryo.state.store(UnixSock::connected, std::memory_order_release);
                sk.peer = &embryo;
                sk.state.store(UnixSock::connected, std::memory_order_release);
                sk.owner->get();  // the embryo's reference
                kstd::list_add_tail(&embryo.accept_node, &other->accept_queue);
                other->accept_len.fetch_add(1, std::memory_order_release);
            }
        }
        if (!wait) {
            if (error == 0) other->wq.wake_up(kReadable, 1, 1);  // sk_data_ready() on the listener
            other->owner->put();
            if (error != 0) return kstd::err(error);
            return {};
        }
        // unix_wait_for_peer(): room, or a listener that is gone or no longer listening.
        int waited = wait_event(other->peer_wait, [other] {
            return !recvq_full(*other) || other->dead.load(std::memory_order_acquire) ||
                   (other->shutdown.load(std::memory_order_acquire) & UnixSock::RCV_SHUTDOWN) != 0;
        }, 0);
        other->owner->put();
        if (waited == -EINTR) return kstd::err(abi::kERESTARTSYS);
    }
}

// unix_accept() over skb_recv_datagram(): a shut-down listener fails a blocking accept with
// EINVAL and a nonblocking one with EAGAIN; waiting acceptors are woken one at a time.
kstd::Result<UnixSock*> unix_accept(UnixSock& sk, bool nonblock) {
    if (sk.state.load(std::memory_order_acquire) != UnixSock::listening) return kstd::err(EINVAL);
    for (;;) {
        UnixSock* embryo = nullptr;
        {
            LockGuard guard(sk.lock);
            if (!sk.accept_queue.empty()) {
                embryo = kstd::container_of(sk.accept_queue.next, &UnixSock::accept_node);
                kstd::list_del_init(&embryo->accept_node);
                sk.accept_len.fetch_sub(1, std::memory_order_release);
            }
        }
        if (embryo != nullptr) {
            sk.peer_wait.wake_up(0, 1);
            return embryo;
        }
        if (nonblock) return kstd::err(EAGAIN);
        if ((sk.shutdown.load(std::memory_order_acquire) & UnixSock::RCV_SHUTDOWN) != 0) return kstd::err(EINVAL);
        int waited = wait_event(sk.wq, [&sk] {
            return sk.accept_len.load(std::memory_order_acquire) != 0 ||
                   (sk.shutdown.load(std::memory_order_acquire) & UnixSock::RCV_SHUTDOWN) != 0;
        }, 0, /*exclusive=*/true);
        if (waited == -EINTR) return kstd::err(abi::kERESTARTSYS);
    }
}

kstd::Result<void> UnixSocket::bind(const SockAddr& addr) { return unix_bind(sk_, addr); }
kstd::Result<void> UnixSocket::listen(int backlog) { return unix_listen(sk_, backlog); }
kstd::Result<void> UnixStreamSocket::connect(const SockAddr& addr, bool nonblock) {
    return unix_stream_connect(sk_, addr, nonblock);
}

// unix_accept(); a DGRAM socket has none (sock_no_accept).
kstd::Result<FileRef> UnixSocket::accept(int flags, bool nonblock) {
    if (sk_.type == abi::kSOCK_DGRAM) return kstd::err(EOPNOTSUPP);
    kstd::Result<UnixSock*> embryo = unix_accept(sk_, nonblock);
    if (!embryo.ok()) return embryo.error();
    FileRef file = unix_file(*embryo.value(), abi::kO_RDWR | flags);
    if (!file) {
        unix_release_sock(*embryo.value(), true);
        return kstd::err(ENOMEM);
    }
    return file;
}

namespace {

// unix_create(): a protocol other than 0/PF_UNIX, then a type we have no ops for; SOCK_RAW
// is a SOCK_DGRAM.
kstd::Result<FileRef> unix_create(int /*family*/, int type, int protocol, int flags) {
    if (protocol != 0 && protocol != abi::kAF_UNIX) return kstd::err(EPROTONOSUPPORT);
    if (type == abi::kSOCK_RAW) type = abi::kSOCK_DGRAM;
    if (type != abi::kSOCK_STREAM && type != abi::kSOCK_DGRAM && type != abi::kSOCK_SEQPACKET)
        return kstd::err(ESOCKTNOSUPPORT);
    UnixStreamPair* pair = new (std::nothrow) UnixStreamPair();
    if (pair == nullptr) return kstd::err(ENOMEM);
    pair->refs.store(1, std::memory_order_relaxed);  // the file's; a connect() adds the embryo's
    pair->socks[0].type = static_cast<uint8_t>(type);
    FileRef file = unix_file(pair->socks[0], abi::kO_RDWR | flags);
    if (!file) {
        delete pair;
        return kstd::err(ENOMEM);
    }
    return file;
}

}  // namespace

void unix_register() { sock_register(abi::kAF_UNIX, unix_create); }

}  // namespace pollux
