#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace apps {

namespace {

void print_help(const char* prog, const char* usage, const std::vector<Flag>& flags) {
    printf("usage: %s [flags]\n%s\n\nflags:\n", prog, usage);
    for (const Flag& f : flags) {
        const char* arg = f.kind == Flag::Kind::Int ? " N" : f.kind == Flag::Kind::String ? " VALUE" : "";
        printf("  --%s%s\n      %s\n", f.name, arg, f.help);
    }
    printf("  --help\n      this text\n");
}

}  // namespace

int parse_flags(int argc, char** argv, const char* usage, const std::vector<Flag>& flags) {
    for (int i = 1; i < argc; ++i) {
        const char* a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_help(argv[0], usage, flags);
            return 0;
        }
        const Flag* match = nullptr;
        for (const Flag& f : flags) {
            if (strncmp(a, "--", 2) == 0 && strcmp(a + 2, f.name) == 0) match = &f;
        }
        if (match == nullptr) {
            fprintf(stderr, "%s: unknown argument '%s' (see --help)\n", argv[0], a);
            return 2;
        }
        if (match->kind == Flag::Kind::Bool) {
            *static_cast<bool*>(match->target) = true;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "%s: --%s needs a value\n", argv[0], match->name);
            return 2;
        }
        const char* v = argv[++i];
        if (match->kind == Flag::Kind::String) {
            *static_cast<std::string*>(match->target) = v;
            continue;
        }
        char* end = nullptr;
        long n = strtol(v, &end, 10);
        if (*v == '\0' || *end != '\0' || n < 0 || n > 0x7fffffff) {
            fprintf(stderr, "%s: --%s wants a non-negative integer, not '%s'\n", argv[0], match->name, v);
            return 2;
        }
        *static_cast<int*>(match->target) = static_cast<int>(n);
    }
    return -1;
}

}  // namespace apps
