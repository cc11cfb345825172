// The RESP2 request parser (https://redis.io/docs/reference/protocol-spec/): multibulk
// commands (*N, then N $len bulk strings) and inline commands (a line of space-separated
// words, quoted as redis-cli quotes them). Pure, no I/O: the fuzzer and the unit tests drive it
// exactly as the server does. Protocol errors carry Redis's own wording.
#pragma once

#include <stddef.h>

#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace kv {

struct RespLimits {
    size_t max_inline = 64 * 1024;       // Redis's PROTO_INLINE_MAX_SIZE
    size_t max_args = 1024 * 1024;       // Redis's limit on a multibulk count
    size_t max_bulk = 64 * 1024 * 1024;  // Redis allows 512 MiB (proto-max-bulk-len); we keep it lower
};

struct RespCommand {
    std::vector<std::string_view> args;  // into the input, or into `unescaped` for quoted inline words
    std::deque<std::string> unescaped;
};

struct RespParse {
    enum class State { Incomplete, Command, Error };
    State state = State::Incomplete;
    size_t consumed = 0;          // Command: bytes of this command (args may be empty: nothing to run)
    const char* error = nullptr;  // Error: the message after "-ERR "
    char got = 0;                 // Error "expected '$', got '%c'": the byte found
};

RespParse parse_resp_command(std::string_view in, const RespLimits& limits, RespCommand& command);

}  // namespace kv
