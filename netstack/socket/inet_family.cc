// AF_INET and AF_INET6: inet_create()'s protocol switch, registered with the socket layer.
#include <cerrno>

#include "eventpoll/socket.h"
#include "netstack/inet.h"
#include "tcp_socket.h"
#include "udp_socket.h"

namespace pollux::net {

namespace {

// inet_create(): a protocol must match the type (EPROTONOSUPPORT); a type with no protocol
// here (raw, seqpacket, ...) is ESOCKTNOSUPPORT.
kstd::Result<FileRef> inet_create(int family, int type, int protocol, int flags) {
    if (protocol < 0 || protocol >= 256) return kstd::err(EINVAL);
    if (type == abi::kSOCK_STREAM) {
        if (protocol != 0 && protocol != abi::kIPPROTO_TCP) return kstd::err(EPROTONOSUPPORT);
        return TcpSocket::create(family, flags);
    }
    if (type == abi::kSOCK_DGRAM) {
        if (protocol != 0 && protocol != abi::kIPPROTO_UDP) return kstd::err(EPROTONOSUPPORT);
        return UdpSocket::create(family, flags);
    }
    return kstd::err(ESOCKTNOSUPPORT);
}

}  // namespace

void inet_register() {
    sock_register(abi::kAF_INET, inet_create);
    sock_register(abi::kAF_INET6, inet_create);
}

}  // namespace pollux::net
