// Command-line flags shared by the apps: a table of --name VALUE / --name flags, and --help
// generated from it. No getopt_long: the table keeps each app's flags and their help in one place.
#pragma once

#include <string>
#include <vector>

namespace apps {

struct Flag {
    enum class Kind { Int, String, Bool };
    const char* name;  // without the leading "--"
    Kind kind;
    void* target;  // int*, std::string* or bool*
    const char* help;
};

// Parses argv into the flags' targets. Returns -1 to go on, or the exit status to end with
// (0 after --help, 2 after a bad argument, with a message on stderr).
int parse_flags(int argc, char** argv, const char* usage, const std::vector<Flag>& flags);

}  // namespace apps
