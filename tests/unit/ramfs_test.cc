// Unit tests for the unikernel's files (kernel/unikernel/fs/), built hosted: the cpio "newc"
// reader against well-formed and malformed archives (every truncation of a good one included),
// the tree an archive makes, Linux's path resolution over it, and the open files, stat,
// access, readlink, getdents64, getcwd and /proc over the portable sys_* calls. Then the
// tree's changes (creating, writing, truncating, linking, renaming and removing; copy on write
// of the archive's bytes; files unlinked while open; listings of changing directories; the
// byte budget's ENOSPC), with the errno values of Linux's tmpfs rootfs, which
// tests/conformance/files.cc checks on Linux too.
#include "fs/ramfs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/errno.h>

#include <cstdio>
#include <cstring>
#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "eventpoll/fd_table.h"
#include "eventpoll/linux_abi.h"
#include "eventpoll/sys.h"
#include "fs/cpio.h"
#include "fs/vfs.h"
#include "kernel/spin_lock.h"

static_assert(O_CREAT == pollux::abi::kO_CREAT && O_EXCL == pollux::abi::kO_EXCL && O_TRUNC == pollux::abi::kO_TRUNC);
static_assert(O_DIRECTORY == pollux::abi::kO_DIRECTORY && O_NOFOLLOW == pollux::abi::kO_NOFOLLOW);
static_assert(O_PATH == pollux::abi::kO_PATH && O_TMPFILE == pollux::abi::kO_TMPFILE &&
              O_NOCTTY == pollux::abi::kO_NOCTTY);
static_assert(AT_FDCWD == pollux::abi::kAT_FDCWD && AT_EMPTY_PATH == pollux::abi::kAT_EMPTY_PATH);
static_assert(AT_SYMLINK_NOFOLLOW == pollux::abi::kAT_SYMLINK_NOFOLLOW && AT_EACCESS == pollux::abi::kAT_EACCESS);
static_assert(SEEK_DATA == pollux::abi::kSEEK_DATA && SEEK_HOLE == pollux::abi::kSEEK_HOLE);

namespace pollux::fs {
namespace {

// A newc archive written the way qemu/mkcpio and GNU cpio write them.
class Archive {
public:
    Archive& add(const std::string& name, uint32_t mode, const std::string& data = "", const char* magic = "070701",
                 uint32_t mtime = 1700000000, uint32_t nlink = 1, uint32_t ino = 0) {
        std::string nm = name + '\0';
        uint32_t check = 0;
        if (magic[5] == '2')
            for (unsigned char c : data) check += c;
        char hdr[111];
        snprintf(hdr, sizeof hdr, "%s%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x", magic,
                 ino != 0 ? ino : ++ino_, mode, 0u, 0u, nlink, mtime, static_cast<unsigned>(data.size()), 0u, 0u, 0u,
                 0u, static_cast<unsigned>(nm.size()), check);
        bytes += hdr;
        bytes += nm;
        pad();
        bytes += data;
        pad();
        return *this;
    }
    Archive& dir(const std::string& name, uint32_t perm = 0755) { return add(name, kS_IFDIR | perm); }
    Archive& file(const std::string& name, const std::string& data, uint32_t perm = 0644) {
        return add(name, kS_IFREG | perm, data);
    }
    Archive& link(const std::string& name, const std::string& target) { return add(name, kS_IFLNK | 0777, target); }
    Archive& end() { return add("TRAILER!!!", 0); }
    const uint8_t* data() const { return reinterpret_cast<const uint8_t*>(bytes.data()); }
    size_t size() const { return bytes.size(); }

    std::string bytes;

private:
    void pad() {
        while (bytes.size() % 4) bytes += '\0';
    }
    uint32_t ino_ = 0;
};

std::vector<std::string> names_of(const uint8_t* data, size_t size, const char** error = nullptr) {
    cpio::Reader r(data, size);
    cpio::Entry e;
    std::vector<std::string> names;
    while (r.next(e)) names.emplace_back(e.name, e.name_len);
    if (error) *error = r.error();
    return names;
}

// A lookup under the tree's lock, as the vfs calls make them.
Lookup look(RamFs& t, const char* path, bool follow = true) {
    LockGuard guard(t.mutex());
    return t.lookup(t.root(), path, strlen(path), follow);
}

// What a file holds: its stored bytes (the sparse end left out).
std::string stored(Node* n) {
    LockGuard guard(n->inode->lock);
    return std::string(reinterpret_cast<const char*>(n->inode->data), n->inode->len);
}
const uint8_t* data_of(Node* n) {
    LockGuard guard(n->inode->lock);
    return n->inode->data;
}

const char* error_of(const std::string& bytes) {
    const char* error = nullptr;
    names_of(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &error);
    return error;
}

TEST(Cpio, ReadsEntriesInPlace) {
    Archive a;
    a.dir("srv").file("srv/index.html", "<h1>hi</h1>\n").add("init", kS_IFREG | 0755, "\177ELF", "070702").end();
    ASSERT_TRUE(cpio::looks_like_archive(a.data(), a.size()));
    cpio::Reader r(a.data(), a.size());
    cpio::Entry e;
    ASSERT_TRUE(r.next(e));
    EXPECT_EQ(std::string(e.name, e.name_len), "srv");
    EXPECT_EQ(e.mode, kS_IFDIR | 0755);
    EXPECT_EQ(e.size, 0u);
    ASSERT_TRUE(r.next(e));
    EXPECT_EQ(std::string(e.name, e.name_len), "srv/index.html");
    EXPECT_EQ(e.mtime, 1700000000u);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(e.data), e.size), "<h1>hi</h1>\n");
    // No copy: the data is the archive's own bytes.
    EXPECT_GE(e.data, a.data());
    EXPECT_LE(e.data + e.size, a.data() + a.size());
    ASSERT_TRUE(r.next(e));
    EXPECT_EQ(std::string(e.name, e.name_len), "init");
    EXPECT_FALSE(r.next(e));
    EXPECT_EQ(r.error(), nullptr);
    EXPECT_EQ(r.archives(), 1u);
}

TEST(Cpio, ConcatenatedArchivesAndZeroPadding) {
    Archive a;
    a.file("one", "1").end();
    a.bytes += std::string(512 - a.bytes.size() % 512, '\0');  // what cpio's block padding adds
    a.file("two", "22").end();
    a.bytes += std::string(8, '\0');
    EXPECT_EQ(names_of(a.data(), a.size()), (std::vector<std::string>{"one", "two"}));
}

TEST(Cpio, RejectsMalformedArchives) {
    Archive good;
    good.file("a", "data").end();
    std::string g = good.bytes;

    EXPECT_STREQ(error_of(""), "the archive ends without its TRAILER!!! entry");
    EXPECT_STREQ(error_of(g.substr(0, 50)), "a truncated entry header");
    EXPECT_STREQ(error_of("070707" + g.substr(6)), "an old-format (odc) cpio header: pack the archive with -H newc");
    EXPECT_STREQ(error_of("x" + g), "no cpio magic (070701 or 070702) where an entry should start");
    std::string bad_hex = g;
    bad_hex[6 + 8 * 2 + 3] = 'g';  // uid
    EXPECT_STREQ(error_of(bad_hex), "a header field that is not 8 hex digits");
    std::string bad_size = g;
    memcpy(&bad_size[6 + 8 * 6], "00001000", 8);  // filesize past the end
    EXPECT_STREQ(error_of(bad_size), "an entry whose data runs past the end of the archive");
    std::string huge_size = g;
    memcpy(&huge_size[6 + 8 * 6], "ffffffff", 8);
    EXPECT_STREQ(error_of(huge_size), "an entry whose data runs past the end of the archive");
    std::string no_name = g;
    memcpy(&no_name[6 + 8 * 11], "00000000", 8);
    EXPECT_STREQ(error_of(no_name), "an entry without a name (namesize 0)");
    std::string long_name = g;
    memcpy(&long_name[6 + 8 * 11], "00001001", 8);
    EXPECT_STREQ(error_of(long_name), "an entry name longer than PATH_MAX");
    std::string unterminated = g;
    memcpy(&unterminated[6 + 8 * 11], "00000001", 8);  // "a" without its NUL
    EXPECT_STREQ(error_of(unterminated), "an entry name without its terminating NUL");
    std::string nul_inside = g;
    memcpy(&nul_inside[6 + 8 * 11], "00000003", 8);  // "a\0d": the NUL, then the data's first byte
    nul_inside[110 + 2] = '\0';
    EXPECT_STREQ(error_of(nul_inside), "an entry name with a NUL inside");
    Archive crc;
    crc.add("a", kS_IFREG | 0644, "data", "070702").end();
    std::string bad_crc = crc.bytes;
    bad_crc[112] ^= 1;  // one data bit
    EXPECT_STREQ(error_of(bad_crc), "a data checksum that does not match the 070702 header");
    EXPECT_EQ(error_of(crc.bytes), nullptr);
    // After the trailer only zeros or another archive; a header must start on 4 bytes.
    EXPECT_STREQ(error_of(g + "junk"), "no cpio magic (070701 or 070702) where an entry should start");
    EXPECT_STREQ(error_of(g + std::string(3, '\0') + "07"),
                 "an entry that does not start on a 4-byte boundary (broken padding)");
    Archive untrailed;
    untrailed.file("a", "data");
    EXPECT_STREQ(error_of(untrailed.bytes), "the archive ends without its TRAILER!!! entry");
}

TEST(Cpio, EveryTruncationIsAnErrorNotACrash) {
    Archive a;
    a.dir(".").dir("srv").file("srv/x", "0123456789").link("srv/l", "x").file("init", std::string(1000, 'e')).end();
    for (size_t len = 0; len < a.size(); ++len) {
        std::string cut = a.bytes.substr(0, len);  // its own allocation: ASan sees an over-read
        const char* error = nullptr;
        names_of(reinterpret_cast<const uint8_t*>(cut.data()), cut.size(), &error);
        // The last few bytes are the trailer's padding: without them the archive is whole.
        if (len + 3 < a.size()) {
            EXPECT_NE(error, nullptr) << "length " << len;
        }
    }
}

// The fixture's tree, as a packed image would have it.
class Tree : public ::testing::Test {
protected:
    void SetUp() override {
        archive.dir(".", 0755)
            .file("bin/app", "\177ELF and the rest", 0755)
            .dir("srv")
            .file("srv/index.html", "<h1>hi</h1>\n")
            .file("srv/empty", "")
            .dir("srv/sub", 0750)
            .file("srv/sub/a.txt", "abc")
            .link("srv/link", "index.html")
            .link("srv/abs", "/srv/sub")
            .link("srv/loop1", "loop2")
            .link("srv/loop2", "loop1")
            .link("srv/dangling", "nowhere")
            .link("srv/slash", "index.html/")
            .dir("proc")
            .file("proc/hidden", "the archive's /proc is covered")
            .end();
        const char* error = nullptr;
        size_t at = 0;
        ASSERT_TRUE(fs.add_archive(archive.data(), archive.size(), stats, &error, &at)) << error << " at " << at;
        ASSERT_TRUE(mount_proc(fs, render, "/bin/app"));
    }
    void TearDown() override {
        for (int fd : fds) sys_close(fd);
    }

    static long render(const char* key, char* buf, size_t cap) { return snprintf(buf, cap, "counters of %s\n", key); }

    Lookup find(const char* path, bool follow = true, Node* base = nullptr) {
        LockGuard guard(fs.mutex());
        return fs.lookup(base ? base : fs.root(), path, strlen(path), follow);
    }
    // open(2) into the fd table: the descriptor or -errno.
    int open_fd(const char* path, int flags, Node* base = nullptr) {
        kstd::Result<File*> f = open(fs, base ? base : fs.root(), path, strlen(path), flags);
        if (!f.ok()) return -f.error_code();
        kstd::Result<int> fd = FdTable::instance().install(FileRef(f.value()), (flags & O_CLOEXEC) != 0);
        if (!fd.ok()) return -fd.error_code();
        fds.push_back(fd.value());
        return fd.value();
    }
    int open_errno(const char* path, int flags) {
        int fd = open_fd(path, flags);
        return fd < 0 ? -fd : 0;
    }
    std::string read_all(int fd) {
        std::string out;
        char buf[7];  // odd-sized, so reads end mid-file
        long n;
        while ((n = sys_read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
        EXPECT_EQ(n, 0);
        return out;
    }
    std::vector<std::string> list(int fd, size_t bufsize = 4096) {
        FileRef file = FdTable::instance().get(fd);
        std::vector<std::string> names;
        std::vector<char> buf(bufsize);
        for (;;) {
            kstd::Result<size_t> r = static_cast<DirectoryFile&>(*file).getdents64(buf.data(), buf.size());
            if (!r.ok()) {
                names.push_back("error " + std::to_string(r.error_code()));
                break;
            }
            if (r.value() == 0) break;
            for (size_t at = 0; at < r.value();) {
                uint16_t reclen;
                memcpy(&reclen, &buf[at + 16], 2);
                EXPECT_EQ(reclen % 8, 0);
                names.push_back(std::string(&buf[at + 19]) + ":" + std::to_string(buf[at + 18]));
                at += reclen;
            }
        }
        return names;
    }

    Archive archive;
    RamFs fs;
    BuildStats stats;
    std::vector<int> fds;
};

TEST_F(Tree, BuildsTheArchiveTree) {
    EXPECT_EQ(stats.files, 5u);
    EXPECT_EQ(stats.dirs, 4u);
    EXPECT_EQ(stats.symlinks, 6u);
    Lookup l = find("/bin/app");
    ASSERT_EQ(l.error, 0);
    EXPECT_TRUE(l.node->is_regular());
    EXPECT_EQ(l.node->inode->mode, kS_IFREG | 0755);
    // The file's bytes are the archive's: no copy.
    EXPECT_GE(data_of(l.node), archive.data());
    EXPECT_LT(data_of(l.node), archive.data() + archive.size());
    NodeStat st;
    stat_node(*find("/srv/sub").node, st);
    EXPECT_EQ(st.mode, kS_IFDIR | 0750);
    EXPECT_EQ(st.nlink, 2u);
    stat_node(*find("/srv").node, st);
    EXPECT_EQ(st.nlink, 3u);  // ".", its entry in /, and sub's ".."
    stat_node(*find("/srv/index.html").node, st);
    EXPECT_EQ(st.size, 12);
    EXPECT_EQ(st.mtime, 1700000000);
    EXPECT_EQ(st.blocks, 8u);
    EXPECT_EQ(st.nlink, 1u);
    stat_node(*find("/srv/link", false).node, st);
    EXPECT_EQ(st.mode, kS_IFLNK | 0777);
    EXPECT_EQ(st.size, 10);  // the target's length
    EXPECT_NE(find("/srv/index.html").node->inode->ino, find("/srv/empty").node->inode->ino);
    // bin/ was never an entry of its own: made on the way, 0755.
    EXPECT_EQ(find("/bin").node->inode->mode, kS_IFDIR | 0755);
}

TEST_F(Tree, ResolvesPathsAsLinux) {
    Node* index = find("/srv/index.html").node;
    ASSERT_NE(index, nullptr);
    EXPECT_EQ(find("//srv///./sub/../index.html").node, index);
    EXPECT_EQ(find("/../../srv/index.html").node, index);  // ".." at the root stays there
    EXPECT_EQ(find("index.html", true, find("/srv").node).node, index);
    EXPECT_EQ(find("../index.html", true, find("/srv/sub").node).node, index);
    EXPECT_EQ(find("../../srv/./index.html", true, find("/srv/sub").node).node, index);
    EXPECT_EQ(find("/").node, fs.root());
    EXPECT_EQ(find(".", true, find("/srv").node).node, find("/srv").node);
    EXPECT_EQ(find("/srv/sub/").node, find("/srv/sub").node);
    // Symlinks: followed in the middle always, at the end when asked or before a slash.
    EXPECT_EQ(find("/srv/link").node, index);
    EXPECT_TRUE(find("/srv/link", false).node->is_symlink());
    EXPECT_EQ(find("/srv/abs/a.txt").node, find("/srv/sub/a.txt").node);
    EXPECT_EQ(find("/srv/abs/", false).node, find("/srv/sub").node);
    EXPECT_EQ(find("/srv/abs/..").node, find("/srv").node);  // ".." of where the link led
    EXPECT_EQ(find("/srv/loop1").error, ELOOP);
    EXPECT_EQ(find("/srv/loop1/x").error, ELOOP);
    EXPECT_TRUE(find("/srv/loop1", false).node->is_symlink());
    EXPECT_EQ(find("/srv/dangling").error, ENOENT);
    EXPECT_EQ(find("/srv/slash").error, ENOTDIR);  // a target ending in "/" must be a directory
    // Errors, and what a creation would need.
    Lookup l = find("/srv/new.txt");
    EXPECT_EQ(l.error, ENOENT);
    EXPECT_EQ(l.parent, find("/srv").node);
    EXPECT_EQ(std::string(l.name, l.name_len), "new.txt");
    EXPECT_FALSE(l.trailing_slash);
    EXPECT_TRUE(find("/srv/newdir/").trailing_slash);
    l = find("/srv/missing/new.txt");
    EXPECT_EQ(l.error, ENOENT);
    EXPECT_EQ(l.parent, nullptr);
    EXPECT_EQ(find("/srv/index.html/x").error, ENOTDIR);
    EXPECT_EQ(find("/srv/index.html/").error, ENOTDIR);
    EXPECT_EQ(find("/srv/index.html/.").error, ENOTDIR);
    EXPECT_EQ(find("").error, ENOENT);
    std::string long_component = "/srv/" + std::string(256, 'a');
    EXPECT_EQ(find(long_component.c_str()).error, ENAMETOOLONG);
    std::string max_component = "/srv/" + std::string(255, 'a');
    EXPECT_EQ(find(max_component.c_str()).error, ENOENT);
}

TEST_F(Tree, FortySymlinksAreTheLimit) {
    Archive chain;
    for (int i = 0; i < 41; ++i) chain.link("l" + std::to_string(i), "l" + std::to_string(i + 1));
    chain.file("l41", "end").end();
    RamFs t;
    BuildStats s;
    const char* error = nullptr;
    size_t at = 0;
    ASSERT_TRUE(t.add_archive(chain.data(), chain.size(), s, &error, &at));
    EXPECT_EQ(look(t, "/l1").error, 0);      // 40 links to follow
    EXPECT_EQ(look(t, "/l0").error, ELOOP);  // 41
}

TEST(RamFsBuild, RejectsWhatCannotBeATree) {
    auto build = [](Archive& a) -> std::string {
        a.end();
        RamFs t;
        BuildStats s;
        const char* error = nullptr;
        size_t at = 0;
        return t.add_archive(a.data(), a.size(), s, &error, &at) ? "ok" : error;
    };
    Archive dotdot;
    dotdot.file("srv/../../etc/passwd", "x");
    EXPECT_EQ(build(dotdot), "an entry name with a \"..\" component");
    Archive under_file;
    under_file.file("a", "x").file("a/b", "y");
    EXPECT_EQ(build(under_file), "an entry inside something that is not a directory");
    Archive kinds;
    kinds.dir("a").file("a", "x");
    EXPECT_EQ(build(kinds), "a directory and a non-directory entry of the same name");
    Archive root_file;
    root_file.file(".", "x");
    EXPECT_EQ(build(root_file), "a root entry (\".\") that is not a directory");
    Archive empty_link;
    empty_link.link("l", "");
    EXPECT_EQ(build(empty_link), "a symlink with an empty target");
    Archive nul_link;
    nul_link.link("l", std::string("a\0b", 3));
    EXPECT_EQ(build(nul_link), "a symlink target with a NUL inside");
    Archive long_component;
    long_component.file(std::string(256, 'n'), "x");
    EXPECT_EQ(build(long_component), "an entry name with a component longer than NAME_MAX");
    // What is fine: any spelling of the root, a later file replacing an earlier one, devices
    // and fifos left out, parents made on the way.
    Archive fine;
    fine.dir("/")
        .dir("./")
        .file("/x", "old")
        .file("./x", "new")
        .add("dev/console", 0020600)
        .add("fifo", 0010644)
        .file("a/b/c/d", "deep");
    EXPECT_EQ(build(fine), "ok");
    RamFs t;
    BuildStats s;
    const char* error = nullptr;
    size_t at = 0;
    ASSERT_TRUE(t.add_archive(fine.data(), fine.size(), s, &error, &at));
    EXPECT_EQ(s.skipped, 2u);
    Lookup x = look(t, "/x");
    ASSERT_EQ(x.error, 0);
    EXPECT_EQ(stored(x.node), "new");
    EXPECT_EQ(look(t, "/a/b/c/d").error, 0);
    EXPECT_EQ(look(t, "/dev").error, 0);  // the parent of what was left out
}

TEST(RamFsBuild, HardLinksShareTheirFile) {
    // GNU cpio's way: every name of the file has nlink 2 and the same inode, the data comes
    // with the last name. The first one's data (here empty) must become the shared data.
    Archive a;
    a.add("first", kS_IFREG | 0644, "", "070701", 1700000000, 3, 0x77);
    a.add("second", kS_IFREG | 0644, "", "070701", 1700000000, 3, 0x77);
    a.add("third", kS_IFREG | 0644, "shared", "070701", 1700000000, 3, 0x77);
    a.add("other", kS_IFREG | 0644, "", "070701", 1700000000, 2, 0x78);  // another inode, alone
    a.file("first", "replaced").end();  // a later entry of a linked name: a file of its own
    RamFs t;
    BuildStats s;
    const char* error = nullptr;
    size_t at = 0;
    ASSERT_TRUE(t.add_archive(a.data(), a.size(), s, &error, &at)) << error;
    auto node = [&](const char* p) { return look(t, p).node; };
    auto text = [&](const char* p) { return stored(node(p)); };
    EXPECT_EQ(text("/second"), "shared");
    EXPECT_EQ(text("/third"), "shared");
    EXPECT_EQ(node("/second")->inode, node("/third")->inode);
    EXPECT_EQ(node("/second")->nlink(), 2u);
    EXPECT_EQ(node("/third")->nlink(), 2u);
    EXPECT_EQ(text("/first"), "replaced");
    EXPECT_EQ(node("/first")->nlink(), 1u);
    EXPECT_NE(node("/first")->inode->ino, node("/second")->inode->ino);
    EXPECT_EQ(text("/other"), "");
    EXPECT_EQ(node("/other")->nlink(), 1u);
}

TEST_F(Tree, OpenChecksFlagsAsLinux) {
    EXPECT_EQ(open_errno("/srv/index.html", O_RDONLY), 0);
    EXPECT_EQ(open_errno("/srv/index.html", O_WRONLY), 0);
    EXPECT_EQ(open_errno("/srv/index.html", O_RDWR), 0);
    EXPECT_EQ(open_errno("/srv/new.txt", O_WRONLY | O_CREAT), 0);
    EXPECT_EQ(open_errno("/srv/new/", O_RDONLY | O_CREAT), EISDIR);
    EXPECT_EQ(open_errno("/srv/missing/new.txt", O_WRONLY | O_CREAT), ENOENT);
    EXPECT_EQ(open_errno("/srv/index.html", O_RDONLY | O_CREAT), 0);  // exists: just opened
    EXPECT_EQ(open_errno("/srv/index.html", O_RDONLY | O_CREAT | O_EXCL), EEXIST);
    EXPECT_EQ(open_errno("/srv/link", O_RDONLY | O_CREAT | O_EXCL), EEXIST);  // not followed
    EXPECT_EQ(open_errno("/srv", O_RDONLY | O_CREAT), EISDIR);
    EXPECT_EQ(open_errno("/srv", O_RDONLY | O_CREAT | O_DIRECTORY), EINVAL);
    EXPECT_EQ(open_errno("/srv", O_WRONLY), EISDIR);
    EXPECT_EQ(open_errno("/srv", O_RDONLY | O_TRUNC), EISDIR);
    EXPECT_EQ(open_errno("/srv", O_RDONLY | O_DIRECTORY), 0);
    EXPECT_EQ(open_errno("/srv/index.html", O_RDONLY | O_DIRECTORY), ENOTDIR);
    EXPECT_EQ(open_errno("/srv/link", O_RDONLY | O_NOFOLLOW), ELOOP);
    EXPECT_EQ(open_errno("/srv/link", O_RDONLY), 0);
    EXPECT_EQ(open_errno("/srv/missing", O_RDONLY), ENOENT);
    EXPECT_EQ(open_errno("/srv", O_RDONLY | O_TMPFILE), EINVAL);
    EXPECT_EQ(open_errno("/srv", O_WRONLY | O_TMPFILE), 0);
    EXPECT_EQ(open_errno("/srv", O_WRONLY | O_TMPFILE | O_CREAT), EINVAL);
    EXPECT_EQ(open_errno("/srv/index.html", O_WRONLY | O_TMPFILE), ENOTDIR);
    EXPECT_EQ(open_errno("/proc/1", O_WRONLY | O_TMPFILE), EPERM);
    EXPECT_EQ(open_errno("/proc/new", O_WRONLY | O_CREAT), ENOENT);
    EXPECT_EQ(open_errno("/srv/index.html", O_RDONLY | O_DIRECT), EINVAL);
    EXPECT_EQ(open_errno("/proc/net/snmp", O_WRONLY), EACCES);

    int fd = open_fd("/srv/index.html", O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    ASSERT_GE(fd, 0);
    // glibc spells O_LARGEFILE 0 on x86_64; the kernel reports its 0100000. No O_CLOEXEC, as Linux.
    EXPECT_EQ(sys_fcntl(fd, F_GETFL, 0), O_RDONLY | O_NONBLOCK | abi::kO_LARGEFILE);
    EXPECT_EQ(sys_fcntl(fd, F_GETFD, 0), FD_CLOEXEC);
    int dir = open_fd("/srv", O_RDONLY | O_DIRECTORY);
    EXPECT_EQ(sys_fcntl(dir, F_GETFL, 0), O_RDONLY | O_DIRECTORY | abi::kO_LARGEFILE);
    EXPECT_EQ(sys_fcntl(dir, F_GETFD, 0), 0);
}

TEST_F(Tree, ReadsSeeksAndPreadsRegularFiles) {
    int fd = open_fd("/srv/index.html", O_RDONLY);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(read_all(fd), "<h1>hi</h1>\n");
    EXPECT_EQ(sys_lseek(fd, 0, SEEK_CUR), 12);
    EXPECT_EQ(sys_lseek(fd, 4, SEEK_SET), 4);
    char buf[16] = {};
    EXPECT_EQ(sys_read(fd, buf, 2), 2);
    EXPECT_EQ(std::string(buf, 2), "hi");
    EXPECT_EQ(sys_lseek(fd, -1, SEEK_END), 11);
    EXPECT_EQ(sys_lseek(fd, -12, SEEK_CUR), -EINVAL);
    EXPECT_EQ(sys_lseek(fd, INT64_MAX, SEEK_CUR), -EINVAL);  // overflows
    EXPECT_EQ(sys_lseek(fd, 0, 5), -EINVAL);
    EXPECT_EQ(sys_lseek(fd, 5, SEEK_DATA), 5);
    EXPECT_EQ(sys_lseek(fd, 5, SEEK_HOLE), 12);
    EXPECT_EQ(sys_lseek(fd, 12, SEEK_DATA), -ENXIO);
    EXPECT_EQ(sys_lseek(fd, -1, SEEK_HOLE), -ENXIO);
    EXPECT_EQ(sys_lseek(fd, 1000, SEEK_SET), 1000);
    EXPECT_EQ(sys_read(fd, buf, sizeof buf), 0);
    EXPECT_EQ(sys_pread64(fd, buf, 4, 7), 4);
    EXPECT_EQ(std::string(buf, 4), "/h1>");
    EXPECT_EQ(sys_lseek(fd, 0, SEEK_CUR), 1000);  // pread left the position alone
    EXPECT_EQ(sys_pread64(fd, buf, 4, 12), 0);
    EXPECT_EQ(sys_pread64(fd, buf, 4, -1), -EINVAL);
    EXPECT_EQ(sys_pread64(fd, buf, 4, INT64_MAX - 2), -EINVAL);  // pos + count past LLONG_MAX
    EXPECT_EQ(sys_pread64(fd, nullptr, 4, 0), -EFAULT);          // a buffer that faults
    EXPECT_EQ(sys_pread64(fd, nullptr, 4, 100), 0);              // nothing to copy: no fault, as Linux
    char a[2], b[3];
    IoVec iov[2] = {{a, sizeof a}, {b, sizeof b}};
    EXPECT_EQ(sys_preadv(fd, iov, 2, 0), 5);
    EXPECT_EQ(std::string(a, 2) + std::string(b, 3), "<h1>h");
    EXPECT_EQ(sys_write(fd, "x", 1), -EBADF);
    // A generated file is a snapshot taken at open, seeking as seq_file does.
    int snmp = open_fd("/proc/net/snmp", O_RDONLY);
    ASSERT_GE(snmp, 0);
    EXPECT_EQ(read_all(snmp), "counters of /proc/net/snmp\n");
    EXPECT_EQ(sys_lseek(snmp, 0, SEEK_END), -EINVAL);
    EXPECT_EQ(sys_lseek(snmp, 0, SEEK_DATA), -EINVAL);
    EXPECT_EQ(sys_lseek(snmp, 9, SEEK_SET), 9);
    EXPECT_EQ(read_all(snmp), "of /proc/net/snmp\n");
    NodeStat st;
    stat_node(*node_of(*FdTable::instance().get(snmp)), st);
    EXPECT_EQ(st.mode, kS_IFREG | 0444);
    EXPECT_EQ(st.size, 0);  // as Linux's /proc files
}

TEST_F(Tree, PositionsOfOtherFilesAreLinuxs) {
    int p[2];
    ASSERT_EQ(sys_pipe(p), 0);
    char buf[4];
    EXPECT_EQ(sys_lseek(p[0], 0, SEEK_SET), -ESPIPE);
    EXPECT_EQ(sys_lseek(p[0], 0, 9), -EINVAL);  // whence is checked first
    EXPECT_EQ(sys_pread64(p[0], buf, 1, 0), -ESPIPE);
    EXPECT_EQ(sys_pread64(p[0], buf, 1, -1), -EINVAL);
    int efd = static_cast<int>(sys_eventfd2(0, 0));
    EXPECT_EQ(sys_lseek(efd, 10, SEEK_SET), 0);  // noop_llseek
    EXPECT_EQ(sys_pread64(efd, buf, 1, 0), -ESPIPE);
    EXPECT_EQ(sys_lseek(12345, 0, SEEK_SET), -EBADF);
    sys_close(p[0]);
    sys_close(p[1]);
    sys_close(efd);
}

TEST_F(Tree, ListsDirectories) {
    int dir = open_fd("/srv", O_RDONLY | O_DIRECTORY);
    ASSERT_GE(dir, 0);
    std::vector<std::string> want = {".:4",    "..:4",     "index.html:8", "empty:8",     "sub:4",   "link:10",
                                     "abs:10", "loop1:10", "loop2:10",     "dangling:10", "slash:10"};
    EXPECT_EQ(list(dir), want);
    EXPECT_EQ(list(dir), std::vector<std::string>{});  // at the end
    EXPECT_EQ(sys_lseek(dir, 0, SEEK_SET), 0);
    EXPECT_EQ(list(dir, 32), want);  // one record per call
    EXPECT_EQ(sys_lseek(dir, 0, SEEK_SET), 0);
    EXPECT_EQ(list(dir, 8), std::vector<std::string>{"error " + std::to_string(EINVAL)});
    EXPECT_EQ(sys_lseek(dir, 4, SEEK_SET), 4);
    EXPECT_EQ(list(dir)[0], "sub:4");
    EXPECT_EQ(sys_lseek(dir, 0, SEEK_END), -EINVAL);
    EXPECT_EQ(sys_lseek(dir, -1, SEEK_SET), -EINVAL);
    char buf[4];
    EXPECT_EQ(sys_read(dir, buf, sizeof buf), -EISDIR);
    EXPECT_EQ(sys_pread64(dir, buf, sizeof buf, 0), -EISDIR);
    int root = open_fd("/", O_RDONLY);
    std::vector<std::string> top = list(root);
    EXPECT_EQ(top, (std::vector<std::string>{".:4", "..:4", "bin:4", "srv:4", "proc:4"}));
    // d_ino of ".." at the root is the root's own.
    EXPECT_EQ(find("/").node->parent, find("/").node);
}

TEST_F(Tree, ProcIsTheKernelsOverTheArchives) {
    EXPECT_EQ(find("/proc/hidden").error, ENOENT);
    EXPECT_EQ(find("/proc/net/snmp").node, find("/proc/1/net/snmp").node);
    EXPECT_EQ(find("/proc/self/net/dev").node, find("/proc/1/net/dev").node);
    char target[64];
    EXPECT_EQ(readlink(fs, fs.root(), "/proc/self/exe", 14, target, sizeof target), 8);
    EXPECT_EQ(std::string(target, 8), "/bin/app");
    EXPECT_EQ(find("/proc/self/exe").node, find("/bin/app").node);
    EXPECT_EQ(readlink(fs, fs.root(), "/proc/self/exe", 14, target, 4), 4);  // truncated, no NUL
    EXPECT_EQ(readlink(fs, fs.root(), "/srv/index.html", 15, target, sizeof target), -EINVAL);
    EXPECT_EQ(readlink(fs, fs.root(), "/srv/nothing", 12, target, sizeof target), -ENOENT);
    // Without an exe (the module was the program itself) there is no link.
    RamFs bare;
    ASSERT_TRUE(mount_proc(bare, render, nullptr));
    EXPECT_EQ(look(bare, "/proc/self/exe", false).error, ENOENT);
    EXPECT_EQ(look(bare, "/proc/net/snmp", false).error, 0);
}

TEST_F(Tree, AccessAndWorkingDirectory) {
    auto acc = [&](const char* path, int mode) { return access(fs, fs.root(), path, strlen(path), mode, true); };
    EXPECT_EQ(acc("/srv/index.html", R_OK), 0);
    EXPECT_EQ(acc("/srv/index.html", F_OK), 0);
    EXPECT_EQ(acc("/srv/index.html", W_OK), 0);
    EXPECT_EQ(acc("/proc/net/snmp", W_OK), -EACCES);
    EXPECT_EQ(acc("/srv/index.html", X_OK), -EACCES);
    EXPECT_EQ(acc("/bin/app", X_OK), 0);
    EXPECT_EQ(acc("/srv/sub", X_OK | R_OK), 0);
    EXPECT_EQ(acc("/srv", W_OK), 0);
    EXPECT_EQ(acc("/srv/missing", F_OK), -ENOENT);
    EXPECT_EQ(acc("/srv/index.html", 8), -EINVAL);
    char buf[64];
    auto path_of = [&](RamFs& t, Node* n, char* out, size_t size) {
        LockGuard guard(t.mutex());
        return fs::path_of(t, n, out, size);
    };
    EXPECT_EQ(path_of(fs, fs.root(), buf, sizeof buf), 2);
    EXPECT_STREQ(buf, "/");
    EXPECT_EQ(path_of(fs, find("/srv/sub").node, buf, sizeof buf), 9);
    EXPECT_STREQ(buf, "/srv/sub");
    EXPECT_EQ(path_of(fs, find("/srv/sub").node, buf, 8), -ERANGE);
    EXPECT_EQ(path_of(fs, fs.root(), buf, 1), -ERANGE);
}

TEST_F(Tree, OPathNamesWithoutOpening) {
    int fd = open_fd("/srv/index.html", O_PATH | O_RDWR);  // the access mode is ignored
    ASSERT_GE(fd, 0);
    char buf[4];
    EXPECT_EQ(sys_read(fd, buf, sizeof buf), -EBADF);
    EXPECT_EQ(sys_lseek(fd, 0, SEEK_SET), -EBADF);
    EXPECT_EQ(sys_pread64(fd, buf, 1, 0), -EBADF);
    EXPECT_EQ(sys_fcntl(fd, F_GETFL, 0), O_PATH);
    EXPECT_EQ(node_of(*FdTable::instance().get(fd)), find("/srv/index.html").node);
    int dir = open_fd("/srv", O_PATH);
    ASSERT_GE(dir, 0);
    Node* base = node_of(*FdTable::instance().get(dir));
    EXPECT_GE(open_fd("sub/a.txt", O_RDONLY, base), 0);
}


// ---- The tree's changes: Linux's tmpfs rootfs.

namespace {

int mkdir_at(RamFs& t, const char* p, uint32_t mode = 0755) { return mkdir(t, nullptr, p, strlen(p), mode); }
int unlink_at(RamFs& t, const char* p, bool dir = false) { return unlink(t, nullptr, p, strlen(p), dir); }
int rename_at(RamFs& t, const char* from, const char* to, unsigned flags = 0) {
    return rename(t, nullptr, from, strlen(from), nullptr, to, strlen(to), flags);
}
int link_at(RamFs& t, const char* from, const char* to) {
    return link(t, nullptr, from, strlen(from), nullptr, to, strlen(to), false);
}
long write_str(int fd, const std::string& s) { return sys_write(fd, s.data(), s.size()); }
long pwrite_str(int fd, const std::string& s, int64_t pos) {
    IoVec seg{const_cast<char*>(s.data()), s.size()};
    IoIter it(&seg, 1);
    kstd::Result<size_t> r = static_cast<NodeFile&>(*FdTable::instance().get(fd)).write_at(it, pos);
    return r.ok() ? static_cast<long>(r.value()) : -r.error_code();
}
NodeStat fstat_of(int fd) {
    NodeStat st;
    stat_node(*node_of(*FdTable::instance().get(fd)), st);
    return st;
}
constexpr unsigned kNoreplace = 1, kExchange = 2;

}  // namespace

TEST_F(Tree, FirstWriteCopiesTheArchivesBytes) {
    Node* index = find("/srv/index.html").node;
    const std::string before = archive.bytes;
    int fd = open_fd("/srv/index.html", O_RDWR);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(fs.budget().used(), 0u);
    EXPECT_EQ(pwrite_str(fd, "H2", 1), 2);
    EXPECT_EQ(read_all(fd), "<H2>hi</h1>\n");
    EXPECT_EQ(archive.bytes, before);  // the archive is never written
    EXPECT_FALSE(data_of(index) >= archive.data() && data_of(index) < archive.data() + archive.size());
    EXPECT_EQ(fs.budget().used(), 64u);  // the smallest buffer
    // Appending past the buffer grows it geometrically.
    int app = open_fd("/srv/index.html", O_WRONLY | O_APPEND);
    EXPECT_EQ(write_str(app, std::string(60, 'x')), 60);
    EXPECT_EQ(fs.budget().used(), 128u);
    EXPECT_EQ(fstat_of(fd).size, 72);
    // Truncating an archive file down never copies it.
    Node* a = find("/srv/sub/a.txt").node;
    EXPECT_EQ(truncate(fs, nullptr, "/srv/sub/a.txt", 14, 2), 0);
    EXPECT_GE(data_of(a), archive.data());
    EXPECT_LT(data_of(a), archive.data() + archive.size());
    EXPECT_EQ(truncate(fs, nullptr, "/srv/sub/a.txt", 14, 6), 0);
    int afd = open_fd("/srv/sub/a.txt", O_RDONLY);
    EXPECT_EQ(read_all(afd), std::string("ab\0\0\0\0", 6));
    EXPECT_EQ(fstat_of(afd).blocks, 8u);
    EXPECT_EQ(truncate(fs, nullptr, "/srv/sub/a.txt", 14, -1), EINVAL);
    EXPECT_EQ(truncate(fs, nullptr, "/srv", 4, 0), EISDIR);
    EXPECT_EQ(truncate(fs, nullptr, "/proc/net/snmp", 14, 0), EACCES);
}

TEST_F(Tree, WritesReadsHolesAndAppends) {
    int fd = open_fd("/srv/new.txt", O_CREAT | O_RDWR);
    ASSERT_GE(fd, 0);
    EXPECT_EQ(write_str(fd, "abc"), 3);
    EXPECT_EQ(sys_lseek(fd, 10, SEEK_SET), 10);
    EXPECT_EQ(write_str(fd, "z"), 1);
    EXPECT_EQ(read_all(fd), "");  // the position is at the end
    EXPECT_EQ(sys_lseek(fd, 0, SEEK_SET), 0);
    EXPECT_EQ(read_all(fd), std::string("abc\0\0\0\0\0\0\0z", 11));
    EXPECT_EQ(sys_lseek(fd, 0, SEEK_END), 11);
    EXPECT_EQ(truncate(fs, node_of(*FdTable::instance().get(fd)), 1 << 30), 0);  // sparse: no memory
    EXPECT_EQ(fstat_of(fd).size, 1 << 30);
    EXPECT_LE(fs.budget().used(), 64u);
    char buf[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    EXPECT_EQ(sys_pread64(fd, buf, sizeof buf, (1 << 30) - 4), 4);
    EXPECT_EQ(std::string(buf, 4), std::string(4, '\0'));
    EXPECT_EQ(truncate(fs, node_of(*FdTable::instance().get(fd)), 0), 0);
    EXPECT_EQ(fs.budget().used(), 0u);  // an emptied file gives its buffer back
    EXPECT_EQ(pwrite_str(fd, "x", INT64_MAX), -EFBIG);
    // O_APPEND writes, and pwrites, go to the end.
    int app = open_fd("/srv/new.txt", O_WRONLY | O_APPEND);
    EXPECT_EQ(write_str(app, "one"), 3);
    EXPECT_EQ(pwrite_str(app, "two", 0), 3);
    EXPECT_EQ(sys_pread64(fd, buf, sizeof buf, 0), 6);
    EXPECT_EQ(std::string(buf, 6), "onetwo");
    EXPECT_EQ(sys_write(fd, nullptr, 4), -EFAULT);  // a buffer that faults
    EXPECT_EQ(sys_lseek(app, 0, SEEK_CUR), 3);
    // O_TRUNC empties, even with O_RDONLY (Linux's handle_truncate()).
    int trunc = open_fd("/srv/new.txt", O_RDONLY | O_TRUNC);
    EXPECT_EQ(fstat_of(trunc).size, 0);
    EXPECT_EQ(write_str(trunc, "x"), -EBADF);
}

TEST_F(Tree, AFullBudgetIsEnospcAndChangesNothing) {
    fs.budget().set_limit(100);
    int fd = open_fd("/srv/f", O_CREAT | O_RDWR);
    EXPECT_EQ(write_str(fd, std::string(64, 'a')), 64);
    EXPECT_EQ(write_str(fd, std::string(30, 'b')), 30);  // 128 does not fit, exactly 94 does
    EXPECT_EQ(fs.budget().used(), 94u);
    EXPECT_EQ(write_str(fd, std::string(10, 'c')), -ENOSPC);
    EXPECT_EQ(fstat_of(fd).size, 94);
    EXPECT_EQ(fs.budget().used(), 94u);
    // Copying an archive file counts too.
    int other = open_fd("/srv/index.html", O_RDWR);
    EXPECT_EQ(write_str(other, "x"), -ENOSPC);
    EXPECT_EQ(read_all(other), "<h1>hi</h1>\n");
    EXPECT_EQ(unlink_at(fs, "/srv/f"), 0);
    EXPECT_EQ(fs.budget().used(), 94u);  // still open
    sys_close(fd);
    fds.erase(std::find(fds.begin(), fds.end(), fd));
    EXPECT_EQ(fs.budget().used(), 0u);  // freed with the last close
    EXPECT_EQ(write_str(other, "x"), 1);
}

TEST_F(Tree, UnlinkedFilesLiveUntilTheirLastClose) {
    int fd = open_fd("/srv/doomed", O_CREAT | O_RDWR);
    EXPECT_EQ(write_str(fd, "data"), 4);
    int dup = static_cast<int>(sys_dup(fd));
    fds.push_back(dup);
    EXPECT_EQ(unlink_at(fs, "/srv/doomed"), 0);
    EXPECT_EQ(find("/srv/doomed").error, ENOENT);
    EXPECT_EQ(unlink_at(fs, "/srv/doomed"), ENOENT);
    EXPECT_EQ(fstat_of(fd).nlink, 0u);
    EXPECT_EQ(write_str(dup, "more"), 4);
    EXPECT_EQ(sys_lseek(fd, 0, SEEK_SET), 0);
    EXPECT_EQ(read_all(fd), "datamore");
    EXPECT_EQ(open_errno("/srv/doomed", O_CREAT | O_EXCL | O_RDWR), 0);  // the name is free
    // A removed directory stays open: it lists nothing (ENOENT) and takes no new names.
    EXPECT_EQ(mkdir_at(fs, "/srv/gone"), 0);
    int dir = open_fd("/srv/gone", O_RDONLY | O_DIRECTORY);
    EXPECT_EQ(unlink_at(fs, "/srv/gone", true), 0);
    EXPECT_EQ(list(dir), std::vector<std::string>{"error " + std::to_string(ENOENT)});
    EXPECT_EQ(open_fd("x", O_CREAT | O_RDWR, node_of(*FdTable::instance().get(dir))), -ENOENT);
    EXPECT_EQ(fstat_of(dir).nlink, 0u);
}

TEST_F(Tree, MkdirRmdirUnlinkAsLinux) {
    EXPECT_EQ(mkdir_at(fs, "/srv/d", 0777), 0);
    EXPECT_EQ(find("/srv/d").node->inode->mode, kS_IFDIR | 0755);  // umask 022
    EXPECT_EQ(find("/srv").node->nlink(), 4u);
    EXPECT_EQ(mkdir_at(fs, "/srv/d"), EEXIST);
    EXPECT_EQ(mkdir_at(fs, "/srv/d/"), EEXIST);
    EXPECT_EQ(mkdir_at(fs, "/srv/index.html"), EEXIST);
    EXPECT_EQ(mkdir_at(fs, "/srv/link"), EEXIST);  // a symlink is not followed
    EXPECT_EQ(mkdir_at(fs, "/srv/no/such"), ENOENT);
    EXPECT_EQ(mkdir_at(fs, "/srv/index.html/x"), ENOTDIR);
    EXPECT_EQ(mkdir_at(fs, "/"), EEXIST);
    EXPECT_EQ(mkdir_at(fs, "/srv/.."), EEXIST);
    EXPECT_EQ(mkdir_at(fs, "/proc/x"), ENOENT);
    EXPECT_EQ(mkdir_at(fs, "/proc/self"), EEXIST);
    EXPECT_EQ(mkdir_at(fs, (std::string("/srv/") + std::string(256, 'n')).c_str()), ENAMETOOLONG);
    EXPECT_EQ(unlink_at(fs, "/srv/sub", true), ENOTEMPTY);
    EXPECT_EQ(unlink_at(fs, "/srv/index.html", true), ENOTDIR);
    EXPECT_EQ(unlink_at(fs, "/srv/d/.", true), EINVAL);
    EXPECT_EQ(unlink_at(fs, "/srv/d/..", true), ENOTEMPTY);
    EXPECT_EQ(unlink_at(fs, "/", true), EBUSY);
    EXPECT_EQ(unlink_at(fs, "/proc", true), EBUSY);  // a mount point
    EXPECT_EQ(unlink_at(fs, "/proc/1/net", true), EPERM);
    EXPECT_EQ(unlink_at(fs, "/srv/sub"), EISDIR);
    EXPECT_EQ(unlink_at(fs, "/srv/.."), EISDIR);
    EXPECT_EQ(unlink_at(fs, "/srv/index.html/"), ENOTDIR);
    EXPECT_EQ(unlink_at(fs, "/proc/net/snmp"), EPERM);
    EXPECT_EQ(unlink_at(fs, "/srv/link"), 0);  // the link, not its target
    EXPECT_EQ(find("/srv/index.html").error, 0);
    EXPECT_EQ(unlink_at(fs, "/srv/d", true), 0);
    EXPECT_EQ(find("/srv").node->nlink(), 3u);
    // The working directory may go: getcwd says ENOENT, "." still stats.
    EXPECT_EQ(mkdir_at(fs, "/srv/cwd"), 0);
    EXPECT_EQ(chdir(fs, nullptr, "/srv/cwd", 8), 0);
    EXPECT_EQ(unlink_at(fs, "/srv/cwd", true), 0);
    char buf[64];
    EXPECT_EQ(getcwd(fs, buf, sizeof buf), -ENOENT);
    NodeStat st;
    EXPECT_EQ(stat(fs, nullptr, ".", 1, true, st), 0);
    EXPECT_EQ(st.nlink, 0u);
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "moved"), ENOENT);  // into the removed directory
    EXPECT_EQ(mkdir_at(fs, "new"), ENOENT);
    // Linux still finds the old parent through ".." here (the dentry keeps it); the tree lets
    // go of a removed directory's parent, so this lookup is ENOENT instead.
    EXPECT_EQ(chdir(fs, nullptr, "/", 1), 0);
    EXPECT_EQ(getcwd(fs, buf, sizeof buf), 2);
}

TEST_F(Tree, RenameAsLinux) {
    int old_index = open_fd("/srv/index.html", O_RDONLY);
    EXPECT_EQ(open_errno("/srv/new", O_CREAT | O_WRONLY), 0);
    EXPECT_EQ(rename_at(fs, "/srv/new", "/srv/index.html"), 0);  // replaces it
    EXPECT_EQ(find("/srv/new").error, ENOENT);
    EXPECT_EQ(fstat_of(open_fd("/srv/index.html", O_RDONLY)).size, 0);
    EXPECT_EQ(read_all(old_index), "<h1>hi</h1>\n");  // the replaced file, still open
    EXPECT_EQ(fstat_of(old_index).nlink, 0u);
    EXPECT_EQ(rename_at(fs, "/srv/sub", "/srv/sub/inner"), EINVAL);
    EXPECT_EQ(rename_at(fs, "/srv", "/srv/sub/inner"), EINVAL);
    EXPECT_EQ(rename_at(fs, "/srv/sub/a.txt", "/srv/sub"), ENOTEMPTY);  // onto an ancestor
    EXPECT_EQ(rename_at(fs, "/srv/sub/a.txt", "/srv"), ENOTEMPTY);
    EXPECT_EQ(mkdir_at(fs, "/srv/empty-dir"), 0);
    EXPECT_EQ(rename_at(fs, "/srv/empty-dir", "/srv/sub"), ENOTEMPTY);
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "/srv/sub"), EISDIR);
    EXPECT_EQ(rename_at(fs, "/srv/sub", "/srv/index.html"), ENOTDIR);
    EXPECT_EQ(rename_at(fs, "/srv/index.html/", "/srv/x"), ENOTDIR);
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "/srv/x/"), ENOTDIR);
    EXPECT_EQ(rename_at(fs, "/srv/missing", "/srv/x"), ENOENT);
    EXPECT_EQ(rename_at(fs, "/srv/..", "/srv/x"), EBUSY);
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "/"), EBUSY);
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "/srv/."), EBUSY);
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "/srv/.", kNoreplace), EEXIST);
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "/proc/x"), EXDEV);
    EXPECT_EQ(rename_at(fs, "/proc", "/srv/proc"), EBUSY);  // a mount point
    EXPECT_EQ(rename_at(fs, "/proc/self", "/proc/me"), ENOENT);
    EXPECT_EQ(rename_at(fs, "/proc/self", "/proc/net"), EPERM);
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "/srv/index.html"), 0);
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "/srv/empty", kNoreplace), EEXIST);
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "/srv/x", kNoreplace | kExchange), EINVAL);
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "/srv/x", 4), EINVAL);  // RENAME_WHITEOUT
    EXPECT_EQ(rename_at(fs, "/srv/index.html", "/srv/x", kExchange), ENOENT);
    // An empty directory is replaced by a directory; a directory moves with its subtree.
    EXPECT_EQ(rename_at(fs, "/srv/sub", "/srv/empty-dir"), 0);
    EXPECT_EQ(find("/srv/empty-dir/a.txt").error, 0);
    EXPECT_EQ(find("/srv").node->nlink(), 3u);
    EXPECT_EQ(mkdir_at(fs, "/bin/d"), 0);
    EXPECT_EQ(rename_at(fs, "/srv/empty-dir", "/bin/d"), 0);
    EXPECT_EQ(find("/srv").node->nlink(), 2u);
    EXPECT_EQ(find("/bin").node->nlink(), 3u);
    EXPECT_EQ(find("/bin/d/a.txt").node->parent->parent, find("/bin").node);
    // RENAME_EXCHANGE swaps a file and a directory.
    EXPECT_EQ(rename_at(fs, "/srv/empty", "/bin/d", kExchange), 0);
    EXPECT_TRUE(find("/srv/empty").node->is_dir());
    EXPECT_TRUE(find("/bin/d").node->is_regular());
    EXPECT_EQ(find("/srv").node->nlink(), 3u);
    EXPECT_EQ(find("/bin").node->nlink(), 2u);
    EXPECT_EQ(find("/srv/empty/a.txt").error, 0);
}

TEST_F(Tree, LinksSymlinksChmodAndTmpfile) {
    EXPECT_EQ(link_at(fs, "/srv/index.html", "/srv/hard"), 0);
    EXPECT_EQ(find("/srv/index.html").node->nlink(), 2u);
    EXPECT_EQ(find("/srv/index.html").node->inode, find("/srv/hard").node->inode);
    int fd = open_fd("/srv/hard", O_WRONLY | O_APPEND);
    EXPECT_EQ(write_str(fd, "more\n"), 5);
    EXPECT_EQ(read_all(open_fd("/srv/index.html", O_RDONLY)), "<h1>hi</h1>\nmore\n");
    EXPECT_EQ(link_at(fs, "/srv/index.html", "/srv/hard"), EEXIST);
    EXPECT_EQ(link_at(fs, "/srv/sub", "/srv/dirlink"), EPERM);
    EXPECT_EQ(link_at(fs, "/srv/index.html", "/proc/x"), ENOENT);  // the new name is looked up first
    EXPECT_EQ(link_at(fs, "/srv/missing", "/srv/x"), ENOENT);
    EXPECT_EQ(link_at(fs, "/srv/index.html", "/srv/x/"), ENOENT);
    EXPECT_EQ(link_at(fs, "/srv/link", "/srv/link2"), 0);  // the link itself, not followed
    EXPECT_TRUE(find("/srv/link2", false).node->is_symlink());
    EXPECT_EQ(unlink_at(fs, "/srv/index.html"), 0);
    EXPECT_EQ(find("/srv/hard").node->nlink(), 1u);
    EXPECT_EQ(symlink(fs, "hard", 4, nullptr, "/srv/soft", 9), 0);
    char target[16];
    EXPECT_EQ(readlink(fs, nullptr, "/srv/soft", 9, target, sizeof target), 4);
    EXPECT_EQ(find("/srv/soft").node, find("/srv/hard").node);
    EXPECT_EQ(symlink(fs, "x", 1, nullptr, "/srv/soft", 9), EEXIST);
    EXPECT_EQ(symlink(fs, "", 0, nullptr, "/srv/s2", 7), ENOENT);
    EXPECT_EQ(symlink(fs, "x", 1, nullptr, "/proc/s", 7), ENOENT);
    EXPECT_EQ(chmod(fs, nullptr, "/srv/soft", 9, 04711), 0);  // through the link
    EXPECT_EQ(find("/srv/hard").node->inode->mode, kS_IFREG | 04711);
    EXPECT_EQ(chown(fs, nullptr, "/srv/hard", 9, true, 1000, 0xffffffff), 0);
    EXPECT_EQ(find("/srv/hard").node->inode->mode, kS_IFREG | 0711);  // set-user-ID dropped
    EXPECT_EQ(find("/srv/hard").node->inode->uid, 1000u);
    EXPECT_EQ(chown(fs, nullptr, "/proc/self", 10, false, 0, 0), EPERM);
    // An O_TMPFILE file has no name until linkat() gives it one.
    int tmp = open_fd("/srv", O_TMPFILE | O_RDWR);
    ASSERT_GE(tmp, 0);
    EXPECT_EQ(write_str(tmp, "anon"), 4);
    EXPECT_EQ(fstat_of(tmp).nlink, 0u);
    Node* anon = node_of(*FdTable::instance().get(tmp));
    EXPECT_EQ(link(fs, nullptr, "", 0, nullptr, "/srv/named", 10, false, anon), 0);
    EXPECT_EQ(fstat_of(tmp).nlink, 1u);
    EXPECT_EQ(read_all(open_fd("/srv/named", O_RDONLY)), "anon");
    // /tmp for everyone, sticky, unless the archive has one.
    ASSERT_TRUE(mount_tmp(fs));
    EXPECT_EQ(find("/tmp").node->inode->mode, kS_IFDIR | 01777);
    ASSERT_TRUE(mount_tmp(fs));
}

TEST_F(Tree, ListingAChangingDirectorySeesTheRestOnce) {
    for (int i = 0; i < 20; ++i) ASSERT_EQ(open_errno(("/srv/sub/f" + std::to_string(i)).c_str(), O_CREAT | O_RDWR), 0);
    int dir = open_fd("/srv/sub", O_RDONLY | O_DIRECTORY);
    FileRef file = FdTable::instance().get(dir);
    auto some = [&](size_t cap) {
        std::vector<std::string> names;
        std::vector<char> buf(cap);
        kstd::Result<size_t> r = static_cast<DirectoryFile&>(*file).getdents64(buf.data(), buf.size());
        for (size_t at = 0; r.ok() && at < r.value();) {
            uint16_t reclen;
            memcpy(&reclen, &buf[at + 16], 2);
            names.emplace_back(&buf[at + 19]);
            at += reclen;
        }
        return names;
    };
    std::vector<std::string> seen = some(120);  // ".", "..", a.txt and a few more
    ASSERT_GE(seen.size(), 4u);
    // Remove the entry listed last (the cursor's neighbour) and others on both sides of it, add more.
    std::set<std::string> touched;
    for (const std::string& n : {seen.back(), std::string("f2"), std::string("f15")}) {
        EXPECT_EQ(unlink_at(fs, ("/srv/sub/" + n).c_str()), 0);
        touched.insert(n);
    }
    for (int i = 0; i < 3; ++i) {
        std::string n = "new" + std::to_string(i);
        EXPECT_EQ(open_errno(("/srv/sub/" + n).c_str(), O_CREAT | O_RDWR), 0);
        touched.insert(n);
    }
    EXPECT_EQ(rename_at(fs, "/srv/sub/f19", "/srv/sub/g19"), 0);
    // telldir(): asking for the position must not move the cursor.
    EXPECT_EQ(sys_lseek(dir, 0, SEEK_CUR), static_cast<long>(seen.size()));
    touched.insert("f19");
    touched.insert("g19");
    for (int round = 0; round < 50; ++round) {
        std::vector<std::string> more = some(120);
        if (more.empty()) break;
        seen.insert(seen.end(), more.begin(), more.end());
    }
    std::map<std::string, int> count;
    for (const auto& n : seen) ++count[n];
    for (int i = 0; i < 20; ++i) {
        std::string n = "f" + std::to_string(i);
        if (touched.count(n) == 0) {
            EXPECT_EQ(count[n], 1) << n;
        }
    }
    if (touched.count("a.txt") == 0) {
        EXPECT_EQ(count["a.txt"], 1);
    }
    EXPECT_EQ(count["new2"], 1);  // added after the cursor: seen, at the end
    EXPECT_EQ(count["."], 1);
    // Seeking back to 3 puts the cursor after the first child: the rest once more.
    size_t children = list(open_fd("/srv/sub", O_RDONLY | O_DIRECTORY)).size() - 2;
    EXPECT_EQ(children, 21u);  // a.txt and 20 files, less 3 removed, plus 3 new
    EXPECT_EQ(sys_lseek(dir, 3, SEEK_SET), 3);
    EXPECT_EQ(some(4096).size(), children - 1);
}

TEST_F(Tree, ConcurrentChangesAndLookups) {
    std::atomic<bool> stop{false};
    std::thread lister([&] {
        std::vector<char> buf(256);
        while (!stop.load()) {
            kstd::Result<File*> f = open(fs, nullptr, "/srv", 4, O_RDONLY);
            if (!f.ok()) continue;
            FileRef ref(f.value());
            while (true) {
                kstd::Result<size_t> r = static_cast<DirectoryFile&>(*ref).getdents64(buf.data(), buf.size());
                if (!r.ok() || r.value() == 0) break;
            }
            NodeStat st;
            (void)stat(fs, nullptr, "/srv/churn0", 11, true, st);
        }
    });
    for (int i = 0; i < 300; ++i) {
        std::string a = "/srv/churn" + std::to_string(i % 4), b = "/srv/moved" + std::to_string(i % 3);
        kstd::Result<File*> f = open(fs, nullptr, a.data(), a.size(), O_CREAT | O_RDWR | O_APPEND, 0644);
        ASSERT_TRUE(f.ok());
        FileRef ref(f.value());
        char text[] = "line\n";
        IoVec seg{text, sizeof text - 1};
        IoIter it(&seg, 1);
        EXPECT_TRUE(ref->write(it, false).ok());
        if (i % 3 == 0) {
            EXPECT_EQ(rename_at(fs, a.c_str(), b.c_str()), 0);
        }
        if (i % 5 == 0) (void)unlink_at(fs, b.c_str());
    }
    stop.store(true);
    lister.join();
}

}  // namespace
}  // namespace pollux::fs
