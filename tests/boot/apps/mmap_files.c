// mmap(2) of files, checked for what Linux does: private mappings of a file written in /tmp
// (whole, at an offset, written to without the file changing), a read-only shared one,
// /dev/zero as anonymous memory, and do_mmap()'s errors in its order. The same static binary
// runs on Linux (boot.linux.mmap-files-glibc) and in the unikernel (boot.app.mmap-files-*).
// Not here, because the unikernel refuses it (ENODEV) where Linux shares tmpfs's pages: a
// writable MAP_SHARED mapping of a file.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK_NAME "mmap-files"
#include "check.h"

#define PAGE 4096ul
#define SIZE 10000ul  // two pages and a part of a third

static unsigned char pattern(size_t i) { return (unsigned char)(i * 2654435761u >> 13); }

static int is_pattern(const unsigned char* p, size_t from, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != pattern(from + i)) return 0;
    return 1;
}

static int all_zero(const unsigned char* p, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (p[i] != 0) return 0;
    return 1;
}

int main(void) {
    char dir[] = "/tmp/mmap-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/data", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    unsigned char buf[SIZE];
    for (size_t i = 0; i < SIZE; ++i) buf[i] = pattern(i);
    CHECK(write(fd, buf, SIZE) == (ssize_t)SIZE);

    // The whole file, private and read-only: its bytes, then zeros to the end of the page.
    unsigned char* m = mmap(NULL, SIZE, PROT_READ, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(is_pattern(m, 0, SIZE));
        CHECK(all_zero(m + SIZE, 3 * PAGE - SIZE));
        CHECK(munmap(m, SIZE) == 0);
    }
    // From the second page on.
    m = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(is_pattern(m, PAGE, PAGE));
        CHECK(munmap(m, PAGE) == 0);
    }
    // Private and writable: the writes stay in the mapping.
    m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        memset(m, 0xee, 100);
        unsigned char head[100];
        CHECK(pread(fd, head, sizeof head, 0) == (ssize_t)sizeof head);
        CHECK(is_pattern(head, 0, sizeof head));
        CHECK(m[0] == 0xee && m[99] == 0xee && m[100] == pattern(100));
        CHECK(munmap(m, SIZE) == 0);
    }
    // Shared, read-only.
    m = mmap(NULL, SIZE, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(is_pattern(m, 0, SIZE));
        CHECK(munmap(m, SIZE) == 0);
    }
    // Past the end of the file, within the mapping's first page: zeros.
    m = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 2 * PAGE);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(is_pattern(m, 2 * PAGE, SIZE - 2 * PAGE));
        CHECK(all_zero(m + SIZE - 2 * PAGE, 3 * PAGE - SIZE));
        CHECK(munmap(m, PAGE) == 0);
    }

    // /dev/zero maps as anonymous memory.
    int zero = open("/dev/zero", O_RDWR);
    CHECK(zero >= 0);
    m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, zero, 0);
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) {
        CHECK(all_zero(m, 2 * PAGE));
        m[PAGE] = 1;
        CHECK(m[PAGE] == 1);
        CHECK(munmap(m, 2 * PAGE) == 0);
    }
    CHECK(close(zero) == 0);

    // do_mmap()'s errors, in its order.
    errno = 0;
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 100) == MAP_FAILED && errno == EINVAL);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 0) == MAP_FAILED && errno == EBADF);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 100) == MAP_FAILED && errno == EINVAL);
    int ro = open(path, O_RDONLY);
    int wo = open(path, O_WRONLY);
    CHECK(ro >= 0 && wo >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0) == MAP_FAILED && errno == EACCES);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, wo, 0) == MAP_FAILED && errno == EACCES);
    m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);  // a private copy may be written
    CHECK(m != MAP_FAILED);
    if (m != MAP_FAILED) CHECK(munmap(m, PAGE) == 0);
    int p[2];
    CHECK(pipe(p) == 0);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, p[0], 0) == MAP_FAILED && errno == ENODEV);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, p[1], 0) == MAP_FAILED && errno == EACCES);
    int d = open(dir, O_RDONLY | O_DIRECTORY);
    CHECK(d >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, d, 0) == MAP_FAILED && errno == ENODEV);
    int path_only = open(path, O_PATH);
    CHECK(path_only >= 0);
    CHECK(mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, path_only, 0) == MAP_FAILED && errno == EBADF);

    close(path_only);
    close(d);
    close(p[0]);
    close(p[1]);
    close(ro);
    close(wo);
    close(fd);
    CHECK(unlink(path) == 0);
    CHECK(rmdir(dir) == 0);
    return check_summary();
}
