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

size_t Cmdline::options_end() const {
    const char* p = text_;
    for (; *p; ++p)
        if ((p == text_ || is_space(p[-1])) && p[0] == '-' && p[1] == '-' && (!p[2] || is_space(p[2]))) break;
    return size_t(p - text_);
}

const char* Cmdline::app_args() const {
    const char* p = text_ + options_end();
    if (!*p) return "";
    p += 2;
    while (is_space(*p)) ++p;
    return p;
}

namespace {

// Appends n bytes of text, with a space before it when out is not empty. False if it overflows.
bool append_words(char* out, size_t out_size, size_t& used, const char* text, size_t n) {
    while (n && is_space(text[n - 1])) --n;
    while (n && is_space(*text)) ++text, --n;
    if (!n) return true;
    size_t need = n + (used ? 1 : 0);
    if (used + need + 1 > out_size) return false;
    if (used) out[used++] = ' ';
    memcpy(out + used, text, n);
    used += n;
    out[used] = '\0';
    return true;
}

}  // namespace

bool merge_cmdlines(const char* image, const char* loader, char* out, size_t out_size) {
    // Built in a scratch buffer first: out may alias loader (BootInfo's own command line).
    char merged[1024];
    size_t used = 0;
    merged[0] = '\0';
    Cmdline img(image), ldr(loader);
    bool ldr_has_args = loader[ldr.options_end()] != '\0';
    bool ok = append_words(merged, sizeof merged, used, image, img.options_end()) &&
              append_words(merged, sizeof merged, used, loader, ldr.options_end());
    const char* args = img.app_args();
    if (ok && (ldr_has_args || image[img.options_end()])) {
        ok = append_words(merged, sizeof merged, used, "--", 2);
        if (ldr_has_args) {
            // argv[0] from the image, the rest from the loader.
            size_t argv0 = 0;
            while (args[argv0] && !is_space(args[argv0])) ++argv0;
            ok = ok && append_words(merged, sizeof merged, used, args, argv0) &&
                 append_words(merged, sizeof merged, used, ldr.app_args(), strlen(ldr.app_args()));
        } else {
            ok = ok && append_words(merged, sizeof merged, used, args, strlen(args));
        }
    }
    if (!ok || used + 1 > out_size) return false;
    memcpy(out, merged, used + 1);
    return true;
}

}  // namespace pollux
