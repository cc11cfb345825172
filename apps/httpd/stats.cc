#include "stats.h"

#include <inttypes.h>
#include <stdio.h>

#include <vector>

#include "proc_net.h"

namespace httpd {

namespace {

void append_string(std::string& out, std::string_view s) {
    out.push_back('"');
    for (char c : s) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char esc[8];
            snprintf(esc, sizeof esc, "\\u%04x", c);
            out.append(esc);
        } else {
            out.push_back(c);
        }
    }
    out.push_back('"');
}

void append_key(std::string& out, std::string_view key, bool& first) {
    if (!first) out.push_back(',');
    first = false;
    append_string(out, key);
    out.push_back(':');
}

void append_number(std::string& out, std::string_view key, int64_t v, bool& first) {
    append_key(out, key, first);
    out.append(std::to_string(v));
}

void append_unsigned(std::string& out, std::string_view key, uint64_t v, bool& first) {
    append_key(out, key, first);
    out.append(std::to_string(v));
}

std::string failure(std::string_view file, const std::string& error) {
    std::string out = "{";
    bool first = true;
    append_key(out, "file", first);
    append_string(out, file);
    append_key(out, "ok", first);
    out.append("false");
    append_key(out, "error", first);
    append_string(out, error);
    out.push_back('}');
    return out;
}

}  // namespace

std::string snmp_json(const std::string* text, const std::string& read_error) {
    constexpr std::string_view kFile = "/proc/net/snmp";
    if (text == nullptr) return failure(kFile, read_error);
    std::vector<SnmpSection> sections;
    std::string error;
    if (!parse_snmp(*text, sections, error)) return failure(kFile, "unexpected format: " + error);
    std::string out = "{\"file\":\"/proc/net/snmp\",\"ok\":true";
    for (const SnmpSection& s : sections) {
        out.push_back(',');
        append_string(out, s.name);
        out.append(":{");
        bool first = true;
        for (const auto& [name, value] : s.values) append_number(out, name, value, first);
        out.push_back('}');
    }
    out.push_back('}');
    return out;
}

std::string net_dev_json(const std::string* text, const std::string& read_error) {
    constexpr std::string_view kFile = "/proc/net/dev";
    if (text == nullptr) return failure(kFile, read_error);
    std::vector<NetDevCounters> devs;
    std::string error;
    if (!parse_net_dev(*text, devs, error)) return failure(kFile, "unexpected format: " + error);
    std::string out = "{\"file\":\"/proc/net/dev\",\"ok\":true,\"interfaces\":{";
    bool first_dev = true;
    for (const NetDevCounters& d : devs) {
        append_key(out, d.name, first_dev);
        out.push_back('{');
        bool first = true;
        append_unsigned(out, "rx_bytes", d.rx_bytes, first);
        append_unsigned(out, "rx_packets", d.rx_packets, first);
        append_unsigned(out, "rx_errors", d.rx_errors, first);
        append_unsigned(out, "rx_dropped", d.rx_dropped, first);
        append_unsigned(out, "tx_bytes", d.tx_bytes, first);
        append_unsigned(out, "tx_packets", d.tx_packets, first);
        append_unsigned(out, "tx_errors", d.tx_errors, first);
        append_unsigned(out, "tx_dropped", d.tx_dropped, first);
        out.push_back('}');
    }
    out.append("}}");
    return out;
}

std::string stats_json(const HttpSite& site, const apps::TcpServerCounters& tcp, int64_t now_ms) {
    std::string out = "{\"server\":{";
    bool first = true;
    append_number(out, "uptime_ms", now_ms - site.started_ms, first);
    append_unsigned(out, "connections_accepted", tcp.accepted, first);
    append_unsigned(out, "connections_active", tcp.active, first);
    append_unsigned(out, "connections_rejected", tcp.rejected, first);
    append_unsigned(out, "connections_idle_closed", tcp.idle_closed, first);
    append_unsigned(out, "bytes_in", tcp.bytes_in, first);
    append_unsigned(out, "bytes_out", tcp.bytes_out, first);
    append_unsigned(out, "requests", site.counters.requests, first);
    append_key(out, "responses", first);
    out.push_back('{');
    bool first_status = true;
    for (size_t status = 100; status < site.counters.by_status.size(); ++status) {
        if (site.counters.by_status[status] != 0) {
            append_unsigned(out, std::to_string(status), site.counters.by_status[status], first_status);
        }
    }
    out.append("}},\"snmp\":");
    std::string text, error;
    out.append(snmp_json(read_small_file("/proc/net/snmp", text, error) ? &text : nullptr, error));
    out.append(",\"dev\":");
    out.append(net_dev_json(read_small_file("/proc/net/dev", text, error) ? &text : nullptr, error));
    out.append("}\n");
    return out;
}

}  // namespace httpd
