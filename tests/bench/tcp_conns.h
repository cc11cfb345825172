// Connection sets for tcp-bench, written once over a backend (tcp_backends.h).
//  - EchoConns: n connections whose server ends one thread echoes from an epoll loop.
//  - IdleSet: n established connections that carry nothing, built the way a server meets a
//    crowd: nonblocking connects in batches, accepts from an epoll (the listen backlog is capped
//    by somaxconn, 4096 here, so a batch must be accepted before the next one is started).
// Errors are returned as text for SkipWithError: a row that cannot build its set says why.
#pragma once

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "fd_holder.h"
#include "tcp_backends.h"

namespace tcpbench {

inline std::string failed(const char* what, long r) {
    return std::string(what) + ": " + (r < 0 ? std::strerror(static_cast<int>(-r)) : std::to_string(r));
}

// A listener, one client connected to it and the accepted end, all blocking.
template <class B>
struct Pair {
    int listener = -1, client = -1, server = -1;
    Pair() = default;
    Pair(const Pair&) = delete;
    Pair& operator=(const Pair&) = delete;
    ~Pair() {
        for (int fd : {client, server, listener}) {
            if (fd >= 0) B::close(fd);
        }
    }
    std::string open() {
        long l = B::socket(0);
        if (l < 0) return failed("socket", l);
        listener = static_cast<int>(l);
        if (long r = B::bind(listener, B::server_addr(0)); r < 0) return failed("bind", r);
        if (long r = B::listen(listener, 1); r < 0) return failed("listen", r);
        long c = B::socket(0);
        if (c < 0) return failed("socket", c);
        client = static_cast<int>(c);
        if (long r = B::connect(client, B::server_addr(static_cast<uint16_t>(B::local_port(listener)))); r < 0)
            return failed("connect", r);
        long s = B::accept(listener, 0);
        if (s < 0) return failed("accept", s);
        server = static_cast<int>(s);
        return {};
    }
};

template <class B>
class EchoConns {
public:
    EchoConns() = default;
    EchoConns(const EchoConns&) = delete;
    EchoConns& operator=(const EchoConns&) = delete;
    // Resetting the clients ends the server thread: it stops when every server end has.
    ~EchoConns() {
        for (int c : clients_) close_with_reset<B>(c);
        if (server_.joinable()) server_.join();
        if (listener_ >= 0) B::close(listener_);
    }

    // Blocking clients with TCP_NODELAY (as latency benchmarks set it, on both sides).
    std::string open(int n) {
        long l = B::socket(0);
        if (l < 0) return failed("socket", l);
        listener_ = static_cast<int>(l);
        if (long r = B::bind(listener_, B::server_addr(0)); r < 0) return failed("bind", r);
        if (long r = B::listen(listener_, n); r < 0) return failed("listen", r);
        long port = B::local_port(listener_);
        long ep = B::epoll_create();
        if (ep < 0) return failed("epoll_create1", ep);
        std::vector<int> servers;
        for (int i = 0; i < n; ++i) {
            long c = B::socket(0);
            if (c < 0) return failed("socket", c);
            clients_.push_back(static_cast<int>(c));
            if (long r = B::connect(static_cast<int>(c), B::server_addr(static_cast<uint16_t>(port))); r < 0)
                return failed("connect", r);
            long s = B::accept(listener_, SOCK_NONBLOCK);
            if (s < 0) return failed("accept", s);
            set_int<B>(static_cast<int>(c), IPPROTO_TCP, TCP_NODELAY, 1);
            set_int<B>(static_cast<int>(s), IPPROTO_TCP, TCP_NODELAY, 1);
            B::epoll_ctl(static_cast<int>(ep), EPOLL_CTL_ADD, static_cast<int>(s), EPOLLIN, static_cast<uint64_t>(s));
        }
        server_ = std::thread(serve, static_cast<int>(ep), n);
        return {};
    }

    const std::vector<int>& clients() const { return clients_; }

private:
    static void serve(int ep, int open) {
        char buf[4096];
        epoll_event evs[64];
        while (open > 0) {
            long k = B::epoll_wait(ep, evs, 64, -1);
            for (long i = 0; i < k; ++i) {
                int fd = static_cast<int>(evs[i].data.u64);
                long r = B::read(fd, buf, sizeof(buf));
                if (r == -EAGAIN) continue;
                if (r <= 0) {
                    B::epoll_ctl(ep, EPOLL_CTL_DEL, fd, 0, 0);
                    B::close(fd);
                    --open;
                    continue;
                }
                for (long done = 0; done < r;) {
                    long w = B::write(fd, buf + done, static_cast<size_t>(r - done));
                    if (w == -EAGAIN) std::this_thread::yield();
                    else if (w < 0) break;
                    else done += w;
                }
            }
        }
        B::close(ep);
    }

    int listener_ = -1;
    std::vector<int> clients_;
    std::thread server_;
};

template <class B>
class IdleSet {
public:
    IdleSet() = default;
    IdleSet(const IdleSet&) = delete;
    IdleSet& operator=(const IdleSet&) = delete;
    ~IdleSet() { destroy(); }

    // n idle connections; with hand_off the server ends go to the fd holder (Linux only).
    std::string build(long n, bool hand_off) {
        auto start = std::chrono::steady_clock::now();
        handed_off_ = hand_off;
        bool explicit_ports = B::kNeedsExplicitPorts && n > kEphemeralEnough;
        long n_listeners = explicit_ports ? (n + kPerListener - 1) / kPerListener : 1;
        long ep = B::epoll_create();
        if (ep < 0) return failed("epoll_create1", ep);
        ep_ = static_cast<int>(ep);
        std::vector<sockaddr_in> targets;
        for (long j = 0; j < n_listeners; ++j) {
            long l = B::socket(SOCK_NONBLOCK);
            if (l < 0) return failed("socket", l);
            listeners_.push_back(static_cast<int>(l));
            if (long r = B::bind(static_cast<int>(l), B::server_addr(0)); r < 0) return failed("bind", r);
            if (long r = B::listen(static_cast<int>(l), kBacklog); r < 0) return failed("listen", r);
            targets.push_back(B::server_addr(static_cast<uint16_t>(B::local_port(static_cast<int>(l)))));
            B::epoll_ctl(ep_, EPOLL_CTL_ADD, static_cast<int>(l), EPOLLIN, 0);
        }
        long accepted = 0;
        std::vector<int> batch;
        epoll_event evs[16];
        for (long base = 0; base < n; base += kBatch) {
            long end = std::min(n, base + kBatch);
            for (long i = base; i < end; ++i) {
                long c = B::socket(SOCK_NONBLOCK);
                if (c < 0) return failed("socket", c);
                clients_.push_back(static_cast<int>(c));
                if (explicit_ports) {
                    // Listeners take ephemeral ports (0xc000 up); clients stay below them.
                    set_int<B>(static_cast<int>(c), SOL_SOCKET, SO_REUSEADDR, 1);
                    auto port = static_cast<uint16_t>(kFirstClientPort + i % kPerListener);
                    if (long r = B::bind(static_cast<int>(c), B::client_addr(port)); r < 0) return failed("bind", r);
                }
                long r = B::connect(static_cast<int>(c), targets[static_cast<size_t>(i / kPerListener)]);
                if (r != 0 && r != -EINPROGRESS) return failed("connect", r);
                // The cycling row sends 64-byte messages on these; Nagle would hold each behind
                // the last one's delayed ACK.
                set_int<B>(static_cast<int>(c), IPPROTO_TCP, TCP_NODELAY, 1);
            }
            for (int rounds = 0; accepted < end && rounds < kAcceptRounds; ++rounds) {
                B::epoll_wait(ep_, evs, 16, 10);
                for (int l : listeners_) {
                    for (long s; (s = B::accept(l, SOCK_NONBLOCK)) >= 0; ++accepted) {
                        set_int<B>(static_cast<int>(s), IPPROTO_TCP, TCP_NODELAY, 1);
                        batch.push_back(static_cast<int>(s));
                    }
                }
            }
            if (accepted < end) return "only " + std::to_string(accepted) + " of " + std::to_string(n) + " accepted";
            if (n >= kLogProgressFrom && end % kLogProgressEvery == 0) {
                std::fprintf(stderr, "tcp-bench: %s: %ld of %ld idle connections open after %.1f s\n", B::kName, end,
                             n, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
            }
            if (hand_off) {
                if (!fd_holder::give(batch)) return "passing descriptors to the holder failed";
            } else {
                servers_.insert(servers_.end(), batch.begin(), batch.end());
                batch.clear();
            }
        }
        setup_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        return {};
    }

    // Newest first: lwIP keeps new and recently used PCBs at the head of its list, so each
    // removal finds its PCB near the head instead of walking the whole list.
    void destroy() {
        for (auto it = clients_.rbegin(); it != clients_.rend(); ++it) close_with_reset<B>(*it);
        for (auto it = servers_.rbegin(); it != servers_.rend(); ++it) close_with_reset<B>(*it);
        for (int l : listeners_) B::close(l);
        if (ep_ >= 0) B::close(ep_);
        if (handed_off_) fd_holder::release_all();
        clients_.clear();
        servers_.clear();
        listeners_.clear();
        ep_ = -1;
        handed_off_ = false;
        malloc_trim(0);  // give the freed sockets back, so the next set is built from fresh pages
    }

    size_t size() const { return clients_.size(); }
    const std::vector<int>& clients() const { return clients_; }
    const std::vector<int>& servers() const { return servers_; }
    double setup_seconds() const { return setup_seconds_; }

    size_t next_to_cycle = 0;  // rr_cycle's turn, kept across its runs on this set

private:
    static constexpr long kBatch = 500;
    static constexpr int kBacklog = 4096;  // net.core.somaxconn caps it on Linux
    static constexpr int kAcceptRounds = 2000;  // of 10 ms each: a batch gets 20 s
    static constexpr long kEphemeralEnough = 12000;
    static constexpr long kPerListener = 48000;
    static constexpr long kFirstClientPort = 1024;
    static constexpr long kLogProgressFrom = 20000, kLogProgressEvery = 5000;

    std::vector<int> listeners_, clients_, servers_;
    int ep_ = -1;
    bool handed_off_ = false;
    double setup_seconds_ = 0;
};

}  // namespace tcpbench
