// libFuzzer target: arbitrary bytes as the input of one kv connection, parsed and executed
// against a store as the server does (commands, replies, expiry with a clock the input moves).
// Checks that a parsed command never reaches past the input and that every reply is whole RESP.
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <string_view>

#include "../../apps/common/buffer.h"
#include "kv/commands.h"
#include "kv/kv_store.h"
#include "kv/resp_parser.h"

namespace {

// Skips one RESP reply at the front of s; false if it is not well formed.
bool skip_reply(std::string_view& s) {
    if (s.empty()) return false;
    size_t eol = s.find("\r\n");
    if (eol == std::string_view::npos) return false;
    char type = s[0];
    std::string_view line = s.substr(1, eol - 1);
    s.remove_prefix(eol + 2);
    if (type == '+' || type == '-' || type == ':') return true;
    long n = strtol(std::string(line).c_str(), nullptr, 10);
    if (type == '$') {
        if (n < 0) return true;
        if (s.size() < static_cast<size_t>(n) + 2 || s.substr(static_cast<size_t>(n), 2) != "\r\n") return false;
        s.remove_prefix(static_cast<size_t>(n) + 2);
        return true;
    }
    if (type == '*') {
        for (long i = 0; i < n; ++i) {
            if (!skip_reply(s)) return false;
        }
        return true;
    }
    return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view in(reinterpret_cast<const char*>(data), size);
    kv::RespLimits limits;
    limits.max_inline = 256;
    limits.max_bulk = 4096;
    limits.max_args = 4096;
    kv::KvStore store;
    kv::ServerInfo info;
    int64_t now = 1000;
    kv::RespCommand command;
    while (!in.empty()) {
        kv::RespParse p = kv::parse_resp_command(in, limits, command);
        if (p.state != kv::RespParse::State::Command) break;
        if (p.consumed == 0 || p.consumed > in.size()) abort();
        if (!command.args.empty()) {
            apps::Buffer out;
            kv::execute(command.args, store, info, now, out);
            std::string_view reply = out.view();
            if (!skip_reply(reply) || !reply.empty()) abort();
        }
        in.remove_prefix(p.consumed);
        now += 700;  // so that EX/PX deadlines pass during a run
        store.expire_due(now, 100);
    }
    return 0;
}
