// Unit tests for the root tree's AF_UNIX socket nodes (fs/vfs_names.cc: mknod_socket,
// find_socket), which the unikernel's platform::unix_mknod / unix_find_node serve bind() and
// connect() with: Linux's unix_bind_bsd() and unix_find_bsd() answers, on tmpfs as root.
#include <gtest/gtest.h>
#include <linux/errno.h>

#include <cstring>

#include "fs/ramfs.h"
#include "fs/vfs.h"

namespace pollux::fs {
namespace {

int make(RamFs& fs, const char* path, bool create = true, uint64_t* ino = nullptr) {
    uint64_t dummy = 0;
    return mknod_socket(fs, path, strlen(path), create, ino != nullptr ? ino : &dummy);
}

int find(RamFs& fs, const char* path, uint64_t* ino) { return find_socket(fs, path, strlen(path), ino); }

TEST(RamFsSocket, BindMakesASocketNodeLessTheUmask) {
    RamFs fs;
    ASSERT_TRUE(fs.ok());
    ASSERT_EQ(mkdir(fs, nullptr, "/d", 2, 0755), 0);
    fs.set_umask(027);
    uint64_t ino = 0;
    ASSERT_EQ(make(fs, "/d/s", true, &ino), 0);
    NodeStat st;
    ASSERT_EQ(stat(fs, nullptr, "/d/s", 4, true, st), 0);
    EXPECT_EQ(st.mode, kS_IFSOCK | 0750);
    EXPECT_EQ(st.ino, ino);
    EXPECT_EQ(st.nlink, 1u);
    kstd::Result<File*> opened = open(fs, nullptr, "/d/s", 4, 2 /* O_RDWR */);
    ASSERT_FALSE(opened.ok());
    EXPECT_EQ(opened.error_code(), ENXIO);  // a socket inode has no file operations
}

TEST(RamFsSocket, BindErrorsAsUnixBindBsd) {
    RamFs fs;
    ASSERT_EQ(make(fs, "/s"), 0);
    EXPECT_EQ(make(fs, "/s"), EADDRINUSE);
    EXPECT_EQ(make(fs, "/s", false), EADDRINUSE);  // the checks alone say the same
    EXPECT_EQ(make(fs, "/missing/s"), ENOENT);
    EXPECT_EQ(make(fs, "/s/x"), ENOTDIR);
    EXPECT_EQ(make(fs, "/fresh", false), 0);  // only checked: nothing made
    uint64_t ino = 0;
    EXPECT_EQ(find(fs, "/fresh", &ino), ENOENT);
}

TEST(RamFsSocket, ConnectFindsSocketsThroughSymlinksOnly) {
    RamFs fs;
    uint64_t made = 0, found = 0;
    ASSERT_EQ(make(fs, "/s", true, &made), 0);
    ASSERT_EQ(symlink(fs, "s", 1, nullptr, "/link", 5), 0);
    EXPECT_EQ(find(fs, "/link", &found), 0);
    EXPECT_EQ(found, made);
    ASSERT_EQ(mkdir(fs, nullptr, "/d", 2, 0755), 0);
    EXPECT_EQ(find(fs, "/d", &found), ECONNREFUSED);  // not a socket
    EXPECT_EQ(find(fs, "/nothing", &found), ENOENT);
    EXPECT_EQ(find(fs, "/s/x", &found), ENOTDIR);
    ASSERT_EQ(unlink(fs, nullptr, "/s", 2, false), 0);
    EXPECT_EQ(find(fs, "/link", &found), ENOENT);
}

}  // namespace
}  // namespace pollux::fs
