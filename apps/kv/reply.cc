#include "reply.h"

namespace kv {

void Reply::line(char type, std::string_view s) {
    char t[1] = {type};
    out_.append(std::string_view(t, 1));
    out_.append(s);
    out_.append("\r\n");
}

void Reply::error(std::string_view message) {
    // A reply line cannot hold CR or LF; Redis turns them into spaces the same way.
    out_.append("-");
    for (char c : message) {
        char safe[1] = {c == '\r' || c == '\n' ? ' ' : c};
        out_.append(std::string_view(safe, 1));
    }
    out_.append("\r\n");
}

}  // namespace kv
