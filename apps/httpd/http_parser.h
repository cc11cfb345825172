// The HTTP/1.1 request parser: a pure function over the bytes received so far, no I/O, so the
// fuzzer (tests/apps/fuzz_http.cc) and the unit tests drive it exactly as the server does.
// It reads the request line and the header section (RFC 9112 sections 3 and 5) and the
// framing headers; the body is the caller's (Content-Length bytes after header_bytes).
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <string_view>

namespace httpd {

struct HttpLimits {
    size_t max_header_bytes = 8192;  // request line + headers, as nginx's default buffer
    size_t max_headers = 100;
    uint64_t max_body = 1 << 20;
};

struct HttpRequest {
    std::string_view method;
    std::string_view target;
    int version_minor = 1;  // HTTP/1.0 or HTTP/1.1
    bool keep_alive = true;
    uint64_t content_length = 0;
};

struct HttpParse {
    enum class State { Incomplete, Complete, Error };
    State state = State::Incomplete;
    size_t header_bytes = 0;  // Complete: bytes up to and including the empty line
    int status = 0;           // Error: the status to answer with (400, 413, 414, 431, 501, 505)
};

// Views in the request point into `in`.
HttpParse parse_http_request(std::string_view in, const HttpLimits& limits, HttpRequest& request);

// Reduces a request target to a clean absolute path: the query dropped, %XX decoded, "." and
// ".." resolved. False for a target that is not a path, a bad escape, a NUL, or a ".." above
// the root.
bool normalize_target(std::string_view target, std::string& path);

}  // namespace httpd
