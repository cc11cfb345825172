#include "proc_net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

namespace httpd {

namespace {

std::string_view next_line(std::string_view& rest) {
    size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    return line;
}

std::vector<std::string_view> fields(std::string_view line) {
    std::vector<std::string_view> out;
    while (!line.empty()) {
        size_t start = line.find_first_not_of(" \t");
        if (start == std::string_view::npos) break;
        line.remove_prefix(start);
        size_t end = line.find_first_of(" \t");
        out.push_back(line.substr(0, end));
        line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    }
    return out;
}

bool parse_int(std::string_view s, int64_t& out) {
    if (s.empty() || s.size() > 20) return false;
    std::string copy(s);
    char* end = nullptr;
    errno = 0;
    long long v = strtoll(copy.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return false;
    out = v;
    return true;
}

bool parse_uint(std::string_view s, uint64_t& out) {
    if (s.empty() || s.size() > 20 || s.front() == '-') return false;
    std::string copy(s);
    char* end = nullptr;
    errno = 0;
    unsigned long long v = strtoull(copy.c_str(), &end, 10);
    if (errno != 0 || *end != '\0') return false;
    out = v;
    return true;
}

}  // namespace

bool parse_snmp(std::string_view text, std::vector<SnmpSection>& out, std::string& error) {
    out.clear();
    while (!text.empty()) {
        std::vector<std::string_view> names = fields(next_line(text));
        if (names.empty()) continue;
        std::vector<std::string_view> values = fields(next_line(text));
        if (names[0].size() < 2 || names[0].back() != ':' || values.empty() || values[0] != names[0]) {
            error = "a header line without its value line";
            return false;
        }
        if (values.size() != names.size()) {
            error = "names and values differ in number for " + std::string(names[0]);
            return false;
        }
        SnmpSection section;
        section.name = std::string(names[0].substr(0, names[0].size() - 1));
        for (size_t i = 1; i < names.size(); ++i) {
            int64_t v = 0;
            if (!parse_int(values[i], v)) {
                error = "not a number: " + std::string(values[i]);
                return false;
            }
            section.values.emplace_back(std::string(names[i]), v);
        }
        out.push_back(std::move(section));
    }
    if (out.empty()) {
        error = "no sections";
        return false;
    }
    return true;
}

bool parse_net_dev(std::string_view text, std::vector<NetDevCounters>& out, std::string& error) {
    out.clear();
    std::string_view title = next_line(text);    // "Inter-|   Receive ...  |  Transmit"
    std::string_view columns = next_line(text);  // " face |bytes    packets ..."
    if (title.find("Receive") == std::string_view::npos || columns.find("bytes") == std::string_view::npos) {
        error = "no header lines";
        return false;
    }
    while (!text.empty()) {
        std::string_view line = next_line(text);
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            error = "an interface line without a colon";
            return false;
        }
        std::vector<std::string_view> name = fields(line.substr(0, colon));
        std::vector<std::string_view> v = fields(line.substr(colon + 1));
        uint64_t n[16];
        if (name.size() != 1 || v.size() != 16) {
            error = "an interface line without a name and 16 counters";
            return false;
        }
        for (size_t i = 0; i < 16; ++i) {
            if (!parse_uint(v[i], n[i])) {
                error = "not a number: " + std::string(v[i]);
                return false;
            }
        }
        NetDevCounters c;
        c.name = std::string(name[0]);
        c.rx_bytes = n[0], c.rx_packets = n[1], c.rx_errors = n[2], c.rx_dropped = n[3];
        c.tx_bytes = n[8], c.tx_packets = n[9], c.tx_errors = n[10], c.tx_dropped = n[11];
        out.push_back(std::move(c));
    }
    return true;
}

bool read_small_file(const char* path, std::string& out, std::string& error) {
    out.clear();
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = strerror(errno);
        return false;
    }
    char buf[4096];
    for (;;) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r > 0) {
            out.append(buf, static_cast<size_t>(r));
            if (out.size() > (1 << 20)) break;  // far beyond any real counters file
            continue;
        }
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) error = strerror(errno);
        close(fd);
        return r == 0;
    }
    close(fd);
    error = "larger than 1 MiB";
    return false;
}

}  // namespace httpd
