// /proc/net/snmp and /proc/net/dev as programs read them: Linux's header rows (the parts every
// 6.x kernel prints), a value row under each header with as many integers as it has names, and
// counters that move with the scenario's own traffic (other traffic on the machine only adds).
// Follows net/ipv4/proc.c (snmp_seq_show) and net/core/net-procfs.c (dev_seq_show).
#include "harness.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace conf;

namespace {

std::string slurp(const char* path) {
    std::string text;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (!CHECK_GE(fd, 0)) return text;
    char buf[1024];
    for (long n; (n = read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
    close(fd);
    return text;
}

std::vector<std::string> words(const std::string& line) {
    std::istringstream in(line);
    std::vector<std::string> w;
    for (std::string s; in >> s;) w.push_back(s);
    return w;
}

bool integer(const std::string& s) {
    char* end = nullptr;
    std::strtoll(s.c_str(), &end, 10);
    return !s.empty() && *end == '\0';
}

// "Tcp" -> {"ActiveOpens" -> value, ...}, checking each header/value pair on the way.
std::map<std::string, std::map<std::string, long long>> parse_snmp(const std::string& text) {
    std::map<std::string, std::map<std::string, long long>> out;
    std::istringstream in(text);
    std::string head, vals;
    while (std::getline(in, head) && std::getline(in, vals)) {
        auto h = words(head), v = words(vals);
        if (!CHECK(!h.empty() && !v.empty() && h[0] == v[0])) break;
        CHECK_EQ(h.size(), v.size());
        std::string proto = h[0].substr(0, h[0].size() - 1);
        for (size_t i = 1; i < h.size() && i < v.size(); ++i) {
            CHECK(integer(v[i]));
            out[proto][h[i]] = std::strtoll(v[i].c_str(), nullptr, 10);
        }
    }
    return out;
}

bool starts_with(const std::string& text, const std::string& prefix) { return text.compare(0, prefix.size(), prefix) == 0; }

long long total_rx_bytes() {
    std::istringstream in(slurp("/proc/net/dev"));
    std::string line;
    long long sum = 0;
    for (int i = 0; std::getline(in, line); ++i) {
        if (i < 2) continue;
        size_t colon = line.find(':');
        if (!CHECK(colon != std::string::npos)) break;
        auto v = words(line.substr(colon + 1));
        CHECK_EQ(v.size(), 16u);
        if (!v.empty()) sum += std::strtoll(v[0].c_str(), nullptr, 10);
    }
    return sum;
}

void send_some(int from, int to, size_t bytes) {
    std::string chunk(4096, 'x');
    char buf[4096];
    for (size_t sent = 0; sent < bytes; sent += chunk.size()) {
        CHECK_EQ(write(from, chunk.data(), chunk.size()), static_cast<long>(chunk.size()));
        size_t got = 0;
        while (got < chunk.size()) {
            long n = read(to, buf, sizeof buf);
            if (!CHECK_GT(n, 0)) return;
            got += static_cast<size_t>(n);
        }
    }
}

}  // namespace

SCENARIO(proc_net_snmp_has_linux_rows)
{
    std::string text = slurp("/proc/net/snmp");
    CHECK(starts_with(text, "Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams "
                            "InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes "
                            "ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates"));
    for (const char* row : {"\nTcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails "
                            "EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n",
                            "\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors "
                            "InCsumErrors IgnoredMulti MemErrors\n",
                            "\nIcmp: InMsgs InErrors InCsumErrors InDestUnreachs "}) {
        CHECK(text.find(row) != std::string::npos);
    }
    auto snmp = parse_snmp(text);
    CHECK_EQ(snmp["Tcp"]["RtoAlgorithm"], 1);
    CHECK_EQ(snmp["Tcp"]["RtoMin"], 200);
    CHECK_EQ(snmp["Tcp"]["MaxConn"], -1);
}

SCENARIO(proc_net_snmp_counts_this_connection)
{
    auto before = parse_snmp(slurp("/proc/net/snmp"));
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    send_some(p.a, p.b, 64 * 1024);
    auto after = parse_snmp(slurp("/proc/net/snmp"));
    CHECK_GE(after["Tcp"]["ActiveOpens"], before["Tcp"]["ActiveOpens"] + 1);
    CHECK_GE(after["Tcp"]["PassiveOpens"], before["Tcp"]["PassiveOpens"] + 1);
    CHECK_GE(after["Tcp"]["CurrEstab"], 2);  // both ends of the pair
    CHECK_GE(after["Tcp"]["InSegs"], before["Tcp"]["InSegs"] + 3);
    CHECK_GE(after["Tcp"]["OutSegs"], before["Tcp"]["OutSegs"] + 3);
    CHECK_GE(after["Ip"]["InReceives"], before["Ip"]["InReceives"] + 3);
}

SCENARIO(proc_net_dev_layout_and_bytes)
{
    std::string text = slurp("/proc/net/dev");
    CHECK(starts_with(text, "Inter-|   Receive                                                |  Transmit\n"
                            " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets "
                            "errs drop fifo colls carrier compressed\n"));
    CHECK(text.find("    lo: ") != std::string::npos);
    long long before = total_rx_bytes();
    auto p = make_tcp_pair();
    REQUIRE(p.a.valid());
    send_some(p.a, p.b, 256 * 1024);
    CHECK_GE(total_rx_bytes(), before + 256 * 1024);
}

SCENARIO(proc_net_snmp_through_stdio)
{
    FILE* f = std::fopen("/proc/net/snmp", "r");
    REQUIRE(f != nullptr);
    char line[1024];
    CHECK(std::fgets(line, sizeof line, f) != nullptr);
    CHECK(starts_with(line, "Ip: Forwarding DefaultTTL"));
    std::fclose(f);
}
