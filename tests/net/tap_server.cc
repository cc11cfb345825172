// A small epoll server for the TAP end-to-end test: HTTP on one port (every request gets the
// same small page), TCP echo on another. Plain POSIX: the test links it against the hosted
// runtime, so Linux clients reach Pollux's stack through a TAP device.
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listen_on(int port) {
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in6 a;
    memset(&a, 0, sizeof a);
    a.sin6_family = AF_INET6;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 128) != 0) {
        perror("tap-server: bind/listen");
        exit(1);
    }
    return fd;
}

int main(int argc, char** argv) {
    int http_port = argc > 1 ? atoi(argv[1]) : 8080;
    int echo_port = argc > 2 ? atoi(argv[2]) : 7777;
    int seconds = argc > 3 ? atoi(argv[3]) : 60;  // bounded: the test never leaves it behind
    signal(SIGPIPE, SIG_IGN);
    int http = listen_on(http_port);
    int echo = listen_on(echo_port);
    int ep = epoll_create1(0);
    struct epoll_event ev = {EPOLLIN, {.u64 = static_cast<uint64_t>(http)}};
    epoll_ctl(ep, EPOLL_CTL_ADD, http, &ev);
    ev.data.u64 = static_cast<uint64_t>(echo);
    epoll_ctl(ep, EPOLL_CTL_ADD, echo, &ev);
    printf("tap-server: http on %d, echo on %d\n", http_port, echo_port);
    fflush(stdout);
    // Connection kind in the upper half of the epoll data: 1 http, 2 echo.
    time_t end = time(nullptr) + seconds;
    static char buf[65536];
    while (time(nullptr) < end) {
        struct epoll_event evs[64];
        int n = epoll_wait(ep, evs, 64, 200);
        for (int i = 0; i < n; ++i) {
            int fd = static_cast<int>(evs[i].data.u64 & 0xffffffff);
            int kind = static_cast<int>(evs[i].data.u64 >> 32);
            if (fd == http || fd == echo) {
                int c;
                while ((c = accept4(fd, nullptr, nullptr, SOCK_NONBLOCK)) >= 0) {
                    struct epoll_event cev = {EPOLLIN | EPOLLRDHUP,
                                              {.u64 = static_cast<uint64_t>(c) | (uint64_t{fd == http ? 1u : 2u} << 32)}};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &cev);
                }
                continue;
            }
            ssize_t r = read(fd, buf, sizeof buf);
            if (r <= 0) {
                close(fd);
                continue;
            }
            if (kind == 2) {
                for (ssize_t off = 0; off < r;) {
                    ssize_t w = write(fd, buf + off, static_cast<size_t>(r - off));
                    if (w > 0) {
                        off += w;
                    } else if (w < 0 && errno == EAGAIN) {
                        struct pollfd p = {fd, POLLOUT, 0};  // the client reads slower than it sends
                        if (poll(&p, 1, 5000) <= 0) break;
                    } else {
                        break;
                    }
                }
                continue;
            }
            static const char body[] = "hello from pollux\n";
            char resp[256];
            int len = snprintf(resp, sizeof resp,
                               "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nContent-Type: text/plain\r\n"
                               "Connection: close\r\n\r\n%s",
                               sizeof body - 1, body);
            if (write(fd, resp, static_cast<size_t>(len)) != len) perror("tap-server: write");
            close(fd);
        }
    }
    return 0;
}
