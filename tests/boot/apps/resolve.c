// Name resolution as an app sees it: prints /etc/resolv.conf, then resolves each argument with
// getaddrinfo(), retrying for up to 20 s (a name server may come up after the app), and prints
// "resolve: NAME -> ADDRESS" for each. Exits 0 when every name resolved, 1 otherwise.
// --delay-ms N first waits N ms after the banner, so that a test's name server (started when
// the banner shows) is up before the first query: a lost one costs glibc's 5 s timeout.
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void print_file(const char* path) {
    FILE* f = fopen(path, "r");
    if (!f) {
        printf("resolve: %s: cannot open\n", path);
        return;
    }
    char line[256];
    while (fgets(line, sizeof line, f)) printf("%s: %s", path, line);
    fclose(f);
}

static int resolve(const char* name) {
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int err = EAI_AGAIN;
    for (int attempt = 0; attempt < 40; ++attempt) {
        err = getaddrinfo(name, NULL, &hints, &res);
        if (err == 0) break;
        struct timespec half = {0, 500 * 1000 * 1000};
        nanosleep(&half, NULL);
    }
    if (err != 0) {
        printf("resolve: %s: %s\n", name, gai_strerror(err));
        return 1;
    }
    char text[INET_ADDRSTRLEN];
    const struct sockaddr_in* sin = (const struct sockaddr_in*)res->ai_addr;
    printf("resolve: %s -> %s\n", name, inet_ntop(AF_INET, &sin->sin_addr, text, sizeof text));
    freeaddrinfo(res);
    return 0;
}

int main(int argc, char** argv) {
    printf("resolve: starting\n");
    fflush(stdout);
    print_file("/etc/resolv.conf");
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "--delay-ms") == 0) {
        long ms = atol(argv[2]);
        struct timespec d = {ms / 1000, (ms % 1000) * 1000 * 1000};
        nanosleep(&d, NULL);
        first = 3;
    }
    int failed = 0;
    for (int i = first; i < argc; ++i) failed |= resolve(argv[i]);
    return failed;
}
