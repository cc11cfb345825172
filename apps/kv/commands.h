// The commands kv serves, run against a KvStore and answered in RESP2, with Redis's reply
// shapes and error texts. Pure: the connection (main.cc) does the I/O, the fuzzer and the
// unit tests call execute() directly.
#pragma once

#include <stdint.h>

#include <string_view>
#include <vector>

#include "../common/buffer.h"
#include "kv_store.h"

namespace kv {

struct ServerInfo {
    int port = 0;
    int64_t started_ms = 0;
    uint64_t commands = 0;
    uint64_t connections_received = 0;
    uint64_t connected_clients = 0;
};

enum class After { Continue, Close, Shutdown };

// Runs one command (args[0] is its name, any case) and appends the reply to out.
After execute(const std::vector<std::string_view>& args, KvStore& store, ServerInfo& info, int64_t now_ms,
              apps::Buffer& out);

}  // namespace kv
