// A static C program for the unikernel: prints its arguments and a few facts the loader and
// syscalls give it, and exits with status 7.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
    // The unikernel's CLOCK_MONOTONIC counts from the machine's reset: this is boot-to-main.
    struct timespec at_main;
    clock_gettime(CLOCK_MONOTONIC, &at_main);
    printf("main reached %ld us after reset\n", at_main.tv_sec * 1000000 + at_main.tv_nsec / 1000);
    printf("hello from a static %s program, pid %d\n",
#ifdef __GLIBC__
           "glibc",
#else
           "musl",
#endif
           (int)getpid());
    for (int i = 0; i < argc; ++i) printf("argv[%d] = %s\n", i, argv[i]);
    printf("AT_PAGESZ %lu, AT_RANDOM %s, HOME=%s\n", getauxval(AT_PAGESZ), getauxval(AT_RANDOM) ? "set" : "missing",
           getenv("HOME") ? getenv("HOME") : "(unset)");
    char* block = malloc(1 << 20);  // past the brk heap's first chunk: mmap
    memset(block, 1, 1 << 20);
    free(block);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct timespec ten_ms = {0, 10 * 1000 * 1000};
    nanosleep(&ten_ms, NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long slept_us = (t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000;
    printf("nanosleep of 10 ms took %s\n", slept_us >= 10000 && slept_us < 100000 ? "between 10 and 100 ms" : "a wrong time");
    return 7;
}
