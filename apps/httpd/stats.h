// The /stats document: the server's counters and the stack's (from /proc/net/snmp and
// /proc/net/dev) as JSON. A file that is missing or malformed is reported as such in its
// section ("ok": false, "error": ...) rather than shown as zeros.
#pragma once

#include <stdint.h>

#include <string>

#include "../common/tcp_server.h"
#include "http_site.h"

namespace httpd {

std::string stats_json(const HttpSite& site, const apps::TcpServerCounters& tcp, int64_t now_ms);

// The two procfs sections alone, from given texts (nullptr: the file could not be read, with
// why in *read_error); for the unit tests.
std::string snmp_json(const std::string* text, const std::string& read_error);
std::string net_dev_json(const std::string* text, const std::string& read_error);

}  // namespace httpd
