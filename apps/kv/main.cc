// kv: a Redis-protocol (RESP2) key-value server with the string commands of commands.cc,
// inline commands and pipelining. One event loop thread.
#include <stdio.h>
#include <unistd.h>

#include <memory>

#include "../common/event_loop.h"
#include "../common/options.h"
#include "../common/shutdown.h"
#include "../common/tcp_server.h"
#include "commands.h"
#include "kv_store.h"
#include "resp_parser.h"

namespace {

struct Database {
    kv::KvStore store;
    kv::ServerInfo info;
    kv::RespLimits limits;
};

class KvConnection : public apps::StreamConnection {
public:
    KvConnection(apps::TcpServer& server, int fd, Database& db) : StreamConnection(server, fd), db_(db) {}

protected:
    void on_input() override { run_commands(); }
    void on_output_drained() override { run_commands(); }

private:
    // Runs every whole command the input holds, in order; the replies queue up in out_.
    void run_commands() {
        std::string_view in = in_.view();
        size_t used = 0;
        while (!closing() && out_.size() < kOutputHighWater) {
            kv::RespParse p = kv::parse_resp_command(in.substr(used), db_.limits, command_);
            if (p.state == kv::RespParse::State::Incomplete) break;
            if (p.state == kv::RespParse::State::Error) {
                // As Redis: the error, then the connection is closed (the stream is lost).
                char msg[96];
                snprintf(msg, sizeof msg, p.error, p.got);
                out_.append("-ERR ");
                out_.append(msg);
                out_.append("\r\n");
                close_after_flush();
                used = in.size();
                break;
            }
            used += p.consumed;
            if (command_.args.empty()) continue;
            db_.info.connections_received = server_.counters().accepted;
            db_.info.connected_clients = server_.counters().active;
            kv::After after = kv::execute(command_.args, db_.store, db_.info, server_.loop().now_ms(), out_);
            if (after == kv::After::Close) close_after_flush();
            if (after == kv::After::Shutdown) {
                apps::request_shutdown();
                close();
                return;
            }
        }
        in_.consume(used);
    }

    Database& db_;
    kv::RespCommand command_;
};

}  // namespace

int main(int argc, char** argv) {
    apps::block_shutdown_signals();
    int port = 6379;
    int max_connections = 10000;
    int status = apps::parse_flags(
        argc, argv,
        "Redis-protocol (RESP2) in-memory key-value server: PING ECHO GET SET (EX PX NX XX KEEPTTL GET)\n"
        "DEL EXISTS INCR DECR INCRBY DECRBY MGET MSET EXPIRE PEXPIRE TTL PTTL DBSIZE FLUSHALL FLUSHDB\n"
        "SELECT 0, INFO, COMMAND, CONFIG GET, CLIENT SETNAME, QUIT, SHUTDOWN; inline commands and\n"
        "pipelining. Ends on SIGINT/SIGTERM or the SHUTDOWN command (redis-cli shutdown), as Redis.\n"
        "Nothing is persisted.",
        {{"port", apps::Flag::Kind::Int, &port, "TCP port (default 6379)"},
         {"max-connections", apps::Flag::Kind::Int, &max_connections,
          "connections beyond this are closed at once (default 10000, 0 = no limit)"}});
    if (status >= 0) return status;
    if (port == 0 || port > 65535) {
        fprintf(stderr, "kv: --port is 1..65535\n");
        return 2;
    }

    int shutdown_fd = apps::start_shutdown_watch();
    apps::EventLoop loop;
    if (shutdown_fd < 0 || !loop.open(shutdown_fd)) {
        perror("kv: event loop");
        return 1;
    }
    Database db;
    db.info.port = port;
    db.info.started_ms = loop.now_ms();
    apps::TcpServer server(loop,
                           [&db](apps::TcpServer& s, int fd) { return std::make_unique<KvConnection>(s, fd, db); });
    if (!server.start(static_cast<uint16_t>(port), static_cast<uint32_t>(max_connections), 0)) {
        perror("kv: listen");
        return 1;
    }
    // Active expiry, ten times a second, bounded so that a mass expiry cannot stall the loop.
    apps::PeriodicTimer expiry([&] { db.store.expire_due(loop.now_ms(), 10000); });
    if (!expiry.start(loop, 100)) {
        perror("kv: timerfd");
        return 1;
    }
    fprintf(stderr, "kv: serving RESP on port %d\n", port);
    loop.run();
    fprintf(stderr, "kv: shutting down (%llu commands, %zu keys dropped)\n",
            static_cast<unsigned long long>(db.info.commands), db.store.size());
    server.close_all();
    apps::stop_shutdown_watch();
    return 0;
}
