#include "httpd/http_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace {

using httpd::HttpLimits;
using httpd::HttpParse;
using httpd::HttpRequest;
using State = HttpParse::State;

HttpParse parse(std::string_view in, HttpRequest& r, HttpLimits limits = {}) {
    return httpd::parse_http_request(in, limits, r);
}

int error_status(std::string_view in, HttpLimits limits = {}) {
    HttpRequest r;
    HttpParse p = parse(in, r, limits);
    return p.state == State::Error ? p.status : 0;
}

TEST(HttpParser, SimpleGet) {
    HttpRequest r;
    std::string in = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\nGET /next";
    HttpParse p = parse(in, r);
    ASSERT_EQ(p.state, State::Complete);
    EXPECT_EQ(p.header_bytes, in.find("GET /next"));
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/index.html");
    EXPECT_EQ(r.version_minor, 1);
    EXPECT_TRUE(r.keep_alive);
    EXPECT_EQ(r.content_length, 0u);
}

TEST(HttpParser, EveryPrefixIsIncomplete) {
    std::string in = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n";
    for (size_t n = 0; n < in.size(); ++n) {
        HttpRequest r;
        EXPECT_EQ(parse(in.substr(0, n), r).state, State::Incomplete) << n;
    }
    HttpRequest r;
    EXPECT_EQ(parse(in, r).state, State::Complete);
    EXPECT_EQ(r.content_length, 3u);
}

TEST(HttpParser, ConnectionHeaderAndVersions) {
    HttpRequest r;
    ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n", r).state, State::Complete);
    EXPECT_FALSE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", r).state, State::Complete);
    EXPECT_TRUE(r.keep_alive);
    ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n", r).state, State::Complete);
    EXPECT_FALSE(r.keep_alive);
    ASSERT_EQ(parse("\r\nGET / HTTP/1.1\nHost: x\n\n", r).state, State::Complete);  // bare LF, leading CRLF
}

TEST(HttpParser, Errors) {
    EXPECT_EQ(error_status("GARBAGE\r\n\r\n"), 400);
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\n\r\n"), 400);  // no Host
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n"), 400);
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n"), 400);
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"), 400);
    EXPECT_EQ(error_status("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n"), 413);
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 501);
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"),
              400);
}

TEST(HttpParser, SizeLimits) {
    HttpLimits small;
    small.max_header_bytes = 64;
    EXPECT_EQ(error_status("GET /" + std::string(100, 'a'), small), 414);
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\nX: " + std::string(100, 'a'), small), 431);
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n", small), 431);
    HttpLimits few;
    few.max_headers = 2;
    EXPECT_EQ(error_status("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", few), 431);
}

TEST(HttpParser, NormalizeTarget) {
    std::string p;
    ASSERT_TRUE(httpd::normalize_target("/a/./b/../c?q=1#f", p));
    EXPECT_EQ(p, "/a/c");
    ASSERT_TRUE(httpd::normalize_target("/", p));
    EXPECT_EQ(p, "/");
    ASSERT_TRUE(httpd::normalize_target("/dir/", p));
    EXPECT_EQ(p, "/dir/");
    ASSERT_TRUE(httpd::normalize_target("/%41%2e%2Ftxt", p));
    EXPECT_EQ(p, "/A./txt");
    ASSERT_TRUE(httpd::normalize_target("http://host:80/x", p));
    EXPECT_EQ(p, "/x");
    EXPECT_FALSE(httpd::normalize_target("/../etc/passwd", p));
    EXPECT_FALSE(httpd::normalize_target("/%2e%2e/x", p));
    EXPECT_FALSE(httpd::normalize_target("/a%00b", p));
    EXPECT_FALSE(httpd::normalize_target("/a%4", p));
    EXPECT_FALSE(httpd::normalize_target("*", p));
}

}  // namespace
