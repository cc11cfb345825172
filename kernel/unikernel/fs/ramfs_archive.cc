// RamFs::add_archive: the boot archive's entries into the tree, as Linux's initramfs unpacks
// them (init/initramfs.c), before the application runs.
#include <linux/errno.h>

#include <cstring>
#include <new>

#include "fs/cpio.h"
#include "fs/ramfs.h"
#include "kernel/spin_lock.h"

namespace pollux::fs {
namespace {

// The archive's hard-link groups while it is read, as Linux's initramfs keeps them
// (maybe_link()): (device, inode) to the group's first name, hashed into buckets so that an
// archive of many links is not quadratic. Like Linux, which links to that name, a later link
// joins whatever file the name holds by then.
class LinkTable {
public:
    LinkTable() = default;
    LinkTable(const LinkTable&) = delete;
    LinkTable& operator=(const LinkTable&) = delete;
    ~LinkTable() {
        for (Group* head : buckets_) {
            while (head != nullptr) {
                Group* next = head->next;
                delete head;
                head = next;
            }
        }
    }
    // What the group's first name holds now, or null for a new group. Directories are never
    // replaced, so the parent outlives the table; the name is the archive's.
    Node* find(const cpio::Entry& e) const {
        for (const Group* g = bucket(e); g != nullptr; g = g->next)
            if (g->ino == e.ino && g->major == e.dev_major && g->minor == e.dev_minor)
                return g->dir->child(g->name, g->name_len);
        return nullptr;
    }
    // Out of memory, the name stays a file of its own.
    void add(const cpio::Entry& e, Node* dir, const char* name, size_t len) {
        Group*& head = bucket(e);
        auto* g = new (std::nothrow) Group{e.dev_major, e.dev_minor, e.ino, dir, name, len, head};
        if (g != nullptr) head = g;
    }

private:
    struct Group {
        uint32_t major, minor, ino;
        Node* dir;
        const char* name;
        size_t name_len;
        Group* next;
    };
    static constexpr size_t kBuckets = 256;
    size_t index(const cpio::Entry& e) const { return (e.ino ^ e.dev_minor * 31 ^ e.dev_major * 131) % kBuckets; }
    Group*& bucket(const cpio::Entry& e) { return buckets_[index(e)]; }
    const Group* bucket(const cpio::Entry& e) const { return buckets_[index(e)]; }
    Group* buckets_[kBuckets] = {};
};

bool is_dot(const char* c, size_t len) { return len == 1 && c[0] == '.'; }
bool is_dotdot(const char* c, size_t len) { return len == 2 && c[0] == '.' && c[1] == '.'; }

}  // namespace

Node* RamFs::parent_for(const char* path, size_t len, const char** leaf, size_t* leaf_len, const char** error) {
    Node* dir = root_;
    const char* pending = nullptr;  // the component seen last: a directory if another follows
    size_t pending_len = 0;
    for (size_t i = 0; i < len;) {
        while (i < len && path[i] == '/') ++i;
        size_t start = i;
        while (i < len && path[i] != '/') ++i;
        const char* c = path + start;
        size_t clen = i - start;
        if (clen == 0 || is_dot(c, clen)) continue;
        if (is_dotdot(c, clen)) {
            *error = "an entry name with a \"..\" component";
            return nullptr;
        }
        if (clen > kNameMax) {
            *error = "an entry name with a component longer than NAME_MAX";
            return nullptr;
        }
        if (pending != nullptr) {
            Node* next = dir->child(pending, pending_len);
            if (next == nullptr) {
                Inode* inode = new_inode(kS_IFDIR | 0755, kRootDev);
                next = inode != nullptr ? new_node(dir, pending, pending_len, inode) : nullptr;
                if (next == nullptr) {
                    delete inode;
                    *error = "out of memory for the file tree";
                    return nullptr;
                }
            } else if (!next->is_dir()) {
                *error = "an entry inside something that is not a directory";
                return nullptr;
            }
            dir = next;
        }
        pending = c;
        pending_len = clen;
    }
    *leaf = pending;
    *leaf_len = pending == nullptr ? 0 : pending_len;
    return dir;
}

bool RamFs::add_archive(const uint8_t* data, size_t size, BuildStats& stats, const char** error, size_t* error_offset) {
    auto fail = [&](const char* why, size_t at) {
        *error = why;
        *error_offset = at;
        return false;
    };
    if (root_ == nullptr) return fail("out of memory for the file tree", 0);
    LockGuard guard(mutex_);
    cpio::Reader reader(data, size);
    cpio::Entry e;
    LinkTable links;
    while (reader.next(e)) {
        ++stats.entries;
        uint32_t type = e.mode & kS_IFMT;
        if (type == kS_IFLNK) {
            if (e.size == 0) return fail("a symlink with an empty target", e.offset);
            if (e.size >= kPathMax) return fail("a symlink target longer than PATH_MAX", e.offset);
            if (memchr(e.data, '\0', e.size) != nullptr) return fail("a symlink target with a NUL inside", e.offset);
        }
        const char* why = nullptr;
        const char* leaf = nullptr;
        size_t leaf_len = 0;
        Node* parent = parent_for(e.name, e.name_len, &leaf, &leaf_len, &why);
        if (parent == nullptr) return fail(why, e.offset);
        if (type != kS_IFDIR && type != kS_IFREG && type != kS_IFLNK) {
            // Device nodes, fifos, sockets: nothing here could use them. Their directories
            // stay, as Linux would have made them.
            ++stats.skipped;
            continue;
        }
        Node* node = leaf_len == 0 ? root_ : parent->child(leaf, leaf_len);
        if (node != nullptr && node->is_dir() != (type == kS_IFDIR))
            return fail(node == root_ ? "a root entry (\".\") that is not a directory"
                                      : "a directory and a non-directory entry of the same name",
                        e.offset);
        if (type == kS_IFDIR) {
            if (node == nullptr) {
                Inode* inode = new_inode(type, kRootDev);
                node = inode != nullptr ? new_node(parent, leaf, leaf_len, inode) : nullptr;
                if (node == nullptr) {
                    delete inode;
                    return fail("out of memory for the file tree", e.offset);
                }
            }
            Inode& dir = *node->inode;
            dir.mode = type | (e.mode & kPermMask);
            dir.uid = e.uid;
            dir.gid = e.gid;
            dir.set_contents(nullptr, 0, nullptr, static_cast<int64_t>(e.mtime) * 1000000000);
            ++stats.dirs;
            continue;
        }
        // A later file or symlink of the same name replaces the earlier one: the names it was
        // linked with keep their file (init/initramfs.c: clean_path()).
        if (node != nullptr) unlink(node);
        Node* first = type == kS_IFREG && e.nlink >= 2 ? links.find(e) : nullptr;
        if (first != nullptr && first->is_regular()) {
            node = new_node(parent, leaf, leaf_len, first->inode);
            if (node == nullptr) return fail("out of memory for the file tree", e.offset);
            ++node->inode->links;
            // The data is stored once: with this entry, or with one before it.
            if (e.size != 0) node->inode->set_contents(e.data, e.size, nullptr, static_cast<int64_t>(e.mtime) * 1000000000);
        } else {
            Inode* inode = new_inode(type, kRootDev);
            node = inode != nullptr ? new_node(parent, leaf, leaf_len, inode) : nullptr;
            if (node == nullptr) {
                delete inode;
                return fail("out of memory for the file tree", e.offset);
            }
            node->inode->set_contents(e.data, e.size, nullptr, static_cast<int64_t>(e.mtime) * 1000000000);
            if (type == kS_IFREG && e.nlink >= 2 && first == nullptr) links.add(e, parent, leaf, leaf_len);
        }
        Inode& file = *node->inode;
        file.mode = type | (e.mode & kPermMask);
        file.uid = e.uid;
        file.gid = e.gid;
        if (type == kS_IFREG) {
            ++stats.files;
            stats.file_bytes += e.size;
        } else {
            ++stats.symlinks;
        }
    }
    if (reader.error() != nullptr) return fail(reader.error(), reader.error_offset());
    return true;
}

}  // namespace pollux::fs
