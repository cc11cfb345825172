// ASCII text helpers for the protocol parsers: HTTP header names and Redis command names and
// options compare case-insensitively, in ASCII only (no locale: a server's input is bytes).
#pragma once

#include <cstddef>
#include <string_view>

namespace apps {

inline char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
    }
    return true;
}

}  // namespace apps
