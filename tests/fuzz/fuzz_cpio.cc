// fuzz-cpio: arbitrary bytes as the unikernel's boot module when it looks like a cpio archive
// (kernel/unikernel/fs/): the newc reader, the tree built from its entries, and then what an
// application can do with any tree: every node's path resolved again (symlinks followed, loops
// and dangling links included), every regular file opened and read to the end, every directory
// opened and listed with a small buffer and read as a file (EISDIR), the working-directory path
// of every directory, /proc mounted over whatever the archive had there. Then the tree is
// changed as an application would: every regular file appended to (copy on write of the
// archive's bytes) and read back through a directory listing that goes on meanwhile, and every
// name removed bottom-up with unlink and rmdir, which must leave only /proc.
//
// A malformed archive must come back as an error with an offset inside the input; nothing may
// read outside the input or crash. Each input builds and frees its own tree: no state carries
// over.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "eventpoll/linux_abi.h"
#include "fs/cpio.h"
#include "fs/ramfs.h"
#include "fs/vfs.h"
#include "kernel/spin_lock.h"

using namespace pollux;
using namespace pollux::fs;

namespace {

long render(const char* key, char* buf, size_t cap) { return snprintf(buf, cap, "%s\n", key); }

[[noreturn]] void fail(const char* what) {
    fprintf(stderr, "fuzz-cpio: %s\n", what);
    abort();
}

// The path of a node from the root, as a lookup would take it.
std::vector<char> path_to(RamFs& fs, const Node* n) {
    LockGuard guard(fs.mutex());
    std::vector<const Node*> chain;
    for (; n != fs.root(); n = n->parent) chain.push_back(n);
    std::vector<char> path;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
        path.push_back('/');
        path.insert(path.end(), (*it)->name, (*it)->name + (*it)->name_len);
    }
    if (path.empty()) path.push_back('/');
    return path;
}

uint64_t size_of(Inode& inode) {
    LockGuard guard(inode.lock);
    return inode.size;
}

uint64_t read_to_end(File& file) {
    char buf[64];
    uint64_t total = 0;
    for (;;) {
        IoVec seg{buf, sizeof buf};
        IoIter it(&seg, 1);
        kstd::Result<size_t> r = file.read(it, false);
        if (!r.ok()) fail("a regular file fails to read");
        if (r.value() == 0) return total;
        total += r.value();
    }
}

void exercise(RamFs& fs, Node* n) {
    std::vector<char> path = path_to(fs, n);
    {
        LockGuard guard(fs.mutex());
        Lookup same = fs.lookup(fs.root(), path.data(), path.size(), false);
        if (same.error != 0 || same.node != n) fail("a node's own path does not lead back to it");
        (void)fs.lookup(fs.root(), path.data(), path.size(), true);  // through whatever links say
        NodeStat st;
        stat_node(*n, st);
    }
    if (n->is_symlink()) {
        char target[kPathMax];
        long len = readlink(fs, fs.root(), path.data(), path.size(), target, sizeof target);
        if (len <= 0 || static_cast<uint64_t>(len) != n->inode->target_len()) fail("readlink disagrees with the node");
        return;
    }
    kstd::Result<File*> opened = open(fs, fs.root(), path.data(), path.size(), abi::kO_RDONLY);
    if (!opened.ok()) fail("a node of the tree does not open");
    FileRef file(opened.value());
    char buf[64];
    if (n->is_dir()) {
        char cwd[kPathMax];
        long len = 0;
        {
            LockGuard guard(fs.mutex());
            len = path_of(fs, n, cwd, sizeof cwd);
        }
        if (len <= 0) fail("a directory has no path");
        auto& dir = static_cast<DirectoryFile&>(*file);
        for (;;) {
            kstd::Result<size_t> r = dir.getdents64(buf, sizeof buf);
            if (!r.ok() || r.value() == 0) break;
        }
        IoVec seg{buf, sizeof buf};
        IoIter it(&seg, 1);
        if (file->read(it, false).error_code() != EISDIR) fail("a directory reads as a file");
        return;
    }
    uint64_t total = read_to_end(*file);
    if (!n->is_generated() && total != size_of(*n->inode)) fail("a file reads a different size than it has");
}

// Appends to the file and reads it whole again: the archive's bytes, then the new ones.
void append_to(RamFs& fs, const std::vector<char>& path) {
    kstd::Result<File*> opened = open(fs, nullptr, path.data(), path.size(), abi::kO_RDWR | abi::kO_APPEND);
    if (!opened.ok()) fail("a regular file does not open for writing");
    FileRef file(opened.value());
    uint64_t before = size_of(static_cast<NodeFile&>(*file).inode());
    char text[] = "appended";
    IoVec seg{text, sizeof text};
    IoIter it(&seg, 1);
    kstd::Result<size_t> w = file->write(it, false);
    if (!w.ok() || w.value() != sizeof text) fail("an append fails");
    if (file->llseek(0, abi::kSEEK_SET).error_code() != 0) fail("a seek to 0 fails");
    if (read_to_end(*file) != before + sizeof text) fail("an appended file reads a different size");
}

// Every regular file appended to, every name then removed, children before their directory.
void change_everything(RamFs& fs) {
    std::vector<std::vector<char>> files, dirs;
    Node* n = fs.root();
    {
        LockGuard guard(fs.mutex());
        n = fs.root()->first_name();
    }
    // A listing of the root stays open through all of it: its cursor must survive the removals.
    kstd::Result<File*> root = open(fs, fs.root(), "/", 1, abi::kO_RDONLY);
    if (!root.ok()) fail("the root does not open");
    FileRef root_file(root.value());
    char dents[64];
    (void)static_cast<DirectoryFile&>(*root_file).getdents64(dents, sizeof dents);
    while (n != nullptr) {
        bool mount = n->inode->dev != RamFs::kRootDev;
        if (!mount) (n->is_dir() ? dirs : files).push_back(path_to(fs, n));
        LockGuard guard(fs.mutex());
        if (n->is_dir() && !mount && n->first_name() != nullptr) {
            n = n->first_name();
            continue;
        }
        while (n != fs.root() && Node::next_name(n) == nullptr) n = n->parent;
        n = n == fs.root() ? nullptr : Node::next_name(n);
    }
    for (const auto& path : files) {
        bool regular = false;
        {
            LockGuard guard(fs.mutex());
            Lookup l = fs.lookup(nullptr, path.data(), path.size(), false);
            regular = l.error == 0 && l.node->is_regular() && !l.node->is_generated();
        }
        if (regular) append_to(fs, path);
        if (unlink(fs, nullptr, path.data(), path.size(), false) != 0) fail("a file cannot be unlinked");
        (void)static_cast<DirectoryFile&>(*root_file).getdents64(dents, sizeof dents);
    }
    for (auto it = dirs.rbegin(); it != dirs.rend(); ++it)
        if (unlink(fs, nullptr, it->data(), it->size(), true) != 0) fail("an emptied directory cannot be removed");
    while (true) {
        kstd::Result<size_t> r = static_cast<DirectoryFile&>(*root_file).getdents64(dents, sizeof dents);
        if (!r.ok() || r.value() == 0) break;
    }
    LockGuard guard(fs.mutex());
    for (Node* c = fs.root()->first_name(); c != nullptr; c = Node::next_name(c))
        if (c->inode->dev == RamFs::kRootDev) fail("a name is left after removing everything");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    RamFs fs;
    BuildStats stats;
    const char* error = nullptr;
    size_t at = 0;
    if (!fs.add_archive(data, size, stats, &error, &at)) {
        if (error == nullptr || at > size) fail("a failed build without a reason or with an offset outside the input");
        return 0;
    }
    if (!mount_proc(fs, render, "/init")) fail("out of memory for /proc");
    // Every node reachable from the root, without recursion (a tree may be 2000 levels deep).
    // No file stays open from one node to the next, so the child lists hold no cursors.
    Node* n = fs.root();
    while (n != nullptr) {
        exercise(fs, n);
        if (n->first_child != nullptr) {
            n = n->first_child;
            continue;
        }
        while (n != fs.root() && n->next_sibling == nullptr) n = n->parent;
        n = n == fs.root() ? nullptr : n->next_sibling;
    }
    change_everything(fs);
    return 0;
}
