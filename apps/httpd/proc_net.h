// The stack's counters as Linux shows them in /proc/net/snmp and /proc/net/dev. Pollux serves
// the same files in the same format (hosted and in the unikernel), so /stats reads them with
// open/read like any Linux program would, and needs no Pollux header. The parsers are pure.
#pragma once

#include <stdint.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace httpd {

// /proc/net/snmp: pairs of lines "Tcp: Name1 Name2 ..." / "Tcp: 1 2 ...".
struct SnmpSection {
    std::string name;  // "Ip", "Tcp", "Udp", ...
    std::vector<std::pair<std::string, int64_t>> values;
};

// /proc/net/dev: one line per interface after two header lines.
struct NetDevCounters {
    std::string name;
    uint64_t rx_bytes = 0, rx_packets = 0, rx_errors = 0, rx_dropped = 0;
    uint64_t tx_bytes = 0, tx_packets = 0, tx_errors = 0, tx_dropped = 0;
};

// False (with what went wrong in `error`) if the text is not in the expected format.
bool parse_snmp(std::string_view text, std::vector<SnmpSection>& out, std::string& error);
bool parse_net_dev(std::string_view text, std::vector<NetDevCounters>& out, std::string& error);

// Reads a whole (small, possibly size-0 procfs) file; false with strerror in `error`.
bool read_small_file(const char* path, std::string& out, std::string& error);

}  // namespace httpd
