// The kernel command line: space-separated `key=value` (or bare `key`) options, then, after a
// lone `--`, the application's argv (for the ELF loader, later).
#pragma once

#include <cstddef>

namespace pollux {

class Cmdline {
public:
    explicit Cmdline(const char* text) : text_(text) {}

    // Copies the value of `key=value` (empty for a bare `key`) into out; false if absent or
    // if it does not fit. Only the kernel's part (before `--`) is searched; the last one wins.
    bool get(const char* key, char* out, size_t out_size) const;
    bool has(const char* key) const;
    // Whatever follows ` -- ` (empty string if nothing does).
    const char* app_args() const;
    // Where the lone `--` starts (the text's length when there is none).
    size_t options_end() const;

private:
    // The last `key` or `key=value` before `--`: value points into the text, not terminated.
    bool find(const char* key, const char*& value, size_t& value_len) const;

    const char* text_;
};

// A single-file image's command line (qemu/mkimage) under the loader's: the image's options,
// then the loader's (the last of a key wins, so the loader's do); the image's argv, except that
// the loader's words after `--` replace every argument after argv[0] (`-- --port 9000` runs the
// image's app with --port 9000). False, with out unchanged, when the result does not fit.
bool merge_cmdlines(const char* image, const char* loader, char* out, size_t out_size);

}  // namespace pollux
