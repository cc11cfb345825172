// The RESP parser, the store and the commands, without a socket.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kv/commands.h"
#include "kv/kv_store.h"
#include "kv/resp_parser.h"

namespace {

using kv::RespParse;
using State = RespParse::State;

struct Kv {
    kv::KvStore store;
    kv::ServerInfo info;
    int64_t now = 1000;

    // Runs every command in `in` and returns all replies.
    std::string run(std::string_view in) {
        apps::Buffer out;
        kv::RespCommand c;
        while (!in.empty()) {
            RespParse p = kv::parse_resp_command(in, {}, c);
            if (p.state != State::Command) break;
            if (!c.args.empty()) kv::execute(c.args, store, info, now, out);
            in.remove_prefix(p.consumed);
        }
        return std::string(out.view());
    }
};

TEST(RespParser, Multibulk) {
    kv::RespCommand c;
    std::string in = "*2\r\n$3\r\nGET\r\n$3\r\nk\r\n\r\n*1";
    RespParse p = kv::parse_resp_command(in, {}, c);
    ASSERT_EQ(p.state, State::Command);
    EXPECT_EQ(p.consumed, in.size() - 2);
    ASSERT_EQ(c.args.size(), 2u);
    EXPECT_EQ(c.args[1], std::string_view("k\r\n", 3));  // binary-safe
    for (size_t n = 0; n < p.consumed; ++n) {
        EXPECT_EQ(kv::parse_resp_command(in.substr(0, n), {}, c).state, State::Incomplete) << n;
    }
}

TEST(RespParser, InlineQuoting) {
    kv::RespCommand c;
    RespParse p = kv::parse_resp_command("SET  \"a b\\x41\\n\" 'c\\'d'\r\n", {}, c);
    ASSERT_EQ(p.state, State::Command);
    ASSERT_EQ(c.args.size(), 3u);
    EXPECT_EQ(c.args[1], "a bA\n");
    EXPECT_EQ(c.args[2], "c'd");
}

TEST(RespParser, ErrorsInRedisWords) {
    kv::RespCommand c;
    auto error = [&](std::string_view in, kv::RespLimits limits = {}) {
        RespParse p = kv::parse_resp_command(in, limits, c);
        return p.state == State::Error ? std::string(p.error) : std::string("no error");
    };
    EXPECT_EQ(error("*x\r\n"), "Protocol error: invalid multibulk length");
    EXPECT_EQ(error("*1\r\n$x\r\n"), "Protocol error: invalid bulk length");
    EXPECT_EQ(error("*1\r\n$-1\r\n"), "Protocol error: invalid bulk length");
    EXPECT_EQ(error("*1\r\nx\r\n"), "Protocol error: expected '$', got '%c'");
    EXPECT_EQ(error("SET \"a\r\n"), "Protocol error: unbalanced quotes in request");
    kv::RespLimits small;
    small.max_inline = 8;
    EXPECT_EQ(error("PING PING PING", small), "Protocol error: too big inline request");
    EXPECT_EQ(error("*1234567890", small), "Protocol error: too big mbulk count string");
}

TEST(KvCommands, StringsAndCounters) {
    Kv kv;
    EXPECT_EQ(kv.run("PING\r\nPING hi\r\nECHO x\r\n"), "+PONG\r\n$2\r\nhi\r\n$1\r\nx\r\n");
    EXPECT_EQ(kv.run("SET k v\r\nGET k\r\nGET nope\r\n"), "+OK\r\n$1\r\nv\r\n$-1\r\n");
    EXPECT_EQ(kv.run("SET k w NX\r\nSET j w XX\r\nSET k w XX GET\r\n"), "$-1\r\n$-1\r\n$1\r\nv\r\n");
    EXPECT_EQ(kv.run("INCR n\r\nINCR n\r\nDECR n\r\nINCRBY n 10\r\n"), ":1\r\n:2\r\n:1\r\n:11\r\n");
    EXPECT_EQ(kv.run("INCR k\r\n"), "-ERR value is not an integer or out of range\r\n");
    EXPECT_EQ(kv.run("SET big 9223372036854775807\r\nINCR big\r\n"),
              "+OK\r\n-ERR increment or decrement would overflow\r\n");
    EXPECT_EQ(kv.run("MSET a 1 b 2\r\nMGET a b c\r\n"), "+OK\r\n*3\r\n$1\r\n1\r\n$1\r\n2\r\n$-1\r\n");
    EXPECT_EQ(kv.run("MSET a\r\n"), "-ERR wrong number of arguments for 'mset' command\r\n");
    EXPECT_EQ(kv.run("EXISTS a a zz\r\nDEL a zz\r\nDBSIZE\r\n"), ":2\r\n:1\r\n:4\r\n");
    EXPECT_EQ(kv.run("FLUSHALL\r\nDBSIZE\r\n"), "+OK\r\n:0\r\n");
    EXPECT_EQ(kv.run("get\r\n"), "-ERR wrong number of arguments for 'get' command\r\n");
    EXPECT_EQ(kv.run("NOPE a b\r\n"), "-ERR unknown command 'NOPE', with args beginning with: 'a' 'b' \r\n");
    EXPECT_EQ(kv.run("SET a b EX 0\r\nSET a b FOO\r\n"),
              "-ERR invalid expire time in 'set' command\r\n-ERR syntax error\r\n");
}

TEST(KvCommands, Expiry) {
    Kv kv;
    EXPECT_EQ(kv.run("SET k v EX 10\r\nTTL k\r\nPTTL k\r\nTTL none\r\nSET p v\r\nTTL p\r\n"),
              "+OK\r\n:10\r\n:10000\r\n:-2\r\n+OK\r\n:-1\r\n");
    kv.now += 9999;
    EXPECT_EQ(kv.run("GET k\r\n"), "$1\r\nv\r\n");
    kv.now += 1;
    EXPECT_EQ(kv.run("GET k\r\nEXISTS k\r\n"), "$-1\r\n:0\r\n");
    EXPECT_EQ(kv.run("EXPIRE p 5\r\nEXPIRE none 5\r\nTTL p\r\n"), ":1\r\n:0\r\n:5\r\n");
    EXPECT_EQ(kv.run("SET p w KEEPTTL\r\nTTL p\r\nSET p w\r\nTTL p\r\n"), "+OK\r\n:5\r\n+OK\r\n:-1\r\n");
    EXPECT_EQ(kv.run("EXPIRE p -1\r\nEXISTS p\r\n"), ":1\r\n:0\r\n");
    // Active expiry drops keys nobody reads, and skips deadlines that were replaced.
    kv.run("SET a 1 PX 100\r\nSET b 1 PX 100\r\nSET b 2\r\n");
    kv.now += 100;
    EXPECT_EQ(kv.store.expire_due(kv.now, 100), 1u);
    EXPECT_EQ(kv.run("DBSIZE\r\nGET b\r\n"), ":1\r\n$1\r\n2\r\n");
}

TEST(KvCommands, QuitAndShutdown) {
    kv::KvStore store;
    kv::ServerInfo info;
    apps::Buffer out;
    std::vector<std::string_view> quit = {"quit"};
    EXPECT_EQ(kv::execute(quit, store, info, 0, out), kv::After::Close);
    EXPECT_EQ(out.view(), "+OK\r\n");
    std::vector<std::string_view> shutdown = {"SHUTDOWN", "NOSAVE"};
    EXPECT_EQ(kv::execute(shutdown, store, info, 0, out), kv::After::Shutdown);
}

}  // namespace
