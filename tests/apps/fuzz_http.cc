// libFuzzer target: arbitrary bytes as the input of one httpd connection. Every prefix is
// parsed (as the bytes would arrive in pieces), complete requests are consumed as the server
// consumes them, and each target goes through normalize_target. Invariants that must hold for
// any input are checked, not just the absence of crashes.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <string>
#include <string_view>

#include "httpd/http_parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    httpd::HttpLimits limits;
    limits.max_header_bytes = 512;  // small, so that the fuzzer reaches the limits quickly
    limits.max_body = 64;
    while (!in.empty()) {
        httpd::HttpRequest r;
        httpd::HttpParse p = httpd::parse_http_request(in, limits, r);
        if (p.state != httpd::HttpParse::State::Complete) {
            // Incomplete must stay incomplete or fail on a shorter prefix: never "complete".
            httpd::HttpRequest shorter;
            if (in.size() > 1 && httpd::parse_http_request(in.substr(0, in.size() / 2), limits, shorter).state ==
                                     httpd::HttpParse::State::Complete) {
                abort();
            }
            break;
        }
        if (p.header_bytes == 0 || p.header_bytes > in.size() || r.content_length > limits.max_body) abort();
        if (r.method.empty() || r.target.empty()) abort();
        std::string path;
        if (httpd::normalize_target(r.target, path)) {
            if (path.empty() || path[0] != '/' || path.find("/../") != std::string::npos ||
                path.find('\0') != std::string::npos) {
                abort();
            }
        }
        size_t total = p.header_bytes + static_cast<size_t>(r.content_length);
        if (total > in.size()) break;
        in.remove_prefix(total);
    }
    return 0;
}
