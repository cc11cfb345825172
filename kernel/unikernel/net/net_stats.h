// The network device's counters on the console (issue 6: "printable on the console"), for
// when there is no app-side /proc reader: `pollux.netstats` prints them when the application
// exits, `pollux.netstats=SECONDS` every SECONDS as well. One line per device:
//
//   netstats: vnet0 rx 12 packets 1580 bytes 0 dropped, tx 11 packets 2046 bytes 0 dropped,
//             9 polls 7 interrupts 0 busy polls
#pragma once

#include "drivers/net_device.h"

namespace pollux {
class Cmdline;
}

namespace pollux::net {

// Reads the option; dev may be null (no device: nothing is ever printed). False when the
// option's value is malformed.
bool netstats_init(const Cmdline& cmdline, const NetDevice* dev);
// At the application's exit: the line, when the option asked for it.
void netstats_at_exit();

}  // namespace pollux::net
