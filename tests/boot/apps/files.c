// The unikernel's files, from a static program: tests/boot/files/ packed by `qemu/run --files`
// at /srv, the program itself at /bin/NAME, and the kernel's /proc; then the tree written to as
// Linux's rootfs allows (tests/conformance/files.cc checks the same calls against Linux). Each
// check prints a FAIL line with errno when it does not hold; the exit status is 0 when all
// held, 1 otherwise (so run without --files it fails, which the boot tests check too).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHECK_NAME "files"
#include "check.h"
// A call that must fail with this errno.
#define FAILS_WITH(call, err)                     \
    do {                                          \
        errno = 0;                                \
        long r_ = (long)(call);                   \
        CHECK(r_ == -1 && errno == (err));        \
        if (r_ >= 0 && r_ < 1024) close((int)r_); \
    } while (0)

struct linux_dirent64 {
    uint64_t d_ino;
    int64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static int has_name(const char* names, const char* name) {
    char key[64];
    snprintf(key, sizeof key, "/%s/", name);
    return strstr(names, key) != NULL;
}

static void regular_file(void) {
    int fd = open("/srv/hello.txt", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    char buf[64] = {0};
    CHECK(read(fd, buf, 5) == 5 && memcmp(buf, "hello", 5) == 0);
    CHECK(read(fd, buf, sizeof buf) == 9 && memcmp(buf, ", pollux\n", 9) == 0);
    CHECK(read(fd, buf, sizeof buf) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 14);
    CHECK(lseek(fd, 7, SEEK_SET) == 7);
    CHECK(read(fd, buf, 6) == 6 && memcmp(buf, "pollux", 6) == 0);
    CHECK(lseek(fd, -3, SEEK_END) == 11);
    FAILS_WITH(lseek(fd, -100, SEEK_CUR), EINVAL);
    FAILS_WITH(lseek(fd, 0, 42), EINVAL);
    CHECK(lseek(fd, 3, SEEK_DATA) == 3);
    CHECK(lseek(fd, 3, SEEK_HOLE) == 14);
    FAILS_WITH(lseek(fd, 14, SEEK_DATA), ENXIO);
    CHECK(lseek(fd, 100, SEEK_SET) == 100);
    CHECK(read(fd, buf, sizeof buf) == 0);
    // pread reads at its offset and leaves the position alone.
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, 5, 7) == 5 && memcmp(buf, "pollu", 5) == 0);
    CHECK(lseek(fd, 0, SEEK_CUR) == 100);
    CHECK(pread(fd, buf, 5, 14) == 0);
    FAILS_WITH(pread(fd, buf, 5, -1), EINVAL);
    char a[3], b[4];
    struct iovec iov[2] = {{a, sizeof a}, {b, sizeof b}};
    CHECK(preadv(fd, iov, 2, 0) == 7 && memcmp(a, "hel", 3) == 0 && memcmp(b, "lo, ", 4) == 0);
    // A dup shares the description, and so the position.
    CHECK(lseek(fd, 2, SEEK_SET) == 2);
    int copy = dup(fd);
    CHECK(copy >= 0 && lseek(copy, 0, SEEK_CUR) == 2);
    CHECK(read(copy, buf, 3) == 3 && lseek(fd, 0, SEEK_CUR) == 5);
    close(copy);

    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    CHECK(S_ISREG(st.st_mode) && st.st_size == 14 && st.st_nlink == 1 && st.st_ino != 0);
    CHECK((st.st_mode & 0400) && !(st.st_mode & 0111) && st.st_mtime > 0 && st.st_blksize == 4096);
    CHECK(st.st_blocks == 8);  // one page in 512-byte units, as Linux's ramfs counts
    CHECK(fcntl(fd, F_GETFD) == FD_CLOEXEC);
    CHECK((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
    // Regular files cannot be watched by epoll (EPERM, as on Linux).
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN};
    FAILS_WITH(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), EPERM);
    close(ep);
    close(fd);

    fd = open("/srv/hello.txt", O_RDONLY);
    CHECK(fd >= 0 && fcntl(fd, F_GETFD) == 0);
    close(fd);
    fd = open("/srv/empty", O_RDONLY);
    CHECK(fd >= 0 && read(fd, buf, sizeof buf) == 0 && fstat(fd, &st) == 0 && st.st_size == 0);
    close(fd);

    // stdio's path (openat, fstat, read) works too.
    FILE* f = fopen("/srv/sub/nested.txt", "r");
    CHECK(f != NULL && fgets(buf, sizeof buf, f) != NULL && strcmp(buf, "nested\n") == 0);
    if (f) fclose(f);
}

static void directories(void) {
    int dir = open("/srv", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    CHECK(dir >= 0);
    char buf[64];
    FAILS_WITH(read(dir, buf, sizeof buf), EISDIR);
    FAILS_WITH(pread(dir, buf, sizeof buf, 0), EISDIR);
    struct stat st;
    CHECK(fstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_nlink == 3);  // ., .. and sub

    // getdents64: the entries once each, with their types; a buffer too small for one is EINVAL.
    char small[8];
    FAILS_WITH(syscall(SYS_getdents64, dir, small, sizeof small), EINVAL);
    char dents[4096];
    char names[512] = "/";
    int count = 0, types_ok = 1;
    long n;
    while ((n = syscall(SYS_getdents64, dir, dents, 64)) > 0) {  // 64 bytes: several calls
        for (long at = 0; at < n;) {
            struct linux_dirent64* d = (struct linux_dirent64*)(dents + at);
            strncat(names, d->d_name, sizeof names - strlen(names) - 2);
            strcat(names, "/");
            ++count;
            unsigned char want = strcmp(d->d_name, "sub") == 0 || d->d_name[0] == '.'                  ? DT_DIR
                                 : strcmp(d->d_name, "link") == 0 || strcmp(d->d_name, "dirlink") == 0 ? DT_LNK
                                                                                                       : DT_REG;
            if (d->d_type != want) types_ok = 0;
            at += d->d_reclen;
        }
    }
    CHECK(n == 0);
    CHECK(count == 8 && types_ok);
    CHECK(has_name(names, ".") && has_name(names, "..") && has_name(names, "hello.txt") && has_name(names, "empty") &&
          has_name(names, "sub") && has_name(names, "link") && has_name(names, "dirlink") &&
          has_name(names, "script.sh"));
    // Back to the start: the whole listing again, in one call this time.
    CHECK(lseek(dir, 0, SEEK_SET) == 0);
    n = syscall(SYS_getdents64, dir, dents, sizeof dents);
    int again = 0;
    for (long at = 0; at < n; at += ((struct linux_dirent64*)(dents + at))->d_reclen) ++again;
    CHECK(n > 0 && again == 8 && syscall(SYS_getdents64, dir, dents, sizeof dents) == 0);
    FAILS_WITH(lseek(dir, 0, SEEK_END), EINVAL);  // dcache_dir_lseek: Linux's ramfs (ext4 differs)
    int file = open("/srv/hello.txt", O_RDONLY);
    FAILS_WITH(syscall(SYS_getdents64, file, dents, sizeof dents), ENOTDIR);

    // *at() relative to a directory descriptor; a file descriptor is not one.
    int fd = openat(dir, "sub/nested.txt", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    fd = openat(dir, "../srv/./hello.txt", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    CHECK(fstatat(dir, "sub", &st, 0) == 0 && S_ISDIR(st.st_mode));
    CHECK(fstatat(dir, "", &st, AT_EMPTY_PATH) == 0 && S_ISDIR(st.st_mode));
    FAILS_WITH(openat(file, "x", O_RDONLY), ENOTDIR);
    FAILS_WITH(openat(-5, "hello.txt", O_RDONLY), EBADF);
    fd = openat(-5, "/srv/hello.txt", O_RDONLY);  // an absolute path ignores dirfd
    CHECK(fd >= 0);
    close(fd);
    close(file);

    // libc's readdir over getdents64.
    DIR* d = opendir("/srv/sub");
    int entries = 0;
    if (d) {
        while (readdir(d)) ++entries;
        closedir(d);
    }
    CHECK(d != NULL && entries == 4);  // ., .., deeper, nested.txt

    // The working directory.
    char cwd[256];
    CHECK(getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0);
    CHECK(chdir("/srv/sub/deeper") == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, "/srv/sub/deeper") == 0);
    FAILS_WITH(getcwd(cwd, 5) == NULL ? -1 : 0, ERANGE);
    fd = open("leaf.txt", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    CHECK(chdir("..") == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, "/srv/sub") == 0);
    FAILS_WITH(chdir("/srv/hello.txt"), ENOTDIR);
    CHECK(fchdir(dir) == 0 && getcwd(cwd, sizeof cwd) && strcmp(cwd, "/srv") == 0);
    CHECK(chdir("/") == 0);
    close(dir);
}

static void paths_and_links(const char* argv0) {
    struct stat st;
    int fd = open("//srv///./sub/../hello.txt", O_RDONLY);
    CHECK(fd >= 0);
    close(fd);
    fd = open("/../../srv/hello.txt", O_RDONLY);  // ".." at the root stays there
    CHECK(fd >= 0);
    close(fd);
    CHECK(stat("/srv/link", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 14);
    CHECK(lstat("/srv/link", &st) == 0 && S_ISLNK(st.st_mode) && st.st_size == 9);
    CHECK(stat("/srv/dirlink/nested.txt", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 7);
    char target[64] = {0};
    CHECK(readlink("/srv/link", target, sizeof target) == 9 && memcmp(target, "hello.txt", 9) == 0);
    CHECK(readlink("/srv/link", target, 4) == 4);  // truncated, no NUL
    FAILS_WITH(readlink("/srv/hello.txt", target, sizeof target), EINVAL);
    FAILS_WITH(readlink("/srv/missing", target, sizeof target), ENOENT);
    FAILS_WITH(open("/srv/link", O_RDONLY | O_NOFOLLOW), ELOOP);
    fd = open("/srv/dirlink/", O_RDONLY | O_DIRECTORY);
    CHECK(fd >= 0);
    close(fd);

    // The program is /bin/NAME in the archive, and /proc/self/exe says so.
    char exe[256] = {0}, want[256];
    snprintf(want, sizeof want, "/bin/%s", argv0);
    CHECK(readlink("/proc/self/exe", exe, sizeof exe) == (ssize_t)strlen(want) && strcmp(exe, want) == 0);
    CHECK(stat(want, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) && st.st_size > 4096);

    CHECK(access("/srv/hello.txt", R_OK) == 0 && access("/srv", F_OK) == 0);
    CHECK(access("/srv/hello.txt", W_OK) == 0);
    FAILS_WITH(access("/srv/hello.txt", X_OK), EACCES);
    CHECK(access("/srv/script.sh", X_OK) == 0);
    FAILS_WITH(access("/srv/missing", F_OK), ENOENT);
    CHECK(faccessat(AT_FDCWD, "/srv/link", R_OK, AT_SYMLINK_NOFOLLOW) == 0);
}

static void errors(void) {
    char buf[8];
    struct stat st;
    FAILS_WITH(open("/srv/hello.txt", O_RDONLY | O_CREAT | O_EXCL, 0644), EEXIST);
    FAILS_WITH(open("/srv/missing/new.txt", O_WRONLY | O_CREAT, 0644), ENOENT);
    FAILS_WITH(open("/srv/missing", O_RDONLY), ENOENT);
    FAILS_WITH(open("", O_RDONLY), ENOENT);
    FAILS_WITH(open("/srv/hello.txt/x", O_RDONLY), ENOTDIR);
    FAILS_WITH(open("/srv/hello.txt/", O_RDONLY), ENOTDIR);
    FAILS_WITH(open("/srv/hello.txt", O_RDONLY | O_DIRECTORY), ENOTDIR);
    FAILS_WITH(open("/srv", O_WRONLY), EISDIR);
    FAILS_WITH(open("/srv", O_RDONLY | O_CREAT, 0644), EISDIR);
    FAILS_WITH(open((const char*)8, O_RDONLY), EFAULT);
    char longname[300];
    memset(longname, 'a', sizeof longname);
    memcpy(longname, "/srv/", 5);
    longname[sizeof longname - 1] = 0;
    FAILS_WITH(open(longname, O_RDONLY), ENAMETOOLONG);  // a component over NAME_MAX
    static char longpath[5000];  // no NUL within PATH_MAX bytes
    for (size_t i = 0; i + 1 < sizeof longpath; i += 2) memcpy(longpath + i, "/.", 2);
    FAILS_WITH(open(longpath, O_RDONLY), ENAMETOOLONG);
    FAILS_WITH(stat(longpath, &st), ENAMETOOLONG);
    FAILS_WITH(mkdir("/srv/sub", 0755), EEXIST);
    FAILS_WITH(rmdir("/srv/sub"), ENOTEMPTY);
    FAILS_WITH(mkdir("/proc/x", 0755), ENOENT);
    FAILS_WITH(unlink("/proc/net/snmp"), EPERM);
    FAILS_WITH(rmdir("/proc"), EBUSY);
    FAILS_WITH(rename("/srv/hello.txt", "/proc/x"), EXDEV);
    // lseek and pread on what has no position.
    int p[2];
    CHECK(pipe(p) == 0);
    FAILS_WITH(lseek(p[0], 0, SEEK_SET), ESPIPE);
    FAILS_WITH(pread(p[0], buf, 1, 0), ESPIPE);
    close(p[0]);
    close(p[1]);
    FAILS_WITH(lseek(99, 0, SEEK_SET), EBADF);
}

static void proc_files(void) {
    char text[8192];
    int fd = open("/proc/net/snmp", O_RDONLY | O_CLOEXEC);
    CHECK(fd >= 0);
    ssize_t n = read(fd, text, sizeof text - 1);
    CHECK(n > 0);
    text[n > 0 ? n : 0] = 0;
    CHECK(strncmp(text, "Ip: Forwarding", 14) == 0 && strstr(text, "\nTcp: ") && strstr(text, "\nUdp: "));
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0444 && st.st_size == 0);
    FAILS_WITH(lseek(fd, 0, SEEK_END), EINVAL);
    CHECK(lseek(fd, 0, SEEK_SET) == 0 && read(fd, text, 3) == 3 && memcmp(text, "Ip:", 3) == 0);
    close(fd);
    fd = open("/proc/self/net/dev", O_RDONLY);
    n = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
    CHECK(n > 0);
    text[n > 0 ? n : 0] = 0;
    CHECK(strncmp(text, "Inter-|", 7) == 0 && strstr(text, " lo:"));
    close(fd);
    FAILS_WITH(open("/proc/net/snmp", O_WRONLY), EACCES);
}

// Writing the archive's tree, after everything above read it as packed: copy on write of an
// archive file, a new file in /tmp (made by the kernel: the archive has none), a renamed and a
// removed one. Runs last, so the checks above see the archive's bytes.
static void writes(void) {
    struct stat st;
    CHECK(stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 01777);
    int fd = open("/srv/hello.txt", O_RDWR);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "HELLO", 5, 0) == 5);
    CHECK(lseek(fd, 0, SEEK_END) == 14 && write(fd, "!\n", 2) == 2);
    char buf[32] = {0};
    CHECK(pread(fd, buf, sizeof buf, 0) == 16 && memcmp(buf, "HELLO, pollux\n!\n", 16) == 0);
    CHECK(fstat(fd, &st) == 0 && st.st_size == 16);
    CHECK(ftruncate(fd, 5) == 0 && fsync(fd) == 0 && fstat(fd, &st) == 0 && st.st_size == 5);
    close(fd);
    FILE* f = fopen("/tmp/app.pid", "w");
    CHECK(f != NULL && fprintf(f, "%d\n", getpid()) > 0 && fclose(f) == 0);
    char tmpl[] = "/tmp/dir-XXXXXX";
    CHECK(mkdtemp(tmpl) != NULL);
    char path[64];
    snprintf(path, sizeof path, "%s/moved.pid", tmpl);
    CHECK(rename("/tmp/app.pid", path) == 0 && stat(path, &st) == 0 && st.st_size == 2);
    fd = open(path, O_RDONLY);
    CHECK(fd >= 0 && unlink(path) == 0 && read(fd, buf, sizeof buf) == 2 && memcmp(buf, "1\n", 2) == 0);
    close(fd);
    CHECK(rmdir(tmpl) == 0);
    FAILS_WITH(stat(tmpl, &st), ENOENT);
}

int main(int argc, char** argv) {
    (void)argc;
    regular_file();
    directories();
    paths_and_links(basename(argv[0]));
    errors();
    proc_files();
    writes();
    return check_summary();
}
