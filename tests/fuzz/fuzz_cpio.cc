// fuzz-cpio: arbitrary bytes as the unikernel's boot module when it looks like a cpio archive
// (kernel/unikernel/fs/): the newc reader, the tree built from its entries, and then what an
// application can do with any tree: every node's path resolved again (symlinks followed, loops
// and dangling links included), every regular file opened and read to the end, every directory
// opened and listed with a small buffer and read as a file (EISDIR), the working-directory path
// of every directory, /proc mounted over whatever the archive had there.
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

using namespace pollux;
using namespace pollux::fs;

namespace {

long render(const char* key, char* buf, size_t cap) { return snprintf(buf, cap, "%s\n", key); }

[[noreturn]] void fail(const char* what) {
    fprintf(stderr, "fuzz-cpio: %s\n", what);
    abort();
}

// The path of a node from the root, as a lookup would take it.
std::vector<char> path_to(const RamFs& fs, const Node* n) {
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

void exercise(RamFs& fs, Node* n) {
    std::vector<char> path = path_to(fs, n);
    Lookup same = fs.lookup(fs.root(), path.data(), path.size(), false);
    if (same.error != 0 || same.node != n) fail("a node's own path does not lead back to it");
    (void)fs.lookup(fs.root(), path.data(), path.size(), true);  // through whatever links say
    NodeStat st;
    stat_node(*n, st);
    if (n->is_symlink()) {
        char target[kPathMax];
        long len = readlink(fs, fs.root(), path.data(), path.size(), target, sizeof target);
        if (len <= 0 || static_cast<uint64_t>(len) != n->size) fail("readlink disagrees with the node");
        return;
    }
    kstd::Result<File*> opened = open(fs, fs.root(), path.data(), path.size(), abi::kO_RDONLY);
    if (!opened.ok()) fail("a node of the tree does not open");
    FileRef file(opened.value());
    char buf[64];
    if (n->is_dir()) {
        char cwd[kPathMax];
        if (path_of(fs, n, cwd, sizeof cwd) <= 0) fail("a directory has no path");
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
    uint64_t total = 0;
    for (;;) {
        IoVec seg{buf, sizeof buf};
        IoIter it(&seg, 1);
        kstd::Result<size_t> r = file->read(it, false);
        if (!r.ok()) fail("a regular file fails to read");
        if (r.value() == 0) break;
        total += r.value();
    }
    if (!n->is_generated() && total != n->size) fail("a file reads a different size than it has");
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
    return 0;
}
