// What every httpd connection shares: the configuration and the server's request counters.
// One event loop thread touches it, so it needs no lock.
#pragma once

#include <stdint.h>

#include <array>
#include <string>

#include "http_parser.h"

namespace httpd {

struct HttpCounters {
    uint64_t requests = 0;
    uint64_t bad_requests = 0;  // answered 4xx/5xx before routing (framing errors)
    std::array<uint64_t, 600> by_status{};
};

struct HttpSite {
    std::string root;  // no trailing slash
    bool admin = false;
    HttpLimits limits;
    int64_t started_ms = 0;
    HttpCounters counters;
};

}  // namespace httpd
