#include "sock_opts.h"

#include <cerrno>
#include <cstring>

#include "kernel/platform.h"

namespace pollux::net {

namespace {

constexpr int kRmemMax = 212992;  // net.core.rmem_max / wmem_max
constexpr int kSockMinRcvbuf = 2304;
constexpr int kSockMinSndbuf = 4608;

struct OldTimeval {
    int64_t tv_sec;
    int64_t tv_usec;
};

// sock_set_timeout(): EDOM for a bad tv_usec; a negative time means "do not wait"... which
// Linux stores as 0 = forever only for {0, 0}: a negative second count becomes a 0 timeout.
kstd::Result<uint64_t> parse_timeout(const void* val, unsigned len) {
    if (len < sizeof(OldTimeval)) return kstd::err(EINVAL);
    if (val == nullptr) return kstd::err(EFAULT);
    OldTimeval tv;
    std::memcpy(&tv, val, sizeof(tv));
    if (tv.tv_usec < 0 || tv.tv_usec >= 1000000) return kstd::err(EDOM);
    if (tv.tv_sec < 0) return uint64_t{1};  // already expired: a nonblocking wait
    return static_cast<uint64_t>(tv.tv_sec) * 1000000000u + static_cast<uint64_t>(tv.tv_usec) * 1000u;
}

kstd::Result<void> put_timeout(void* val, unsigned* len, uint64_t ns) {
    OldTimeval tv{static_cast<int64_t>(ns / 1000000000u), static_cast<int64_t>(ns % 1000000000u / 1000u)};
    return put_opt(val, len, &tv, sizeof(tv));
}

}  // namespace

kstd::Result<void> sol_socket_set(SockOpts& o, int name, const void* val, unsigned len) {
    if (name == abi::kSO_LINGER) {
        if (len < sizeof(abi::Linger)) return kstd::err(EINVAL);
        if (val == nullptr) return kstd::err(EFAULT);
        abi::Linger l;
        std::memcpy(&l, val, sizeof(l));
        o.linger.l_onoff = l.l_onoff != 0;
        if (l.l_onoff != 0) o.linger.l_linger = l.l_linger < 0 ? 0 : l.l_linger;  // off keeps the old time
        return {};
    }
    if (name == abi::kSO_RCVTIMEO_OLD || name == abi::kSO_SNDTIMEO_OLD) {
        kstd::Result<uint64_t> t = parse_timeout(val, len);
        if (!t.ok()) return t.error();
        (name == abi::kSO_RCVTIMEO_OLD ? o.rcvtimeo_ns : o.sndtimeo_ns) = t.value();
        return {};
    }
    kstd::Result<int> v = get_int(val, len);
    if (!v.ok()) return v.error();
    int x = v.value();
    switch (name) {
    case abi::kSO_REUSEADDR: o.reuseaddr = x != 0; return {};
    case abi::kSO_REUSEPORT: o.reuseport = x != 0; return {};
    case abi::kSO_KEEPALIVE: o.keepalive = x != 0; return {};
    case abi::kSO_BROADCAST: o.broadcast = x != 0; return {};
    case abi::kSO_RCVBUF: {
        int64_t b = x < 0 ? 0 : (x > kRmemMax ? kRmemMax : x);
        o.rcvbuf = static_cast<int>(b * 2 > kSockMinRcvbuf ? b * 2 : kSockMinRcvbuf);
        o.rcvbuf_locked = true;
        return {};
    }
    case abi::kSO_SNDBUF: {
        int64_t b = x < 0 ? 0 : (x > kRmemMax ? kRmemMax : x);
        o.sndbuf = static_cast<int>(b * 2 > kSockMinSndbuf ? b * 2 : kSockMinSndbuf);
        o.sndbuf_locked = true;
        return {};
    }
    case abi::kSO_RCVLOWAT:
    case abi::kSO_SNDLOWAT:
        return name == abi::kSO_SNDLOWAT ? kstd::err(ENOPROTOOPT) : kstd::Result<void>{};
    case abi::kSO_BUSY_POLL:
        if (x < 0) return kstd::err(EINVAL);
        if (static_cast<unsigned>(x) > o.busy_poll_usecs && !platform::capable_net_admin()) return kstd::err(EPERM);
        o.busy_poll_usecs = static_cast<unsigned>(x);
        return {};
    case abi::kSO_PREFER_BUSY_POLL:
        if (x != 0 && !platform::capable_net_admin()) return kstd::err(EPERM);
        o.prefer_busy_poll = x != 0;
        return {};
    case abi::kSO_BUSY_POLL_BUDGET:
        if (x < 0 || x > 0xffff) return kstd::err(EINVAL);
        if (static_cast<unsigned>(x) > o.busy_poll_budget && !platform::capable_net_admin()) return kstd::err(EPERM);
        o.busy_poll_budget = static_cast<unsigned>(x);
        return {};
    default:
        return kstd::err(ENOPROTOOPT);
    }
}

kstd::Result<void> sol_socket_get(const SockOpts& o, const SockInfo& info, int name, void* val, unsigned* len) {
    switch (name) {
    case abi::kSO_LINGER: return put_opt(val, len, &o.linger, sizeof(o.linger));
    case abi::kSO_RCVTIMEO_OLD: return put_timeout(val, len, o.rcvtimeo_ns);
    case abi::kSO_SNDTIMEO_OLD: return put_timeout(val, len, o.sndtimeo_ns);
    case abi::kSO_TYPE: return put_int(val, len, info.type);
    case abi::kSO_DOMAIN: return put_int(val, len, info.family);
    case abi::kSO_PROTOCOL: return put_int(val, len, info.protocol);
    case abi::kSO_ACCEPTCONN: return put_int(val, len, info.listening ? 1 : 0);
    case abi::kSO_REUSEADDR: return put_int(val, len, o.reuseaddr);
    case abi::kSO_REUSEPORT: return put_int(val, len, o.reuseport);
    case abi::kSO_KEEPALIVE: return put_int(val, len, o.keepalive);
    case abi::kSO_BROADCAST: return put_int(val, len, o.broadcast);
    case abi::kSO_RCVBUF: return put_int(val, len, o.rcvbuf);
    case abi::kSO_SNDBUF: return put_int(val, len, o.sndbuf);
    case abi::kSO_RCVLOWAT:
    case abi::kSO_SNDLOWAT: return put_int(val, len, 1);
    case abi::kSO_BUSY_POLL: return put_int(val, len, static_cast<int>(o.busy_poll_usecs));
    case abi::kSO_PREFER_BUSY_POLL: return put_int(val, len, o.prefer_busy_poll);
    case abi::kSO_BUSY_POLL_BUDGET: return put_int(val, len, static_cast<int>(o.busy_poll_budget));
    case abi::kSO_INCOMING_NAPI_ID: return put_int(val, len, static_cast<int>(info.napi_id));
    default: return kstd::err(ENOPROTOOPT);
    }
}

}  // namespace pollux::net
