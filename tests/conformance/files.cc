// Regular files and directories on a writable file system, as a program finds /tmp: each scenario
// works in a fresh mkdtemp("/tmp/conf-XXXXXX") directory and removes it again. Covers open(2) with
// O_CREAT/O_EXCL/O_TRUNC/O_APPEND/O_DIRECTORY, write(2)/pwrite(2) (an O_APPEND pwrite appends, the
// bug open(2)'s man page keeps), reads of holes, ftruncate(2), truncate(2), fallocate(2) (growing,
// FALLOC_FL_KEEP_SIZE), unlink(2) of an open file (fs/namei.c: the inode lives until the last
// close), rename(2)/renameat2(2) (vfs_rename(): replacing, EISDIR/ENOTDIR, ENOTEMPTY, EINVAL for a
// directory moved into itself, RENAME_NOREPLACE, RENAME_EXCHANGE), mkdir(2)/rmdir(2) and their
// errors, getdents64(2) after and during changes (readdir(3): an entry neither added nor removed
// meanwhile is returned exactly once), symlink(2)/readlink(2), link(2) and st_nlink, chmod(2),
// chown(2), utimensat(2), fsync(2), umask(2). Follows the man pages and tmpfs; nothing here
// depends on whether /tmp is tmpfs or ext4 (no st_blocks, no directory sizes, no listing order;
// directory link counts are 2 + subdirectories on both, not on btrfs).
#include "harness.h"

#include <dirent.h>
#include <ftw.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <vector>

using namespace conf;

namespace {

// Removes a tree of our own making, children first, links not followed.
int remove_one(const char* path, const struct stat*, int, FTW*) { return remove(path); }
void remove_tree(const std::string& path) { nftw(path.c_str(), remove_one, 8, FTW_DEPTH | FTW_PHYS); }

// A fresh directory under /tmp for one scenario, gone (with what is left in it) afterwards.
class tmp_dir {
public:
    tmp_dir() { path_ = CHECK(mkdtemp(name_) != nullptr) ? name_ : ""; }
    ~tmp_dir()
    {
        if (!path_.empty()) {
            remove_tree(path_);
            CHECK_ERR(access(path_.c_str(), F_OK), ENOENT);  // cleaned up after itself
        }
    }
    bool ok() const { return !path_.empty(); }
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }
    const char* c_str() const { return path_.c_str(); }

private:
    char name_[17] = "/tmp/conf-XXXXXX";
    std::string path_;
};

// Declares d, a fresh directory, and leaves the scenario when there is none.
#define FRESH_DIR(d) \
    tmp_dir d;       \
    REQUIRE(d.ok())

std::string read_all(int fd)
{
    std::string out(65536, '\0');
    ssize_t n = pread(fd, out.data(), out.size(), 0);
    out.resize(n > 0 ? size_t(n) : 0);
    return out;
}
std::string text_of(const std::string& path) { return read_all(ufd(open(path.c_str(), O_RDONLY))); }

// What fstat and lstat say, all zero when they fail (the checks on the fields then fail).
struct stat fstat_of(int fd)
{
    struct stat st {};
    fstat(fd, &st);
    return st;
}
struct stat lstat_of(const std::string& path)
{
    struct stat st {};
    lstat(path.c_str(), &st);
    return st;
}
off_t size_of(int fd) { return fstat_of(fd).st_size; }
long nlink_of(const std::string& path) { return long(lstat_of(path).st_nlink); }

int make_file(const std::string& path, const char* text)
{
    ufd fd(open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644));
    return fd.valid() && write(fd, text, strlen(text)) == ssize_t(strlen(text)) ? 0 : -1;
}

// The names getdents64 gives for an open directory, reading `chunk` bytes at a time.
std::vector<std::string> list_some(int dir, size_t chunk, size_t max_calls)
{
    std::vector<std::string> names;
    alignas(8) char buf[4096];
    for (size_t call = 0; call < max_calls; call++) {
        long n = syscall(SYS_getdents64, dir, buf, std::min(chunk, sizeof buf));
        if (n <= 0)
            break;
        for (long at = 0; at < n;) {
            unsigned short reclen;
            memcpy(&reclen, buf + at + 16, sizeof reclen);
            names.emplace_back(buf + at + 19);
            at += reclen;
        }
    }
    return names;
}

}  // namespace

SCENARIO(files_create_excl_and_umask)
{
    CHECK_EQ(lstat_of("/tmp").st_mode, S_IFDIR | 01777u);  // where everyone may make files
    FRESH_DIR(d);
    mode_t old = umask(022);
    std::string p = d / "f";
    ufd a(CHECK_OK(open(p.c_str(), O_CREAT | O_EXCL | O_RDWR, 0666)));
    CHECK_ERR(open(p.c_str(), O_CREAT | O_EXCL | O_RDWR, 0666), EEXIST);
    ufd b(CHECK_OK(open(p.c_str(), O_CREAT | O_RDWR, 0600)));  // exists: opened, mode unchanged
    CHECK_EQ(fstat_of(a).st_mode, S_IFREG | 0644u);
    CHECK_EQ(fstat_of(a).st_nlink, 1u);
    ufd c(CHECK_OK(creat((d / "g").c_str(), 0777)));
    CHECK_EQ(fstat_of(c).st_mode, S_IFREG | 0755u);
    CHECK_EQ(fcntl(c, F_GETFL) & O_ACCMODE, O_WRONLY);
    CHECK_ERR(open((d / "missing/f").c_str(), O_CREAT | O_RDWR, 0644), ENOENT);
    CHECK_ERR(open((d / "h/").c_str(), O_CREAT | O_RDWR, 0644), EISDIR);
    CHECK_EQ(umask(old), 022u);
}

SCENARIO(files_write_read_back_and_rdonly_ebadf)
{
    FRESH_DIR(d);
    ufd fd(CHECK_OK(open((d / "f").c_str(), O_CREAT | O_RDWR, 0644)));
    CHECK_EQ(write(fd, "hello world", 11), 11);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 11);
    CHECK_EQ(size_of(fd), 11);
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    char buf[32] = {};
    CHECK_EQ(read(fd, buf, sizeof buf), 11);
    CHECK_EQ(std::string(buf, 11), std::string("hello world"));
    CHECK_EQ(pwrite(fd, "W", 1, 6), 1);
    CHECK_EQ(read_all(fd), std::string("hello World"));
    CHECK_EQ(fsync(fd), 0);
    CHECK_EQ(fdatasync(fd), 0);
    ufd ro(CHECK_OK(open((d / "f").c_str(), O_RDONLY)));
    CHECK_ERR(write(ro, "x", 1), EBADF);
    CHECK_ERR(pwrite(ro, "x", 1, 0), EBADF);
    ufd wo(CHECK_OK(open((d / "f").c_str(), O_WRONLY)));
    CHECK_ERR(read(wo, buf, 1), EBADF);
    CHECK_ERR(pwrite(wo, "x", 1, -1), EINVAL);
}

SCENARIO(files_append_and_trunc)
{
    FRESH_DIR(d);
    std::string p = d / "log";
    REQUIRE(make_file(p, "one\n") == 0);
    ufd fd(CHECK_OK(open(p.c_str(), O_WRONLY | O_APPEND)));
    CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
    CHECK_EQ(write(fd, "two\n", 4), 4);  // at the end whatever the position
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 8);
    CHECK_EQ(pwrite(fd, "six\n", 4, 0), 4);  // Linux: appends too
    CHECK_EQ(text_of(p), std::string("one\ntwo\nsix\n"));
    CHECK_EQ(fcntl(fd, F_GETFL) & (O_APPEND | O_ACCMODE), O_APPEND | O_WRONLY);
    ufd t(CHECK_OK(open(p.c_str(), O_RDWR | O_TRUNC)));
    CHECK_EQ(size_of(t), 0);
    CHECK_EQ(size_of(fd), 0);  // one file, whichever descriptor
}

SCENARIO(files_holes_read_as_zeros)
{
    FRESH_DIR(d);
    ufd fd(CHECK_OK(open((d / "sparse").c_str(), O_CREAT | O_RDWR, 0644)));
    CHECK_EQ(pwrite(fd, "x", 1, 10000), 1);
    CHECK_EQ(size_of(fd), 10001);
    CHECK_EQ(lseek(fd, 0, SEEK_CUR), 0);  // pwrite left the position
    char buf[16];
    memset(buf, 'q', sizeof buf);
    CHECK_EQ(pread(fd, buf, sizeof buf, 5000), 16);
    CHECK(std::all_of(buf, buf + 16, [](char c) { return c == 0; }));
    CHECK_EQ(lseek(fd, 20000, SEEK_SET), 20000);
    CHECK_EQ(write(fd, "yz", 2), 2);
    CHECK_EQ(size_of(fd), 20002);
    CHECK_EQ(pread(fd, buf, 4, 19999), 3);
    CHECK_EQ(std::string(buf, 3), std::string("\0yz", 3));
    CHECK_EQ(pread(fd, buf, 4, 20002), 0);
}

SCENARIO(files_truncate_grow_and_shrink)
{
    FRESH_DIR(d);
    std::string p = d / "f";
    REQUIRE(make_file(p, "0123456789abcdef") == 0);
    ufd fd(CHECK_OK(open(p.c_str(), O_RDWR)));
    CHECK_EQ(ftruncate(fd, 10), 0);
    CHECK_EQ(size_of(fd), 10);
    CHECK_EQ(read_all(fd), std::string("0123456789"));
    CHECK_EQ(ftruncate(fd, 5000), 0);
    CHECK_EQ(size_of(fd), 5000);
    std::string all = read_all(fd);
    CHECK_EQ(all.size(), 5000u);
    CHECK(all.compare(0, 10, "0123456789") == 0 && all.find_first_not_of('\0', 10) == std::string::npos);
    CHECK_ERR(ftruncate(fd, -1), EINVAL);
    CHECK_EQ(fallocate(fd, 0, 0, 8192), 0);  // grows
    CHECK_EQ(size_of(fd), 8192);
    CHECK_EQ(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 20000), 0);
    CHECK_EQ(fallocate(fd, 0, 0, 100), 0);  // never shrinks
    CHECK_EQ(size_of(fd), 8192);
    CHECK_ERR(fallocate(fd, 0, -1, 10), EINVAL);
    CHECK_EQ(truncate(p.c_str(), 3), 0);
    CHECK_EQ(size_of(fd), 3);
    ufd ro(CHECK_OK(open(p.c_str(), O_RDONLY)));
    CHECK_ERR(ftruncate(ro, 0), EINVAL);
    CHECK_ERR(truncate(d.c_str(), 0), EISDIR);
    CHECK_ERR(truncate((d / "missing").c_str(), 0), ENOENT);
}

SCENARIO(files_unlink_while_open)
{
    FRESH_DIR(d);
    std::string p = d / "f";
    ufd fd(CHECK_OK(open(p.c_str(), O_CREAT | O_RDWR, 0644)));
    CHECK_EQ(write(fd, "data", 4), 4);
    CHECK_EQ(unlink(p.c_str()), 0);
    struct stat st {};
    CHECK_ERR(stat(p.c_str(), &st), ENOENT);
    CHECK_ERR(unlink(p.c_str()), ENOENT);
    CHECK_EQ(fstat_of(fd).st_nlink, 0u);
    CHECK_EQ(write(fd, "more", 4), 4);
    CHECK_EQ(read_all(fd), std::string("datamore"));
    // The name is free again: a new file there is another file.
    ufd again(CHECK_OK(open(p.c_str(), O_CREAT | O_EXCL | O_RDWR, 0644)));
    CHECK_EQ(size_of(again), 0);
    CHECK_EQ(read_all(fd), std::string("datamore"));
}

SCENARIO(files_rename_replaces_a_file)
{
    FRESH_DIR(d);
    std::string a = d / "a", b = d / "b";
    REQUIRE(make_file(a, "A") == 0 && make_file(b, "B") == 0);
    ufd old_b(CHECK_OK(open(b.c_str(), O_RDONLY)));
    CHECK_EQ(rename(a.c_str(), b.c_str()), 0);
    struct stat st {};
    CHECK_ERR(stat(a.c_str(), &st), ENOENT);
    CHECK_EQ(text_of(b), std::string("A"));
    CHECK_EQ(read_all(old_b), std::string("B"));  // the replaced file lives on while open
    CHECK_EQ(fstat_of(old_b).st_nlink, 0u);
    CHECK_EQ(rename(b.c_str(), b.c_str()), 0);
    CHECK_ERR(rename(a.c_str(), b.c_str()), ENOENT);
    CHECK_ERR(rename((b + "/").c_str(), a.c_str()), ENOTDIR);
    REQUIRE(make_file(a, "A2") == 0);
    CHECK_ERR(syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_NOREPLACE), EEXIST);
    CHECK_EQ(syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE), 0);
    CHECK_EQ(text_of(a), std::string("A"));
    CHECK_EQ(text_of(b), std::string("A2"));
    CHECK_ERR(syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, (d / "c").c_str(), RENAME_EXCHANGE), ENOENT);
    CHECK_ERR(syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE | RENAME_NOREPLACE),
              EINVAL);
}

SCENARIO(files_rename_directories)
{
    FRESH_DIR(d);
    std::string d1 = d / "d1", d2 = d / "d2", e = d / "empty", f = d / "f";
    REQUIRE(mkdir(d1.c_str(), 0755) == 0 && mkdir(d2.c_str(), 0755) == 0 && mkdir(e.c_str(), 0755) == 0);
    REQUIRE(make_file(d2 + "/x", "x") == 0 && make_file(f, "f") == 0 && make_file(d1 + "/y", "y") == 0);
    CHECK_ERR(rename(d1.c_str(), d2.c_str()), ENOTEMPTY);
    CHECK_ERR(rename(d1.c_str(), (d1 + "/sub").c_str()), EINVAL);
    CHECK_ERR(rename(d.c_str(), (d1 + "/sub").c_str()), EINVAL);
    CHECK_ERR(rename((d1 + "/y").c_str(), d1.c_str()), ENOTEMPTY);  // onto an ancestor of the source
    CHECK_ERR(rename(f.c_str(), d2.c_str()), EISDIR);
    CHECK_ERR(rename(d1.c_str(), f.c_str()), ENOTDIR);
    CHECK_ERR(rename(f.c_str(), (d / "g/").c_str()), ENOTDIR);
    CHECK_ERR(rename(d1.c_str(), (d / ".").c_str()), EBUSY);
    CHECK_EQ(nlink_of(d.c_str()), 5);  // ".", its name, and three subdirectories
    CHECK_EQ(rename(d1.c_str(), e.c_str()), 0);  // an empty directory is replaced
    CHECK_EQ(nlink_of(d.c_str()), 4);
    CHECK_EQ(text_of((e + "/y")), std::string("y"));
    CHECK_EQ(rename(e.c_str(), (d2 + "/moved").c_str()), 0);
    CHECK_EQ(nlink_of(d2), 3);
    CHECK_EQ(nlink_of(d.c_str()), 3);
    CHECK_EQ(access((d2 + "/moved/y").c_str(), F_OK), 0);
}

SCENARIO(files_mkdir_rmdir_unlink_errors)
{
    FRESH_DIR(d);
    std::string sub = d / "sub", f = d / "f";
    CHECK_EQ(mkdir(sub.c_str(), 0755), 0);
    CHECK_ERR(mkdir(sub.c_str(), 0755), EEXIST);
    CHECK_ERR(mkdir((sub + "/").c_str(), 0755), EEXIST);
    REQUIRE(make_file(f, "f") == 0);
    CHECK_ERR(mkdir(f.c_str(), 0755), EEXIST);
    CHECK_ERR(mkdir((d / "no/such").c_str(), 0755), ENOENT);
    CHECK_ERR(mkdir((f + "/x").c_str(), 0755), ENOTDIR);
    CHECK_EQ(nlink_of(sub), 2);
    CHECK_EQ(mkdir((sub + "/inner").c_str(), 0700), 0);
    CHECK_EQ(nlink_of(sub), 3);
    CHECK_ERR(rmdir(sub.c_str()), ENOTEMPTY);
    CHECK_ERR(rmdir(f.c_str()), ENOTDIR);
    CHECK_ERR(rmdir((sub + "/.").c_str()), EINVAL);
    CHECK_ERR(rmdir((sub + "/..").c_str()), ENOTEMPTY);
    CHECK_ERR(rmdir((d / "missing").c_str()), ENOENT);
    CHECK_ERR(rmdir("/"), EBUSY);
    CHECK_ERR(unlink(sub.c_str()), EISDIR);
    CHECK_ERR(unlink((f + "/").c_str()), ENOTDIR);
    CHECK_ERR(open(f.c_str(), O_RDONLY | O_DIRECTORY), ENOTDIR);
    CHECK_ERR(open((f + "/").c_str(), O_RDONLY), ENOTDIR);
    CHECK_EQ(rmdir((sub + "/inner").c_str()), 0);
    CHECK_EQ(rmdir(sub.c_str()), 0);
    CHECK_EQ(unlink(f.c_str()), 0);
    // The working directory removed: getcwd says so, and nothing is made in it.
    ufd back(CHECK_OK(open(".", O_RDONLY | O_DIRECTORY)));
    CHECK_EQ(mkdir(sub.c_str(), 0755), 0);
    CHECK_EQ(chdir(sub.c_str()), 0);
    CHECK_EQ(rmdir(sub.c_str()), 0);
    char cwd[256];
    CHECK(getcwd(cwd, sizeof cwd) == nullptr && errno == ENOENT);
    CHECK_ERR(open("new", O_CREAT | O_RDWR, 0644), ENOENT);
    CHECK_EQ(fchdir(back), 0);
}

SCENARIO(files_getdents_sees_changes)
{
    FRESH_DIR(d);
    for (const char* n : {"a", "b", "c"})
        REQUIRE(make_file(d / n, n) == 0);
    CHECK_EQ(unlink((d / "b").c_str()), 0);
    REQUIRE(mkdir((d / "sub").c_str(), 0755) == 0);
    ufd dir(CHECK_OK(open(d.c_str(), O_RDONLY | O_DIRECTORY)));
    std::vector<std::string> names = list_some(dir, 4096, 16);
    std::sort(names.begin(), names.end());
    CHECK_EQ(names.size(), 5u);
    CHECK(names == (std::vector<std::string>{".", "..", "a", "c", "sub"}));

    // Changes while a listing is under way: what was neither added nor removed comes once.
    std::vector<std::string> stay;
    for (int i = 0; i < 24; i++) {
        std::string n = "f" + std::to_string(i);
        REQUIRE(make_file(d / n, "") == 0);
        if (i % 4 != 0)
            stay.push_back(n);
    }
    ufd walk(CHECK_OK(open(d.c_str(), O_RDONLY | O_DIRECTORY)));
    std::vector<std::string> seen = list_some(walk, 96, 2);  // a few records per call
    for (int i = 0; i < 24; i += 4)
        CHECK_EQ(unlink((d / ("f" + std::to_string(i))).c_str()), 0);
    for (int i = 0; i < 6; i++)
        REQUIRE(make_file(d / ("new" + std::to_string(i)), "") == 0);
    std::vector<std::string> rest = list_some(walk, 96, 200);
    seen.insert(seen.end(), rest.begin(), rest.end());
    std::map<std::string, int> count;
    for (const auto& n : seen)
        count[n]++;
    for (const auto& n : stay)
        CHECK_EQ(count[n], 1);
    CHECK_EQ(count["a"], 1);
    CHECK_EQ(count["."], 1);
    CHECK_EQ(list_some(walk, 4096, 4).size(), 0u);  // at the end
}

SCENARIO(files_symlink_and_readlink)
{
    FRESH_DIR(d);
    std::string l = d / "l", t = d / "target";
    CHECK_EQ(symlink("target", l.c_str()), 0);
    char buf[64] = {};
    CHECK_EQ(readlink(l.c_str(), buf, sizeof buf), 6);
    CHECK_EQ(std::string(buf, 6), std::string("target"));
    CHECK_EQ(lstat_of(l).st_mode, S_IFLNK | 0777u);
    CHECK_EQ(lstat_of(l).st_size, 6);
    struct stat st {};
    CHECK_ERR(stat(l.c_str(), &st), ENOENT);  // dangling
    CHECK_ERR(symlink("other", l.c_str()), EEXIST);
    CHECK_ERR(symlink("", (d / "empty").c_str()), ENOENT);
    CHECK_ERR(readlink(d.c_str(), buf, sizeof buf), EINVAL);
    // O_CREAT through a dangling link makes its target.
    ufd fd(CHECK_OK(open(l.c_str(), O_CREAT | O_WRONLY, 0644)));
    CHECK_EQ(write(fd, "via link", 8), 8);
    CHECK_EQ(lstat_of(t).st_size, 8);
    CHECK_ERR(open(l.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644), EEXIST);
    CHECK_ERR(open(l.c_str(), O_RDONLY | O_NOFOLLOW), ELOOP);
    CHECK_EQ(unlink(l.c_str()), 0);  // the link, not its target
    CHECK_EQ(access(t.c_str(), F_OK), 0);
}

SCENARIO(files_hard_links_and_nlink)
{
    FRESH_DIR(d);
    std::string a = d / "a", b = d / "b";
    REQUIRE(make_file(a, "one") == 0);
    CHECK_EQ(link(a.c_str(), b.c_str()), 0);
    CHECK_EQ(nlink_of(a), 2);
    CHECK_EQ(nlink_of(b), 2);
    struct stat sa {}, sb {};
    CHECK(stat(a.c_str(), &sa) == 0 && stat(b.c_str(), &sb) == 0 && sa.st_ino == sb.st_ino);
    {
        ufd fd(CHECK_OK(open(b.c_str(), O_WRONLY | O_APPEND)));
        CHECK_EQ(write(fd, "+two", 4), 4);
    }
    CHECK_EQ(text_of(a), std::string("one+two"));
    CHECK_ERR(link(a.c_str(), b.c_str()), EEXIST);
    CHECK_ERR(link(d.c_str(), (d / "dirlink").c_str()), EPERM);
    CHECK_ERR(link((d / "missing").c_str(), (d / "c").c_str()), ENOENT);
    CHECK_EQ(unlink(a.c_str()), 0);
    CHECK_EQ(nlink_of(b), 1);
    CHECK_EQ(text_of(b), std::string("one+two"));
    CHECK_EQ(chmod(b.c_str(), 0600), 0);
    CHECK(stat(b.c_str(), &sb) == 0 && sb.st_mode == (S_IFREG | 0600));
    // chown, even to the same owner, drops set-user-ID and (group-executable) set-group-ID.
    CHECK_EQ(chmod(b.c_str(), 06755), 0);
    CHECK_EQ(chown(b.c_str(), uid_t(-1), gid_t(-1)), 0);
    CHECK(stat(b.c_str(), &sb) == 0 && sb.st_mode == (S_IFREG | 0755));
    // utimensat(2): exact times, UTIME_OMIT leaves one.
    const timespec times[2] = {{1000000000, 7}, {1500000000, 123456789}};
    CHECK_EQ(utimensat(AT_FDCWD, b.c_str(), times, 0), 0);
    const timespec mtime_only[2] = {{0, UTIME_OMIT}, {1600000000, 0}};
    CHECK_EQ(utimensat(AT_FDCWD, b.c_str(), mtime_only, 0), 0);
    CHECK_EQ(stat(b.c_str(), &sb), 0);
    CHECK_EQ(sb.st_atim.tv_sec, 1000000000);
    CHECK_EQ(sb.st_atim.tv_nsec, 7);
    CHECK_EQ(sb.st_mtim.tv_sec, 1600000000);
    const timespec bad[2] = {{0, 1000000000}, {0, 0}};
    CHECK_ERR(utimensat(AT_FDCWD, b.c_str(), bad, 0), EINVAL);
}
