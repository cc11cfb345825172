#include "commands.h"

#include <stdint.h>

#include <initializer_list>
#include <string>

#include "../common/text.h"
#include "reply.h"

namespace kv {

namespace {

struct Call {
    const std::vector<std::string_view>& args;
    KvStore& store;
    ServerInfo& info;
    int64_t now;
    Reply reply;
};

using Handler = After (*)(Call&);

struct Command {
    std::string_view name;
    int arity;  // as Redis counts it: N exactly, or -N for at least N (the name included)
    Handler handler;
};

// Concatenation by appending: GCC 12 warns falsely (-Wrestrict, its bug 105651) on
// "literal" + std::string + "literal".
std::string cat(std::initializer_list<std::string_view> parts) {
    std::string out;
    for (std::string_view p : parts) out.append(p);
    return out;
}

using apps::iequals;

// Redis's string2ll: optional '-', digits without a leading zero, no overflow.
bool to_int64(std::string_view s, int64_t& out) {
    if (s.empty() || s.size() > 20) return false;
    if (s == "0") {
        out = 0;
        return true;
    }
    bool negative = s[0] == '-';
    std::string_view digits = negative ? s.substr(1) : s;
    if (digits.empty() || digits[0] < '1' || digits[0] > '9') return false;
    uint64_t v = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return false;
        uint64_t d = static_cast<uint64_t>(c - '0');
        if (v > (UINT64_MAX - d) / 10) return false;
        v = v * 10 + d;
    }
    if (negative) {
        if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
        out = static_cast<int64_t>(0 - v);
    } else {
        if (v > static_cast<uint64_t>(INT64_MAX)) return false;
        out = static_cast<int64_t>(v);
    }
    return true;
}

After not_an_integer(Call& c) {
    c.reply.error("ERR value is not an integer or out of range");
    return After::Continue;
}

After ping(Call& c) {
    if (c.args.size() > 2) {
        c.reply.error("ERR wrong number of arguments for 'ping' command");
    } else if (c.args.size() == 2) {
        c.reply.bulk(c.args[1]);
    } else {
        c.reply.simple("PONG");
    }
    return After::Continue;
}

After echo(Call& c) {
    c.reply.bulk(c.args[1]);
    return After::Continue;
}

After get(Call& c) {
    KvStore::Entry* e = c.store.find(c.args[1], c.now);
    if (e == nullptr) {
        c.reply.null();
    } else {
        c.reply.bulk(e->value);
    }
    return After::Continue;
}

// SET key value [NX|XX] [GET] [EX s|PX ms|KEEPTTL]
After set(Call& c) {
    bool nx = false, xx = false, get_old = false, keep_ttl = false;
    int64_t expires_at = 0;
    bool has_expiry = false;
    for (size_t i = 3; i < c.args.size(); ++i) {
        std::string_view opt = c.args[i];
        bool ex = iequals(opt, "ex");
        if (ex || iequals(opt, "px")) {
            int64_t n = 0;
            if (has_expiry || keep_ttl || i + 1 == c.args.size()) {
                c.reply.error("ERR syntax error");
                return After::Continue;
            }
            if (!to_int64(c.args[++i], n)) return not_an_integer(c);
            if (n <= 0 || n > (INT64_MAX - c.now) / (ex ? 1000 : 1)) {
                c.reply.error("ERR invalid expire time in 'set' command");
                return After::Continue;
            }
            expires_at = c.now + (ex ? n * 1000 : n);
            has_expiry = true;
        } else if (iequals(opt, "nx") && !xx) {
            nx = true;
        } else if (iequals(opt, "xx") && !nx) {
            xx = true;
        } else if (iequals(opt, "get")) {
            get_old = true;
        } else if (iequals(opt, "keepttl") && !has_expiry) {
            keep_ttl = true;
        } else {
            c.reply.error("ERR syntax error");
            return After::Continue;
        }
    }
    KvStore::Entry* old = c.store.find(c.args[1], c.now);
    std::string old_value = get_old && old != nullptr ? old->value : std::string();
    bool had_old = old != nullptr;
    if ((nx && had_old) || (xx && !had_old)) {
        if (get_old && had_old) {
            c.reply.bulk(old_value);
        } else {
            c.reply.null();
        }
        return After::Continue;
    }
    int64_t keep = keep_ttl && old != nullptr ? old->expires_at_ms : 0;
    c.store.set(c.args[1], c.args[2], has_expiry ? expires_at : keep);
    if (!get_old) {
        c.reply.ok();
    } else if (had_old) {
        c.reply.bulk(old_value);
    } else {
        c.reply.null();
    }
    return After::Continue;
}

After del(Call& c) {
    int64_t n = 0;
    for (size_t i = 1; i < c.args.size(); ++i) {
        if (c.store.find(c.args[i], c.now) != nullptr) n += c.store.erase(c.args[i]);
    }
    c.reply.integer(n);
    return After::Continue;
}

After exists(Call& c) {
    int64_t n = 0;
    for (size_t i = 1; i < c.args.size(); ++i) n += c.store.find(c.args[i], c.now) != nullptr;
    c.reply.integer(n);
    return After::Continue;
}

After add_to(Call& c, int64_t delta) {
    KvStore::Entry* e = c.store.find(c.args[1], c.now);
    int64_t v = 0;
    if (e != nullptr && !to_int64(e->value, v)) return not_an_integer(c);
    if ((delta > 0 && v > INT64_MAX - delta) || (delta < 0 && v < INT64_MIN - delta)) {
        c.reply.error("ERR increment or decrement would overflow");
        return After::Continue;
    }
    v += delta;
    std::string text = std::to_string(v);
    if (e != nullptr) {
        e->value = text;  // INCR keeps the key's time to live, as in Redis
    } else {
        c.store.set(c.args[1], text, 0);
    }
    c.reply.integer(v);
    return After::Continue;
}

After incr(Call& c) { return add_to(c, 1); }
After decr(Call& c) { return add_to(c, -1); }

After incrby(Call& c) {
    int64_t delta = 0;
    if (!to_int64(c.args[2], delta)) return not_an_integer(c);
    return add_to(c, delta);
}

After decrby(Call& c) {
    int64_t delta = 0;
    if (!to_int64(c.args[2], delta) || delta == INT64_MIN) return not_an_integer(c);
    return add_to(c, -delta);
}

After mget(Call& c) {
    c.reply.array(c.args.size() - 1);
    for (size_t i = 1; i < c.args.size(); ++i) {
        KvStore::Entry* e = c.store.find(c.args[i], c.now);
        if (e == nullptr) {
            c.reply.null();
        } else {
            c.reply.bulk(e->value);
        }
    }
    return After::Continue;
}

After mset(Call& c) {
    if (c.args.size() % 2 != 1) {
        c.reply.error("ERR wrong number of arguments for 'mset' command");
        return After::Continue;
    }
    for (size_t i = 1; i < c.args.size(); i += 2) c.store.set(c.args[i], c.args[i + 1], 0);
    c.reply.ok();
    return After::Continue;
}

// EXPIRE/PEXPIRE key n: a deadline in the past deletes the key, as in Redis.
After expire_with(Call& c, int64_t unit_ms, std::string_view name) {
    int64_t n = 0;
    if (!to_int64(c.args[2], n)) return not_an_integer(c);
    if (c.args.size() > 3) {
        c.reply.error(cat({"ERR Unsupported option ", c.args[3]}));
        return After::Continue;
    }
    if (n > (INT64_MAX - c.now) / unit_ms || n < (INT64_MIN + c.now) / unit_ms) {
        c.reply.error(cat({"ERR invalid expire time in '", name, "' command"}));
        return After::Continue;
    }
    KvStore::Entry* e = c.store.find(c.args[1], c.now);
    if (e == nullptr) {
        c.reply.integer(0);
        return After::Continue;
    }
    int64_t at = c.now + n * unit_ms;
    if (at <= c.now) {
        c.store.erase(c.args[1]);
    } else {
        c.store.set_expiry(c.args[1], *e, at);
    }
    c.reply.integer(1);
    return After::Continue;
}

After expire(Call& c) { return expire_with(c, 1000, "expire"); }
After pexpire(Call& c) { return expire_with(c, 1, "pexpire"); }

After ttl_with(Call& c, bool millis) {
    KvStore::Entry* e = c.store.find(c.args[1], c.now);
    if (e == nullptr) {
        c.reply.integer(-2);
    } else if (e->expires_at_ms == 0) {
        c.reply.integer(-1);
    } else {
        int64_t left = e->expires_at_ms - c.now;
        c.reply.integer(millis ? left : (left + 500) / 1000);
    }
    return After::Continue;
}

After ttl(Call& c) { return ttl_with(c, false); }
After pttl(Call& c) { return ttl_with(c, true); }

After dbsize(Call& c) {
    c.reply.integer(static_cast<int64_t>(c.store.size()));
    return After::Continue;
}

After flushall(Call& c) {
    if (c.args.size() > 2 || (c.args.size() == 2 && !iequals(c.args[1], "async") && !iequals(c.args[1], "sync"))) {
        c.reply.error("ERR syntax error");
        return After::Continue;
    }
    c.store.clear();
    c.reply.ok();
    return After::Continue;
}

After select(Call& c) {
    int64_t db = 0;
    if (!to_int64(c.args[1], db)) return not_an_integer(c);
    if (db != 0) {
        c.reply.error("ERR DB index is out of range");
    } else {
        c.reply.ok();
    }
    return After::Continue;
}

After info(Call& c) {
    auto n = [](uint64_t v) { return std::to_string(v); };
    std::string s = cat({"# Server\r\n",
                         "redis_version:7.0.0\r\n",  // the protocol level clients expect; this is not Redis
                         "server_name:pollux-kv\r\nredis_mode:standalone\r\narch_bits:64\r\n",
                         "tcp_port:", n(static_cast<uint64_t>(c.info.port)), "\r\n",
                         "uptime_in_seconds:", n(static_cast<uint64_t>((c.now - c.info.started_ms) / 1000)),
                         "\r\n\r\n# Clients\r\nconnected_clients:", n(c.info.connected_clients),
                         "\r\n\r\n# Persistence\r\nloading:0\r\naof_enabled:0\r\n\r\n",
                         "# Stats\r\ntotal_connections_received:", n(c.info.connections_received),
                         "\r\ntotal_commands_processed:", n(c.info.commands),
                         "\r\n\r\n# Replication\r\nrole:master\r\nconnected_slaves:0\r\n\r\n# Keyspace\r\n"});
    if (c.store.size() > 0) {
        s += cat({"db0:keys=", n(c.store.size()), ",expires=", n(c.store.expiring()), ",avg_ttl=0\r\n"});
    }
    c.reply.bulk(s);
    return After::Continue;
}

size_t command_count();

// COMMAND answers just enough for clients that ask on connect (redis-cli asks COMMAND DOCS):
// an empty table makes them fall back to their built-in help.
After command(Call& c) {
    if (c.args.size() >= 2 && iequals(c.args[1], "count")) {
        c.reply.integer(static_cast<int64_t>(command_count()));
    } else {
        c.reply.array(0);
    }
    return After::Continue;
}

// CONFIG GET: redis-benchmark reads "save" and "appendonly" to print them.
After config(Call& c) {
    if (!iequals(c.args[1], "get") || c.args.size() != 3) {
        c.reply.error("ERR CONFIG supports only GET save|appendonly here");
        return After::Continue;
    }
    if (iequals(c.args[2], "save") || iequals(c.args[2], "appendonly")) {
        c.reply.array(2);
        c.reply.bulk(iequals(c.args[2], "save") ? "save" : "appendonly");
        c.reply.bulk(iequals(c.args[2], "save") ? "" : "no");
    } else {
        c.reply.array(0);
    }
    return After::Continue;
}

After client(Call& c) {
    if (iequals(c.args[1], "setname") || iequals(c.args[1], "setinfo")) {
        c.reply.ok();
    } else {
        c.reply.error(cat({"ERR unknown subcommand '", c.args[1], "'."}));
    }
    return After::Continue;
}

After quit(Call& c) {
    c.reply.ok();
    return After::Close;
}

// Like Redis: no reply; the connection closes as the server goes down (redis-cli counts that
// as success).
After shutdown(Call&) { return After::Shutdown; }

constexpr Command kCommands[] = {
    {"ping", -1, ping},     {"echo", 2, echo},          {"get", 2, get},           {"set", -3, set},
    {"del", -2, del},       {"exists", -2, exists},     {"incr", 2, incr},         {"decr", 2, decr},
    {"incrby", 3, incrby},  {"decrby", 3, decrby},      {"mget", -2, mget},        {"mset", -3, mset},
    {"expire", -3, expire}, {"pexpire", -3, pexpire},   {"ttl", 2, ttl},           {"pttl", 2, pttl},
    {"dbsize", 1, dbsize},  {"flushall", -1, flushall}, {"flushdb", -1, flushall}, {"select", 2, select},
    {"info", -1, info},     {"command", -1, command},   {"config", -2, config},    {"client", -2, client},
    {"quit", -1, quit},     {"shutdown", -1, shutdown},
};

size_t command_count() { return sizeof kCommands / sizeof kCommands[0]; }

void unknown_command(Call& c) {
    // Redis 7's wording, each argument quoted and the list cut near 128 bytes.
    std::string msg = cat({"ERR unknown command '", c.args[0].substr(0, 128), "', with args beginning with: "});
    std::string listed;
    for (size_t i = 1; i < c.args.size() && listed.size() < 128; ++i) {
        listed += cat({"'", c.args[i].substr(0, 128 - listed.size()), "' "});
    }
    c.reply.error(msg + listed);
}

}  // namespace

After execute(const std::vector<std::string_view>& args, KvStore& store, ServerInfo& info, int64_t now_ms,
              apps::Buffer& out) {
    Call c{args, store, info, now_ms, Reply(out)};
    ++info.commands;
    for (const Command& cmd : kCommands) {
        if (!iequals(cmd.name, args[0])) continue;
        int n = static_cast<int>(args.size());
        if ((cmd.arity > 0 && n != cmd.arity) || (cmd.arity < 0 && n < -cmd.arity)) {
            c.reply.error(cat({"ERR wrong number of arguments for '", cmd.name, "' command"}));
            return After::Continue;
        }
        return cmd.handler(c);
    }
    unknown_command(c);
    return After::Continue;
}

}  // namespace kv
