// The inet families' entry point: registers AF_INET and AF_INET6 with the socket layer, so
// sys_socket() makes TCP and UDP sockets of this stack. Called once at start-up.
#pragma once

namespace pollux::net {

void inet_register();

}  // namespace pollux::net
