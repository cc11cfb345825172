#include "resp_parser.h"

#include <stdint.h>

namespace kv {

namespace {

using State = RespParse::State;

RespParse error(const char* message, char got = 0) { return {State::Error, 0, message, got}; }

// A decimal as Redis's string2ll reads it: optional '-', digits, no overflow. Nothing else.
bool parse_ll(std::string_view s, long long& out) {
    if (s.empty() || s.size() > 20) return false;
    bool negative = s[0] == '-';
    if (negative) s.remove_prefix(1);
    if (s.empty()) return false;
    unsigned long long v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
        if (v > (UINT64_MAX - static_cast<unsigned>(c - '0')) / 10) return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (negative) {
        if (v > static_cast<unsigned long long>(INT64_MAX) + 1) return false;
        out = v == static_cast<unsigned long long>(INT64_MAX) + 1 ? INT64_MIN : -static_cast<long long>(v);
    } else {
        if (v > static_cast<unsigned long long>(INT64_MAX)) return false;
        out = static_cast<long long>(v);
    }
    return true;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

// Redis's sdssplitargs: words separated by spaces; "..." with \n \r \t \b \a \\ \" \xHH
// escapes; '...' with \' only. A closing quote must end the word.
bool split_inline(std::string_view line, RespCommand& command) {
    size_t i = 0;
    while (true) {
        while (i < line.size() && is_space(line[i])) ++i;
        if (i == line.size()) return true;
        char quote = line[i] == '"' || line[i] == '\'' ? line[i] : 0;
        if (quote == 0) {
            size_t start = i;
            while (i < line.size() && !is_space(line[i])) ++i;
            command.args.push_back(line.substr(start, i - start));
            continue;
        }
        std::string word;
        ++i;
        for (;;) {
            if (i >= line.size()) return false;  // unbalanced quotes
            char c = line[i];
            if (c == quote) {
                ++i;
                if (i < line.size() && !is_space(line[i])) return false;
                break;
            }
            if (c == '\\' && i + 1 < line.size()) {
                char n = line[i + 1];
                if (quote == '"' && n == 'x' && i + 3 < line.size() && hex_digit(line[i + 2]) >= 0 &&
                    hex_digit(line[i + 3]) >= 0) {
                    word.push_back(static_cast<char>(hex_digit(line[i + 2]) * 16 + hex_digit(line[i + 3])));
                    i += 4;
                    continue;
                }
                if (quote == '"') {
                    switch (n) {
                    case 'n':
                        c = '\n';
                        break;
                    case 'r':
                        c = '\r';
                        break;
                    case 't':
                        c = '\t';
                        break;
                    case 'b':
                        c = '\b';
                        break;
                    case 'a':
                        c = '\a';
                        break;
                    default:
                        c = n;
                        break;
                    }
                    word.push_back(c);
                    i += 2;
                    continue;
                }
                if (n == '\'') {
                    word.push_back('\'');
                    i += 2;
                    continue;
                }
            }
            word.push_back(c);
            ++i;
        }
        command.unescaped.push_back(std::move(word));
        command.args.push_back(command.unescaped.back());
    }
}

RespParse parse_inline(std::string_view in, const RespLimits& limits, RespCommand& command) {
    size_t eol = in.find('\n');
    if (eol == std::string_view::npos) {
        if (in.size() > limits.max_inline) return error("Protocol error: too big inline request");
        return {};
    }
    std::string_view line = in.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!split_inline(line, command)) return error("Protocol error: unbalanced quotes in request");
    return {State::Command, eol + 1, nullptr, 0};
}

// A "*N\r\n" or "$N\r\n" header line at `pos`: the number, and pos moved past the line.
enum class Header { Ok, Incomplete, TooBig, Invalid };
Header read_header(std::string_view in, size_t& pos, const RespLimits& limits, long long& value) {
    size_t cr = in.find('\r', pos);
    if (cr == std::string_view::npos) return in.size() - pos > limits.max_inline ? Header::TooBig : Header::Incomplete;
    if (cr + 1 >= in.size()) return Header::Incomplete;  // need the '\n' too
    if (!parse_ll(in.substr(pos + 1, cr - pos - 1), value)) return Header::Invalid;
    pos = cr + 2;
    return Header::Ok;
}

RespParse parse_multibulk(std::string_view in, const RespLimits& limits, RespCommand& command) {
    size_t pos = 0;
    long long count = 0;
    switch (read_header(in, pos, limits, count)) {
    case Header::Incomplete:
        return {};
    case Header::TooBig:
        return error("Protocol error: too big mbulk count string");
    case Header::Invalid:
        return error("Protocol error: invalid multibulk length");
    case Header::Ok:
        break;
    }
    if (count > static_cast<long long>(limits.max_args)) return error("Protocol error: invalid multibulk length");
    if (count <= 0) return {State::Command, pos, nullptr, 0};
    command.args.reserve(static_cast<size_t>(count < 64 ? count : 64));
    for (long long i = 0; i < count; ++i) {
        if (pos >= in.size()) return {};
        if (in[pos] != '$') return error("Protocol error: expected '$', got '%c'", in[pos]);
        long long len = 0;
        switch (read_header(in, pos, limits, len)) {
        case Header::Incomplete:
            return {};
        case Header::TooBig:
            return error("Protocol error: too big bulk count string");
        case Header::Invalid:
            return error("Protocol error: invalid bulk length");
        case Header::Ok:
            break;
        }
        if (len < 0 || static_cast<unsigned long long>(len) > limits.max_bulk) {
            return error("Protocol error: invalid bulk length");
        }
        size_t n = static_cast<size_t>(len);
        if (in.size() - pos < n + 2) return {};
        command.args.push_back(in.substr(pos, n));
        pos += n + 2;  // Redis does not check that the two bytes are CRLF either
    }
    return {State::Command, pos, nullptr, 0};
}

}  // namespace

RespParse parse_resp_command(std::string_view in, const RespLimits& limits, RespCommand& command) {
    command.args.clear();
    command.unescaped.clear();
    if (in.empty()) return {};
    return in[0] == '*' ? parse_multibulk(in, limits, command) : parse_inline(in, limits, command);
}

}  // namespace kv
