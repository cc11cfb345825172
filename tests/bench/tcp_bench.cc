// TCP benchmarks: Linux's loopback TCP against Pollux's lwIP TCP between two in-process hosts on
// a clean in-memory wire, in one binary and one run. Backends: tcp_backends.h; connection sets:
// tcp_conns.h; the table: run-tcp-bench; what each row means: README.md.
//
// Every row runs with wall-clock time: each one has at least two threads of ours (Pollux adds its
// net-rx thread), so no single thread's CPU time is the cost. Rates are computed here from the
// timed loop's own clock and set as plain counters, so they do not depend on which time Google
// Benchmark divides by.
#include <benchmark/benchmark.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "fd_holder.h"
#include "tcp_conns.h"

namespace tcpbench {

namespace {

constexpr size_t kChunk = 64 * 1024;
constexpr size_t kMessage = 64;
constexpr long kMemoryConns = 2000;
constexpr long kWarmUpConns = 64;

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Every thread of the process, Pollux's net-rx and timer threads included: the CPU a round trip
// costs, which unlike its wall time does not grow while other work on the host delays a wake-up.
double process_cpu_ns() {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// --- 1. bulk ------------------------------------------------------------------------------------

// A writer thread sends 64 KiB chunks; this thread reads up to 64 KiB per iteration.
template <class B>
void bulk(benchmark::State& state) {
    Pair<B> pair;
    if (std::string err = pair.open(); !err.empty()) return state.SkipWithError(err.c_str());
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        std::vector<char> chunk(kChunk, 'x');
        while (!stop.load(std::memory_order_relaxed)) {
            if (B::write(pair.client, chunk.data(), chunk.size()) < 0) break;
        }
        B::shutdown(pair.client, SHUT_WR);
    });
    std::vector<char> buf(kChunk);
    uint64_t bytes = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (auto _ : state) {
        long n = B::read(pair.server, buf.data(), buf.size());
        if (n <= 0) {
            state.SkipWithError(failed("read", n).c_str());
            break;
        }
        bytes += static_cast<uint64_t>(n);
    }
    double elapsed = seconds_since(t0);
    stop = true;
    while (B::read(pair.server, buf.data(), buf.size()) > 0) {
    }
    writer.join();
    state.SetBytesProcessed(static_cast<int64_t>(bytes));
    state.counters["Gbit/s"] = static_cast<double>(bytes) * 8 / elapsed / 1e9;
}

// --- 2. and 3. request/response -----------------------------------------------------------------

// One round trip per iteration: write 64 bytes, read the 64 echoed.
template <class B>
bool round_trips(benchmark::State& state, int fd, uint64_t& done) {
    char msg[kMessage] = {};
    for (auto _ : state) {
        if (B::write(fd, msg, sizeof(msg)) != static_cast<long>(sizeof(msg)) || !read_full<B>(fd, msg, sizeof(msg))) {
            state.SkipWithError("request/response failed");
            return false;
        }
        ++done;
    }
    return true;
}

// One request outstanding per connection; one iteration handles one epoll_wait's worth of
// responses, each answered at once with the connection's next request.
template <class B>
bool pipelined_round_trips(benchmark::State& state, const std::vector<int>& clients, uint64_t& done) {
    long ep = B::epoll_create();
    std::vector<size_t> got(clients.size());
    char msg[kMessage] = {};
    for (size_t i = 0; i < clients.size(); ++i) {
        B::epoll_ctl(static_cast<int>(ep), EPOLL_CTL_ADD, clients[i], EPOLLIN, i);
        B::write(clients[i], msg, sizeof(msg));
    }
    epoll_event evs[64];
    bool ok = true;
    for (auto _ : state) {
        long k = B::epoll_wait(static_cast<int>(ep), evs, 64, 1000);
        if (k <= 0) {
            state.SkipWithError(failed("epoll_wait (no response within 1 s)", k).c_str());
            ok = false;
            break;
        }
        for (long e = 0; e < k; ++e) {
            size_t i = evs[e].data.u64;
            long r = B::read(clients[i], msg, kMessage - got[i]);
            if (r == -EAGAIN) continue;
            if (r <= 0) {
                state.SkipWithError(failed("read", r).c_str());
                B::close(static_cast<int>(ep));
                return false;
            }
            got[i] += static_cast<size_t>(r);
            if (got[i] < kMessage) continue;
            got[i] = 0;
            ++done;
            B::write(clients[i], msg, sizeof(msg));
        }
    }
    B::close(static_cast<int>(ep));
    return ok;
}

template <class B>
void request_response(benchmark::State& state, int n_conns) {
    EchoConns<B> conns;
    if (std::string err = conns.open(n_conns); !err.empty()) return state.SkipWithError(err.c_str());
    uint64_t done = 0;
    auto t0 = std::chrono::steady_clock::now();
    double cpu0 = process_cpu_ns();
    bool ok = n_conns == 1 ? round_trips<B>(state, conns.clients()[0], done)
                           : pipelined_round_trips<B>(state, conns.clients(), done);
    if (!ok || done == 0) return;
    state.counters["cpu_ns/rt"] = (process_cpu_ns() - cpu0) / static_cast<double>(done);
    state.counters["req/s"] = static_cast<double>(done) / seconds_since(t0);
}

// --- 4. memory per idle connection --------------------------------------------------------------

// What the process and the kernel hold. Linux keeps its sockets in the kernel: the process RSS
// barely moves, so the kernel's own counters are read too. Slab is machine-wide.
struct Usage {
    long rss_bytes = 0;
    long sockets_used = 0;   // /proc/net/sockstat "sockets: used"
    long tcp_mem_pages = 0;  // /proc/net/sockstat "TCP: ... mem" (buffer pages, tcp_memory_allocated)
    long slab_kib = 0;       // /proc/meminfo "Slab:"
    long slab_objects_bytes = -1;  // /proc/slabinfo: sum of active objects x object size; -1 unreadable
};

Usage usage() {
    Usage u;
    long pages = 0;
    if (FILE* f = std::fopen("/proc/self/statm", "re")) {
        if (std::fscanf(f, "%ld %ld", &pages, &u.rss_bytes) == 2) u.rss_bytes *= sysconf(_SC_PAGESIZE);
        std::fclose(f);
    }
    char line[256];
    if (FILE* f = std::fopen("/proc/net/sockstat", "re")) {
        while (std::fgets(line, sizeof(line), f) != nullptr) {
            long inuse, orphan, tw, alloc;
            std::sscanf(line, "sockets: used %ld", &u.sockets_used);
            std::sscanf(line, "TCP: inuse %ld orphan %ld tw %ld alloc %ld mem %ld", &inuse, &orphan, &tw, &alloc,
                        &u.tcp_mem_pages);
        }
        std::fclose(f);
    }
    if (FILE* f = std::fopen("/proc/meminfo", "re")) {
        while (std::fgets(line, sizeof(line), f) != nullptr) std::sscanf(line, "Slab: %ld kB", &u.slab_kib);
        std::fclose(f);
    }
    // Objects in use, not pages: Slab keeps the pages a freed set leaves behind, so the next set
    // would look almost free. Readable by root only.
    if (FILE* f = std::fopen("/proc/slabinfo", "re")) {
        u.slab_objects_bytes = 0;
        char name[64];
        long active, total, size;
        while (std::fgets(line, sizeof(line), f) != nullptr) {
            if (std::sscanf(line, "%63s %ld %ld %ld", name, &active, &total, &size) == 4) {
                u.slab_objects_bytes += active * size;
            }
        }
        std::fclose(f);
    }
    return u;
}

// One iteration opens kMemoryConns idle connections (both ends in this process) and reads the
// usage before and after. A warm-up set, built and freed once per backend, pays the one-time
// costs first (allocator arenas, the first pages of the descriptor tables, lwIP's first pools).
template <class B>
void idle_memory(benchmark::State& state) {
    static bool warmed = false;
    if (!warmed) {
        IdleSet<B> warm;
        if (std::string err = warm.build(kWarmUpConns, false); !err.empty()) return state.SkipWithError(err.c_str());
        warmed = true;
    }
    Usage before, after;
    double setup = 0;
    for (auto _ : state) {
        IdleSet<B> set;
        before = usage();
        if (std::string err = set.build(kMemoryConns, false); !err.empty()) return state.SkipWithError(err.c_str());
        after = usage();
        setup = set.setup_seconds();
    }
    double n = kMemoryConns;
    state.counters["rss_B/conn"] = static_cast<double>(after.rss_bytes - before.rss_bytes) / n;
    state.counters["tcp_mem_B/conn"] =
        static_cast<double>(after.tcp_mem_pages - before.tcp_mem_pages) * static_cast<double>(sysconf(_SC_PAGESIZE)) / n;
    state.counters["slab_B/conn"] = static_cast<double>(after.slab_kib - before.slab_kib) * 1024 / n;
    if (before.slab_objects_bytes >= 0 && after.slab_objects_bytes >= 0) {
        state.counters["slab_objects_B/conn"] =
            static_cast<double>(after.slab_objects_bytes - before.slab_objects_bytes) / n;
    }
    state.counters["sockets_used_delta"] = static_cast<double>(after.sockets_used - before.sockets_used);
    state.counters["setup_us/conn"] = setup * 1e6 / n;
}

// --- 5. one active connection among K idle ones ------------------------------------------------

// The K-connection set of the last row, kept across its repetitions and the rows after it with
// the same (backend, K); only one exists at a time. Linux's server ends live in the fd holder.
struct CurrentSet {
    const char* backend = nullptr;
    long k = 0;
    std::string error;
    void* set = nullptr;
    void (*free)(void*) = nullptr;
} current;

void release_current_set() {
    if (current.free != nullptr) current.free(current.set);
    current = CurrentSet{};
}

template <class B>
IdleSet<B>* idle_set(long k, std::string& error) {
    if (current.backend != B::kName || current.k != k) {
        release_current_set();
        auto* set = new IdleSet<B>;
        current.backend = B::kName;
        current.k = k;
        current.set = set;
        current.free = [](void* p) { delete static_cast<IdleSet<B>*>(p); };
        current.error = set->build(k, std::is_same_v<B, Linux>);
        std::fprintf(stderr, "tcp-bench: %s: %ld idle connections %s in %.1f s (RSS %ld MiB)\n", B::kName, k,
                     current.error.empty() ? "open" : current.error.c_str(), set->setup_seconds(),
                     usage().rss_bytes >> 20);
    }
    error = current.error;
    return static_cast<IdleSet<B>*>(current.set);
}

// Round trips on one extra connection, made after the K idle ones.
template <class B>
void rr_idle(benchmark::State& state, long k) {
    std::string err;
    IdleSet<B>* set = idle_set<B>(k, err);
    if (!err.empty()) return state.SkipWithError(err.c_str());
    EchoConns<B> conns;
    if (err = conns.open(1); !err.empty()) return state.SkipWithError(err.c_str());
    uint64_t done = 0;
    double cpu0 = process_cpu_ns();
    if (!round_trips<B>(state, conns.clients()[0], done) || done == 0) return;
    state.counters["cpu_ns/rt"] = (process_cpu_ns() - cpu0) / static_cast<double>(done);
    state.counters["idle"] = static_cast<double>(k);
    state.counters["setup_s"] = set->setup_seconds();
}

// Diagnostic, Pollux only (Linux's server ends are in the holder): round trips that take the K
// connections in turn, each from this thread (client write, server read + write, client read).
// Each segment is then for the connection used longest ago: with lwIP's own move-to-front PCB
// list that is its tail, a walk over 2K PCBs per segment; with the connection index
// (netstack/lwip/tcp_index.cc) it costs what the one-active-connection row does, and touches a
// cold PCB each time, the realistic case for a server with many clients.
template <class B>
void rr_cycle(benchmark::State& state, long k) {
    std::string err;
    IdleSet<B>* set = idle_set<B>(k, err);
    if (!err.empty()) return state.SkipWithError(err.c_str());
    char msg[kMessage] = {};
    double cpu0 = process_cpu_ns();
    for (auto _ : state) {
        size_t i = set->next_to_cycle++ % set->size();
        int c = set->clients()[i], s = set->servers()[i];
        if (B::write(c, msg, kMessage) != static_cast<long>(kMessage) || !read_full<B>(s, msg, kMessage) ||
            B::write(s, msg, kMessage) != static_cast<long>(kMessage) || !read_full<B>(c, msg, kMessage)) {
            return state.SkipWithError("request/response failed");
        }
    }
    state.counters["cpu_ns/rt"] = (process_cpu_ns() - cpu0) / static_cast<double>(state.iterations());
    state.counters["idle"] = static_cast<double>(k);
}

// CPU time the whole process spends per second of wall time while K connections sit idle and
// nothing is sent: what merely holding connections costs. Linux arms no timer for an idle
// connection without keepalive (and its timers would run in softirq, not charged to the
// process); lwIP's TCP timers visited every pcb every TCP_TMR_INTERVAL until the timer list
// (patches/lwip/0011).
template <class B>
void idle_cpu(benchmark::State& state, long k) {
    std::string err;
    IdleSet<B>* set = idle_set<B>(k, err);
    if (!err.empty()) return state.SkipWithError(err.c_str());
    // Opening the set leaves a moment of work behind (the last handshakes, memory given back).
    sleep(1);
    double cpu = 0, wall = 0;
    for (auto _ : state) {
        timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        double cpu0 = process_cpu_ns();
        usleep(500 * 1000);
        cpu += process_cpu_ns() - cpu0;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        wall += static_cast<double>(t1.tv_sec - t0.tv_sec) * 1e9 + static_cast<double>(t1.tv_nsec - t0.tv_nsec);
    }
    state.counters["cpu_us/s"] = cpu / wall * 1e6;
    state.counters["idle"] = static_cast<double>(set->size());
    if constexpr (std::is_same_v<B, Pollux>) state.counters["timer_armed"] = static_cast<double>(pollux_timer_armed());
}

// --- registration -------------------------------------------------------------------------------

// A Linux socket here must be the host's own: a Pollux shim linked in by mistake would make
// "linux" rows time Pollux.
bool linux_sockets_are_linux() {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char path[64], target[64] = {};
    std::snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    bool ok = fd >= 0 && readlink(path, target, sizeof(target) - 1) > 0 && std::strncmp(target, "socket:[", 8) == 0;
    if (fd >= 0) close(fd);
    return ok;
}

template <class B, class... Args>
benchmark::internal::Benchmark* add(const std::string& row, void (*fn)(benchmark::State&, Args...), Args... args) {
    return benchmark::RegisterBenchmark((row + "/" + B::kName).c_str(), fn, args...)->UseRealTime();
}

void register_rows() {
    // Linux and Pollux alternate, so both sides of a row meet the same moment of a noisy host.
    add<Linux>("bulk", bulk<Linux>)->MinTime(1.0);
    add<Pollux>("bulk", bulk<Pollux>)->MinTime(1.0);
    for (int n : {1, 64}) {
        add<Linux>("rr/" + std::to_string(n), request_response<Linux>, n)->MinTime(0.5);
        add<Pollux>("rr/" + std::to_string(n), request_response<Pollux>, n)->MinTime(0.5);
    }
    std::string mem = "idle_memory/" + std::to_string(kMemoryConns);
    add<Linux>(mem, idle_memory<Linux>)->Iterations(1);
    add<Pollux>(mem, idle_memory<Pollux>)->Iterations(1);
    // Linux stops at 10 000: 100 000 would need 200 000 descriptors (this process and the
    // holder), far over RLIMIT_NOFILE (20 000), which this container cannot raise.
    for (long k : {10L, 10000L, 100000L}) {
        std::string row = std::to_string(k);
        // Each side's set is built once for its rows: idle_cpu first, on connections that have
        // never carried data (the cycling row leaves 100 000 delayed ACKs due at one timer tick,
        // a burst the wire's queue drops, and seconds of retransmissions after it).
        std::vector<benchmark::internal::Benchmark*> rows;
        if (k <= 10000) {
            add<Linux>("idle_cpu/" + row, idle_cpu<Linux>, k)->Iterations(4);
            rows.push_back(add<Linux>("rr_idle/" + row, rr_idle<Linux>, k));
        }
        add<Pollux>("idle_cpu/" + row, idle_cpu<Pollux>, k)->Iterations(4);
        rows.push_back(add<Pollux>("rr_idle/" + row, rr_idle<Pollux>, k));
        rows.push_back(add<Pollux>("rr_cycle/" + row, rr_cycle<Pollux>, k));
        for (auto* b : rows) {
            b->MinTime(0.5);
            if (k >= 10000) b->Repetitions(3);  // over the command line's count: these are slow
        }
    }
}

}  // namespace

}  // namespace tcpbench

int main(int argc, char** argv) {
    // Before the first Pollux call reads it: Pollux's descriptors get a number space of their own,
    // so 200 000 of them cost no host descriptors (kernel/hosted/platform_linux.cc).
    setenv("POLLUX_FD_NUMBERS", "private", 1);
    // Forked first: the holder must be a copy of a process with one thread.
    if (!tcpbench::fd_holder::start()) {
        std::perror("tcp-bench: starting the descriptor holder");
        return 2;
    }
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    if (!tcpbench::linux_sockets_are_linux()) {
        std::fprintf(stderr, "tcp-bench: socket() does not give a host socket; is a Pollux shim linked in?\n");
        return 2;
    }
    tcpbench::setup_pollux_hosts();
    tcpbench::register_rows();
    benchmark::RunSpecifiedBenchmarks();
    tcpbench::release_current_set();
    benchmark::Shutdown();
    return 0;
}
