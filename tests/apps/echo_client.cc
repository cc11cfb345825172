// Echo check for the apps test: opens N connections to HOST:PORT, sends BYTES of seeded
// pseudo-random data on each (all at once, through one epoll), and verifies every byte that
// comes back. Plain Linux sockets. Exit 0 only if every connection got its data back intact
// before the deadline.
//
// usage: echo-client HOST PORT [CONNECTIONS=64] [BYTES=262144] [SECONDS=60]
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

namespace {

struct Conn {
    int fd = -1;
    uint64_t seed = 0;
    size_t sent = 0;
    size_t received = 0;
};

// The byte at offset i of connection c: a cheap mix so that shifted or swapped data differs.
uint8_t byte_at(uint64_t seed, size_t i) {
    uint64_t x = seed + i * 0x9e3779b97f4a7c15ull;
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    return static_cast<uint8_t>(x >> 32);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: echo-client HOST PORT [CONNECTIONS] [BYTES] [SECONDS]\n");
        return 2;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(atoi(argv[2])));
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1) return 2;
    int nconn = argc > 3 ? atoi(argv[3]) : 64;
    size_t bytes = argc > 4 ? strtoul(argv[4], nullptr, 10) : 262144;
    int seconds = argc > 5 ? atoi(argv[5]) : 60;

    int ep = epoll_create1(0);
    std::vector<Conn> conns(static_cast<size_t>(nconn));
    for (int i = 0; i < nconn; ++i) {
        Conn& c = conns[static_cast<size_t>(i)];
        c.seed = 0x5eed0000u + static_cast<uint64_t>(i);
        c.fd = socket(AF_INET, SOCK_STREAM, 0);
        if (c.fd < 0 || connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
            fprintf(stderr, "echo-client: connect %d: %s\n", i, strerror(errno));
            return 1;
        }
        fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLOUT;
        ev.data.u32 = static_cast<uint32_t>(i);
        epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    }
    time_t deadline = time(nullptr) + seconds;
    int done = 0;
    std::vector<uint8_t> buf(65536);
    while (done < nconn) {
        if (time(nullptr) > deadline) {
            fprintf(stderr, "echo-client: timed out, %d of %d connections complete\n", done, nconn);
            return 1;
        }
        epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 1000);
        for (int k = 0; k < n; ++k) {
            Conn& c = conns[evs[k].data.u32];
            if (evs[k].events & EPOLLOUT) {
                size_t chunk = std::min(bytes - c.sent, buf.size());
                for (size_t j = 0; j < chunk; ++j) buf[j] = byte_at(c.seed, c.sent + j);
                ssize_t w = chunk > 0 ? send(c.fd, buf.data(), chunk, MSG_NOSIGNAL) : 0;
                if (w > 0) c.sent += static_cast<size_t>(w);
                if (w < 0 && errno != EAGAIN) {
                    fprintf(stderr, "echo-client: send: %s\n", strerror(errno));
                    return 1;
                }
                if (c.sent == bytes) {
                    epoll_event ev{};
                    ev.events = EPOLLIN;
                    ev.data.u32 = evs[k].data.u32;
                    epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
                }
            }
            if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t r = recv(c.fd, buf.data(), buf.size(), 0);
                if (r < 0 && errno == EAGAIN) continue;
                if (r <= 0) {
                    fprintf(stderr, "echo-client: connection %u ended after %zu of %zu bytes\n", evs[k].data.u32,
                            c.received, bytes);
                    return 1;
                }
                for (ssize_t j = 0; j < r; ++j) {
                    if (buf[static_cast<size_t>(j)] != byte_at(c.seed, c.received + static_cast<size_t>(j))) {
                        fprintf(stderr, "echo-client: connection %u: wrong byte at offset %zu\n", evs[k].data.u32,
                                c.received + static_cast<size_t>(j));
                        return 1;
                    }
                }
                c.received += static_cast<size_t>(r);
                if (c.received > bytes) {
                    fprintf(stderr, "echo-client: connection %u: more bytes than sent\n", evs[k].data.u32);
                    return 1;
                }
                if (c.received == bytes) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c.fd, nullptr);
                    close(c.fd);
                    ++done;
                }
            }
        }
    }
    printf("echo-client: %d connections x %zu bytes echoed intact\n", nconn, bytes);
    return 0;
}
