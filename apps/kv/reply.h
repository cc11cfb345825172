// RESP2 replies, appended to a connection's output.
#pragma once

#include <stdint.h>

#include <charconv>
#include <string_view>

#include "../common/buffer.h"

namespace kv {

class Reply {
public:
    explicit Reply(apps::Buffer& out) : out_(out) {}
    void simple(std::string_view s) { line('+', s); }
    // `message` includes Redis's error code word ("ERR ...", "WRONGTYPE ...").
    void error(std::string_view message);
    void integer(int64_t v) { number(':', v); }
    void bulk(std::string_view s) {
        number('$', static_cast<int64_t>(s.size()));
        out_.append(s);
        out_.append("\r\n");
    }
    void null() { out_.append("$-1\r\n"); }
    void array(size_t n) { number('*', static_cast<int64_t>(n)); }
    void ok() { out_.append("+OK\r\n"); }

private:
    void line(char type, std::string_view s);
    void number(char type, int64_t v) {
        char buf[32];
        buf[0] = type;
        char* end = std::to_chars(buf + 1, buf + sizeof buf - 2, v).ptr;
        *end++ = '\r';
        *end++ = '\n';
        out_.append(std::string_view(buf, static_cast<size_t>(end - buf)));
    }

    apps::Buffer& out_;
};

}  // namespace kv
