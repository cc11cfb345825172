#include "boot/cmdline.h"

#include <cstring>

namespace pollux {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

}  // namespace

bool Cmdline::find(const char* key, const char*& value, size_t& value_len) const {
    size_t key_len = strlen(key);
    bool found = false;
    for (const char* p = text_; *p;) {
        while (is_space(*p)) ++p;
        const char* start = p;
        while (*p && !is_space(*p)) ++p;
        size_t len = size_t(p - start);
        if (len == 2 && start[0] == '-' && start[1] == '-') break;
        if (len < key_len || strncmp(start, key, key_len) != 0) continue;
        if (len == key_len) {
            value = start + len;
            value_len = 0;
            found = true;
        } else if (start[key_len] == '=') {
            value = start + key_len + 1;
            value_len = len - key_len - 1;
            found = true;
        }
    }
    return found;
}

bool Cmdline::get(const char* key, char* out, size_t out_size) const {
    const char* value;
    size_t len;
    if (!find(key, value, len) || len + 1 > out_size) return false;
    memcpy(out, value, len);
    out[len] = '\0';
    return true;
}

bool Cmdline::has(const char* key) const {
    const char* value;
    size_t len;
    return find(key, value, len);
}

const char* Cmdline::app_args() const {
    for (const char* p = text_; *p; ++p) {
        if ((p == text_ || is_space(p[-1])) && p[0] == '-' && p[1] == '-' && (!p[2] || is_space(p[2]))) {
            p += 2;
            while (is_space(*p)) ++p;
            return p;
        }
    }
    return "";
}

}  // namespace pollux
