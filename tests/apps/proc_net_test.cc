// /proc/net parsing and the /stats sections built from it, including a missing file.
#include "httpd/proc_net.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "httpd/stats.h"

namespace {

constexpr const char* kSnmp =
    "Ip: Forwarding DefaultTTL InReceives\n"
    "Ip: 1 64 12345\n"
    "Tcp: RtoAlgorithm RtoMin MaxConn ActiveOpens\n"
    "Tcp: 1 200 -1 7\n"
    "Udp: InDatagrams NoPorts\n"
    "Udp: 3 0\n";

constexpr const char* kDev =
    "Inter-|   Receive                                                |  Transmit\n"
    " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls "
    "carrier compressed\n"
    "    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       "
    "0          0\n"
    "  eth0:123456789012 99 1 2 0 0 0 0 555 66 3 4 0 0 0 0\n";

TEST(ProcNet, Snmp) {
    std::vector<httpd::SnmpSection> s;
    std::string error;
    ASSERT_TRUE(httpd::parse_snmp(kSnmp, s, error)) << error;
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[1].name, "Tcp");
    EXPECT_EQ(s[1].values[2].first, "MaxConn");
    EXPECT_EQ(s[1].values[2].second, -1);
    EXPECT_EQ(s[1].values[3].second, 7);
    EXPECT_FALSE(httpd::parse_snmp("Tcp: A B\nTcp: 1\n", s, error));
    EXPECT_FALSE(httpd::parse_snmp("Tcp: A B\nUdp: 1 2\n", s, error));
    EXPECT_FALSE(httpd::parse_snmp("", s, error));
}

TEST(ProcNet, Dev) {
    std::vector<httpd::NetDevCounters> d;
    std::string error;
    ASSERT_TRUE(httpd::parse_net_dev(kDev, d, error)) << error;
    ASSERT_EQ(d.size(), 2u);
    EXPECT_EQ(d[1].name, "eth0");
    EXPECT_EQ(d[1].rx_bytes, 123456789012u);
    EXPECT_EQ(d[1].rx_dropped, 2u);
    EXPECT_EQ(d[1].tx_bytes, 555u);
    EXPECT_EQ(d[1].tx_packets, 66u);
    EXPECT_FALSE(httpd::parse_net_dev("Receive\nbytes\n lo: 1 2 3\n", d, error));
    EXPECT_FALSE(httpd::parse_net_dev("lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n", d, error));
}

TEST(ProcNet, StatsSections) {
    std::string snmp = kSnmp;
    EXPECT_EQ(httpd::snmp_json(&snmp, ""),
              "{\"file\":\"/proc/net/snmp\",\"ok\":true,\"Ip\":{\"Forwarding\":1,\"DefaultTTL\":64,\"InReceives\":"
              "12345},\"Tcp\":{\"RtoAlgorithm\":1,\"RtoMin\":200,\"MaxConn\":-1,\"ActiveOpens\":7},\"Udp\":{"
              "\"InDatagrams\":3,\"NoPorts\":0}}");
    EXPECT_EQ(httpd::snmp_json(nullptr, "No such file or directory"),
              "{\"file\":\"/proc/net/snmp\",\"ok\":false,\"error\":\"No such file or directory\"}");
    std::string bad = "nonsense";
    EXPECT_NE(httpd::net_dev_json(&bad, "").find("\"ok\":false"), std::string::npos);
    std::string missing, read_error;
    EXPECT_FALSE(httpd::read_small_file("/nonexistent/proc/net/dev", missing, read_error));
    EXPECT_FALSE(read_error.empty());
}

}  // namespace
