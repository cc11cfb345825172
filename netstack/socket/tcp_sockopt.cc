// TcpSocket: setsockopt/getsockopt at SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP and IPPROTO_IPV6.
#include <cerrno>

#include "tcp_socket.h"

namespace pollux::net {

kstd::Result<void> TcpSocket::setsockopt(int level, int name, const void* val, unsigned len) {
    StackGuard guard;
    if (level == abi::kSOL_SOCKET) {
        TRY(sol_socket_set(opts_, name, val, len));
        apply_options();
        return {};
    }
    if (level == abi::kIPPROTO_TCP) {
        kstd::Result<int> v = get_int(val, len);
        if (!v.ok()) return v.error();
        int x = v.value();
        switch (name) {
        case abi::kTCP_NODELAY: opts_.nodelay = x != 0; break;
        case abi::kTCP_KEEPIDLE:
            if (x < 1 || x > 32767) return kstd::err(EINVAL);
            opts_.keepidle = x;
            break;
        case abi::kTCP_KEEPINTVL:
            if (x < 1 || x > 32767) return kstd::err(EINVAL);
            opts_.keepintvl = x;
            break;
        case abi::kTCP_KEEPCNT:
            if (x < 1 || x > 127) return kstd::err(EINVAL);
            opts_.keepcnt = x;
            break;
        case abi::kTCP_MAXSEG:
            if (x != 0 && (x < 88 || x > 32767)) return kstd::err(EINVAL);
            break;  // lwIP's MSS is fixed at build time; the request is accepted as a hint
        default: return kstd::err(ENOPROTOOPT);
        }
        apply_options();
        return {};
    }
    if (level == abi::kIPPROTO_IPV6 && family_ == abi::kAF_INET6 && name == abi::kIPV6_V6ONLY) {
        kstd::Result<int> v = get_int(val, len);
        if (!v.ok()) return v.error();
        if (bound_ || listening_ || pcb_ != nullptr) return kstd::err(EINVAL);
        opts_.v6only = v.value() != 0;
        return {};
    }
    if (is_recverr(family_, level, name)) return set_flag(opts_.recverr, val, len);
    if (level == abi::kIPPROTO_IP && (name == abi::kIP_TOS || name == abi::kIP_TTL)) {
        kstd::Result<int> v = get_int(val, len);
        if (!v.ok()) return v.error();
        int x = v.value();
        if (name == abi::kIP_TTL) {
            if (x == -1) x = 64;
            if (x < 1 || x > 255) return kstd::err(EINVAL);
            opts_.ttl = x;
        } else {
            opts_.tos = x & 0xff;
        }
        apply_options();
        return {};
    }
    return kstd::err(ENOPROTOOPT);
}

kstd::Result<void> TcpSocket::getsockopt(int level, int name, void* val, unsigned* len) {
    StackGuard guard;
    if (level == abi::kSOL_SOCKET) {
        if (name == abi::kSO_ERROR) return put_int(val, len, take_error());
        SockInfo info{family_, abi::kSOCK_STREAM, abi::kIPPROTO_TCP, listening_, napi_id()};
        return sol_socket_get(opts_, info, name, val, len);
    }
    if (level == abi::kIPPROTO_TCP) {
        switch (name) {
        case abi::kTCP_NODELAY: return put_int(val, len, opts_.nodelay);
        case abi::kTCP_KEEPIDLE: return put_int(val, len, opts_.keepidle);
        case abi::kTCP_KEEPINTVL: return put_int(val, len, opts_.keepintvl);
        case abi::kTCP_KEEPCNT: return put_int(val, len, opts_.keepcnt);
        case abi::kTCP_MAXSEG: return put_int(val, len, pcb_ != nullptr && !listening_ ? pcb_->mss : TCP_MSS);
        default: return kstd::err(ENOPROTOOPT);
        }
    }
    if (level == abi::kIPPROTO_IPV6 && family_ == abi::kAF_INET6 && name == abi::kIPV6_V6ONLY)
        return put_int(val, len, opts_.v6only);
    if (is_recverr(family_, level, name)) return put_int(val, len, opts_.recverr);
    if (level == abi::kIPPROTO_IP && name == abi::kIP_TOS) return put_int(val, len, opts_.tos);
    if (level == abi::kIPPROTO_IP && name == abi::kIP_TTL) return put_int(val, len, opts_.ttl);
    return kstd::err(unknown_getsockopt(family_, level));
}

}  // namespace pollux::net
