// The SOL_SOCKET options of AF_UNIX sockets, after sock_setsockopt()/sk_getsockopt() in
// net/core/sock.c. Not modelled: passed credentials (SO_PASSCRED is recorded but no
// SCM_CREDENTIALS is sent; SO_PEERSEC is ENOPROTOOPT), timeouts, and the rest of what Linux
// accepts on any socket (ENOPROTOOPT here).
#include <linux/errno.h>

#include "eventpoll/sockopt_value.h"
#include "eventpoll/unix_stream.h"
#include "kernel/platform.h"
#include "unix_skb.h"

namespace pollux {

namespace {

constexpr int kSockMinSndbuf = 4608;  // SOCK_MIN_SNDBUF: 2 * (2048 + SKB_TRUESIZE(256))
constexpr int kSockMinRcvbuf = 2304;  // SOCK_MIN_RCVBUF
constexpr int kBufMax = 212992;       // net.core.wmem_max and rmem_max

// sk_setsockopt()'s buffer sizes: the value is clamped to the sysctl maximum (unless forced),
// as unsigned, so a negative one is the maximum, then doubled for the kernel's overhead.
bool is_flag(int name) {
    return name == abi::kSO_REUSEADDR || name == abi::kSO_KEEPALIVE || name == abi::kSO_BROADCAST ||
           name == abi::kSO_PASSCRED;
}

int buffer_size(int value, bool force, int minimum) {
    unsigned v = static_cast<unsigned>(value);
    if (force) v = value < 0 ? 0 : static_cast<unsigned>(value);
    else if (v > static_cast<unsigned>(kBufMax)) v = kBufMax;
    if (v > 0x7fffffffu / 2) v = 0x7fffffffu / 2;
    int doubled = static_cast<int>(v * 2);
    return doubled < minimum ? minimum : doubled;
}

}  // namespace

kstd::Result<void> unix_setsockopt(UnixSock& sk, int level, int name, const void* val, unsigned len) {
    if (level != abi::kSOL_SOCKET) return kstd::err(EOPNOTSUPP);  // unix_setsockopt is sock_no_setsockopt
    kstd::Result<int> v = get_int(val, len);
    if (is_flag(name)) {
        if (!v.ok()) return v.error();
        if (v.value() != 0) sk.flags.fetch_or(1u << name, std::memory_order_relaxed);
        else sk.flags.fetch_and(~(1u << name), std::memory_order_relaxed);
        return {};
    }
    switch (name) {
    case abi::kSO_SNDBUFFORCE:
    case abi::kSO_RCVBUFFORCE:
        if (!platform::capable_net_admin()) return kstd::err(EPERM);
        [[fallthrough]];
    case abi::kSO_SNDBUF:
    case abi::kSO_RCVBUF: {
        if (!v.ok()) return v.error();
        bool force = name == abi::kSO_SNDBUFFORCE || name == abi::kSO_RCVBUFFORCE;
        if (name == abi::kSO_SNDBUF || name == abi::kSO_SNDBUFFORCE) {
            sk.sndbuf.store(buffer_size(v.value(), force, kSockMinSndbuf), std::memory_order_relaxed);
            unix_skb::write_space(sk);  // sk_write_space(): a larger buffer may wake a writer
        } else {
            sk.rcvbuf.store(buffer_size(v.value(), force, kSockMinRcvbuf), std::memory_order_relaxed);
        }
        return {};
    }
    default:
        return kstd::err(ENOPROTOOPT);
    }
}

kstd::Result<void> unix_getsockopt(UnixSock& sk, int level, int name, void* val, unsigned* len) {
    if (level != abi::kSOL_SOCKET) return kstd::err(EOPNOTSUPP);
    if (is_flag(name)) return put_int(val, len, (sk.flags.load(std::memory_order_relaxed) >> name & 1) != 0 ? 1 : 0);
    switch (name) {
    case abi::kSO_TYPE: return put_int(val, len, sk.type);
    case abi::kSO_DOMAIN: return put_int(val, len, abi::kAF_UNIX);
    case abi::kSO_PROTOCOL: return put_int(val, len, 0);
    case abi::kSO_ERROR: return put_int(val, len, unix_skb::sock_error(sk));
    case abi::kSO_ACCEPTCONN:
        return put_int(val, len, sk.state.load(std::memory_order_acquire) == UnixSock::listening ? 1 : 0);
    case abi::kSO_PEERCRED: {
        // One process: whoever the peer is, it is us (struct ucred).
        platform::Credentials c{0, ~0u, ~0u};
        if (sk.peercred.load(std::memory_order_acquire)) c = platform::credentials();
        return put_opt(val, len, &c, sizeof c);
    }
    case abi::kSO_SNDBUF: return put_int(val, len, sk.sndbuf.load(std::memory_order_relaxed));
    case abi::kSO_RCVBUF: return put_int(val, len, sk.rcvbuf.load(std::memory_order_relaxed));
    default: return kstd::err(ENOPROTOOPT);
    }
}

}  // namespace pollux
