#include "http_parser.h"

#include <string>

#include "../common/text.h"

namespace httpd {

namespace {

using State = HttpParse::State;

HttpParse error(int status) { return {State::Error, 0, status}; }

// RFC 9110 section 5.6.2: tchar.
bool is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (unsigned char c : s) {
        if (!is_tchar(c)) return false;
    }
    return true;
}

using apps::iequals;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Takes the next line (without its CRLF or LF) off `rest`.
std::string_view next_line(std::string_view& rest) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

bool parse_request_line(std::string_view line, HttpRequest& r, int& status) {
    status = 400;
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return false;
    size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return false;
    r.method = line.substr(0, sp1);
    r.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    std::string_view version = line.substr(sp2 + 1);
    if (!is_token(r.method) || r.method.size() > 32 || r.target.empty()) return false;
    for (unsigned char c : r.target) {
        if (c <= ' ' || c == 0x7f) return false;
    }
    if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' || version[5] < '0' ||
        version[5] > '9' || version[7] < '0' || version[7] > '9') {
        return false;
    }
    if (version[5] != '1') {
        status = 505;
        return false;
    }
    r.version_minor = version[7] - '0';
    r.keep_alive = r.version_minor >= 1;
    return true;
}

// Connection: a comma-separated list of options (RFC 9110 section 7.6.1).
void apply_connection(std::string_view value, HttpRequest& r) {
    while (!value.empty()) {
        size_t comma = value.find(',');
        std::string_view option = trim(value.substr(0, comma));
        if (iequals(option, "close")) r.keep_alive = false;
        if (iequals(option, "keep-alive") && r.version_minor == 0) r.keep_alive = true;
        value.remove_prefix(comma == std::string_view::npos ? value.size() : comma + 1);
    }
}

bool parse_content_length(std::string_view v, uint64_t& out) {
    if (v.empty() || v.size() > 18) return false;  // 18 digits cannot overflow 64 bits
    uint64_t n = 0;
    for (char c : v) {
        if (c < '0' || c > '9') return false;
        n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    out = n;
    return true;
}

}  // namespace

HttpParse parse_http_request(std::string_view in, const HttpLimits& limits, HttpRequest& r) {
    r = HttpRequest{};
    // RFC 9112 section 2.2: empty lines before a request line are ignored.
    size_t skipped = 0;
    while (skipped < in.size() && (in[skipped] == '\r' || in[skipped] == '\n')) ++skipped;
    if (skipped > 64) return error(400);
    std::string_view data = in.substr(skipped);

    size_t end = std::string_view::npos;  // one past the empty line that ends the header section
    for (size_t i = data.find('\n'); i != std::string_view::npos; i = data.find('\n', i + 1)) {
        if (i + 1 < data.size() && data[i + 1] == '\n') {
            end = i + 2;
            break;
        }
        if (i + 2 < data.size() && data[i + 1] == '\r' && data[i + 2] == '\n') {
            end = i + 3;
            break;
        }
        if (i > limits.max_header_bytes) break;
    }
    if (end == std::string_view::npos || end > limits.max_header_bytes) {
        if (data.size() <= limits.max_header_bytes) return {};
        // Too long before the first line ended: the URI; after it: the header section.
        size_t first_eol = data.find('\n');
        return error(first_eol == std::string_view::npos || first_eol > limits.max_header_bytes ? 414 : 431);
    }

    std::string_view rest = data.substr(0, end);
    int status = 400;
    if (!parse_request_line(next_line(rest), r, status)) return error(status);

    size_t headers = 0;
    int hosts = 0;
    bool has_length = false;
    bool has_transfer_encoding = false;
    for (std::string_view line = next_line(rest); !line.empty(); line = next_line(rest)) {
        if (++headers > limits.max_headers) return error(431);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) return error(400);
        std::string_view name = line.substr(0, colon);  // no space before the colon (RFC 9112 5.1)
        std::string_view value = trim(line.substr(colon + 1));
        if (!is_token(name)) return error(400);  // also rejects obs-fold, which starts with a space
        for (unsigned char c : value) {
            if ((c < ' ' && c != '\t') || c == 0x7f) return error(400);
        }
        if (iequals(name, "host")) {
            ++hosts;
        } else if (iequals(name, "content-length")) {
            uint64_t n = 0;
            if (!parse_content_length(value, n) || (has_length && n != r.content_length)) return error(400);
            r.content_length = n;
            has_length = true;
        } else if (iequals(name, "transfer-encoding")) {
            has_transfer_encoding = true;
        } else if (iequals(name, "connection")) {
            apply_connection(value, r);
        }
    }
    if (hosts > 1 || (hosts == 0 && r.version_minor >= 1)) return error(400);  // RFC 9112 3.2
    if (has_transfer_encoding) return error(has_length ? 400 : 501);           // no chunked request bodies
    if (r.content_length > limits.max_body) return error(413);
    return {State::Complete, skipped + end, 0};
}

bool normalize_target(std::string_view target, std::string& path) {
    // Absolute form (RFC 9112 3.2.2): keep the path after the authority.
    if (target.size() > 7 && iequals(target.substr(0, 7), "http://")) {
        size_t slash = target.find('/', 7);
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    if (target.empty() || target.front() != '/') return false;
    target = target.substr(0, target.find_first_of("?#"));

    std::string decoded;
    for (size_t i = 0; i < target.size(); ++i) {
        char c = target[i];
        if (c == '%') {
            auto hex = [](char h) {
                if (h >= '0' && h <= '9') return h - '0';
                if (h >= 'a' && h <= 'f') return h - 'a' + 10;
                if (h >= 'A' && h <= 'F') return h - 'A' + 10;
                return -1;
            };
            if (i + 2 >= target.size()) return false;
            int hi = hex(target[i + 1]);
            int lo = hex(target[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return false;
            c = static_cast<char>(hi * 16 + lo);
            i += 2;
        }
        decoded.push_back(c);
    }

    path.clear();
    std::string_view rest = decoded;
    while (!rest.empty()) {
        size_t slash = rest.find('/');
        std::string_view segment = rest.substr(0, slash);
        rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
        if (segment.empty() || segment == ".") continue;
        if (segment == "..") {
            if (path.empty()) return false;
            path.resize(path.rfind('/'));
            continue;
        }
        path.push_back('/');
        path.append(segment);
    }
    // A trailing slash names a directory: keep it, the server looks for its index.
    if (path.empty() || decoded.back() == '/') path.push_back('/');
    return true;
}

}  // namespace httpd
