#include "fs/ramfs.h"

#include <linux/errno.h>

#include <cstring>
#include <new>

#include "fs/cpio.h"

namespace pollux::fs {
namespace {

// The archive's hard-link groups while it is read, as Linux's initramfs keeps them
// (maybe_link()): (device, inode) to the group's first node, hashed into buckets so that an
// archive of many links is not quadratic.
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
    // The group's first node; `node` itself when it starts a new group (or when memory ran
    // out: it then stays a file of its own).
    Node* join(const cpio::Entry& e, Node* node) {
        Group*& bucket = buckets_[(e.ino ^ e.dev_minor * 31 ^ e.dev_major * 131) % kBuckets];
        for (Group* g = bucket; g != nullptr; g = g->next)
            if (g->ino == e.ino && g->major == e.dev_major && g->minor == e.dev_minor) return g->first;
        auto* g = new (std::nothrow) Group{e.dev_major, e.dev_minor, e.ino, node, bucket};
        if (g != nullptr) bucket = g;
        return node;
    }

private:
    struct Group {
        uint32_t major, minor, ino;
        Node* first;
        Group* next;
    };
    static constexpr size_t kBuckets = 256;
    Group* buckets_[kBuckets] = {};
};

bool is_dot(const char* c, size_t len) { return len == 1 && c[0] == '.'; }
bool is_dotdot(const char* c, size_t len) { return len == 2 && c[0] == '.' && c[1] == '.'; }

}  // namespace

Node* Node::child(const char* n, size_t len) const {
    for (Node* c = first_child; c != nullptr; c = c->next_sibling)
        if (c->name_len == len && memcmp(c->name, n, len) == 0) return c;
    return nullptr;
}

RamFs::RamFs() {
    root_ = new (std::nothrow) Node;
    if (root_ == nullptr) return;
    root_->mode = kS_IFDIR | 0755;
    root_->ino = next_ino_++;
    root_->dev = kRootDev;
    root_->name = "/";
    root_->name_len = 1;
    root_->parent = root_;
    root_->all_next = all_;
    all_ = root_;
}

RamFs::~RamFs() {
    // Through the list of every node, not the tree: a deep tree must not recurse, and
    // detached subtrees are freed too.
    for (Node* n = all_; n != nullptr;) {
        Node* next = n->all_next;
        delete[] n->owned;
        delete n;
        n = next;
    }
}

void RamFs::unlink_hard(Node* node) {
    if (node->link_next == nullptr) return;
    Node* prev = node;
    while (prev->link_next != node) prev = prev->link_next;
    uint32_t remaining = node->links - 1;
    prev->link_next = remaining == 1 ? nullptr : node->link_next;
    for (Node* n = prev; n != nullptr;) {
        n->links = remaining;
        n = n->link_next == prev ? nullptr : n->link_next;
    }
    node->link_next = nullptr;
    node->links = 1;
    node->ino = next_ino_++;
}

void RamFs::link_child(Node* parent, Node* child) {
    child->parent = parent;
    child->next_sibling = nullptr;
    if (parent->last_child != nullptr) {
        parent->last_child->next_sibling = child;
    } else {
        parent->first_child = child;
    }
    parent->last_child = child;
    if (child->is_dir()) ++parent->subdirs;
}

void RamFs::detach(Node* child) {
    Node* parent = child->parent;
    if (child == root_ || parent == nullptr) return;
    Node* prev = nullptr;
    for (Node* c = parent->first_child; c != nullptr; prev = c, c = c->next_sibling) {
        if (c != child) continue;
        (prev != nullptr ? prev->next_sibling : parent->first_child) = c->next_sibling;
        if (parent->last_child == c) parent->last_child = prev;
        if (c->is_dir()) --parent->subdirs;
        c->next_sibling = nullptr;
        return;
    }
}

Node* RamFs::new_node(Node* parent, const char* name, size_t len, uint32_t mode) {
    Node* n = new (std::nothrow) Node;
    if (n == nullptr) return nullptr;
    n->mode = mode;
    n->ino = next_ino_++;
    n->dev = parent->dev;
    n->name = name;
    n->name_len = static_cast<uint16_t>(len);
    n->all_next = all_;
    all_ = n;
    link_child(parent, n);
    return n;
}

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
                next = new_node(dir, pending, pending_len, kS_IFDIR | 0755);
                if (next == nullptr) {
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
        if (node == nullptr) {
            node = new_node(parent, leaf, leaf_len, type);
            if (node == nullptr) return fail("out of memory for the file tree", e.offset);
        } else {
            unlink_hard(node);  // replaced: the names it was linked with keep their file
        }
        node->mode = type | (e.mode & kPermMask);
        node->uid = e.uid;
        node->gid = e.gid;
        node->mtime = e.mtime;
        if (type == kS_IFDIR) {
            ++stats.dirs;
            continue;
        }
        node->data = e.data;
        node->size = e.size;
        if (type == kS_IFREG && e.nlink >= 2) {
            // A first name since replaced by a symlink is no longer this file.
            Node* first = links.join(e, node);
            if (first != node && first->is_regular()) {
                node->link_next = first->link_next != nullptr ? first->link_next : first;
                first->link_next = node;
                node->ino = first->ino;
                uint32_t count = first->links + 1;
                // The data is stored once: with this entry, or with one before it.
                const uint8_t* shared = e.size != 0 ? e.data : first->data;
                uint64_t shared_size = e.size != 0 ? e.size : first->size;
                Node* n = node;
                do {
                    n->links = count;
                    n->data = shared;
                    n->size = shared_size;
                    n = n->link_next;
                } while (n != node);
            }
        }
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

Node* RamFs::make_dir(Node* parent, const char* name, uint32_t perm, uint32_t dev) {
    if (parent->child(name, strlen(name)) != nullptr) return nullptr;
    Node* n = new_node(parent, name, strlen(name), kS_IFDIR | (perm & kPermMask));
    if (n != nullptr) n->dev = dev;
    return n;
}

Node* RamFs::make_symlink(Node* parent, const char* name, const char* target, uint32_t dev) {
    size_t len = strlen(target);
    if (len == 0 || len >= kPathMax || parent->child(name, strlen(name)) != nullptr) return nullptr;
    char* copy = new (std::nothrow) char[len];
    if (copy == nullptr) return nullptr;
    memcpy(copy, target, len);
    Node* n = new_node(parent, name, strlen(name), kS_IFLNK | 0777);
    if (n == nullptr) {
        delete[] copy;
        return nullptr;
    }
    n->dev = dev;
    n->owned = copy;
    n->data = reinterpret_cast<const uint8_t*>(copy);
    n->size = len;
    return n;
}

Node* RamFs::make_generated(Node* parent, const char* name, Renderer render, const char* key, uint32_t dev) {
    if (parent->child(name, strlen(name)) != nullptr) return nullptr;
    Node* n = new_node(parent, name, strlen(name), kS_IFREG | 0444);
    if (n == nullptr) return nullptr;
    n->dev = dev;
    n->render = render;
    n->render_key = key;
    return n;
}

Node* RamFs::make_chardev(Node* parent, const char* name, uint32_t major, uint32_t minor, uint32_t dev) {
    if (parent->child(name, strlen(name)) != nullptr) return nullptr;
    Node* n = new_node(parent, name, strlen(name), kS_IFCHR | 0666);
    if (n == nullptr) return nullptr;
    n->dev = dev;
    n->rdev = major << 8 | minor;
    return n;
}

Lookup RamFs::lookup(Node* base, const char* path, size_t len, bool follow_last) const {
    Lookup out;
    if (len == 0) {
        out.error = ENOENT;
        return out;
    }
    // What is left of the path being walked, and of each one a symlink interrupted: a link is
    // followed by walking its target, then the rest of the path that named it. Only rests
    // with components left are pushed, so "final" below means the last component of all.
    struct Rest {
        const char* p;
        const char* end;
    };
    Rest stack[kMaxSymlinks];
    int depth = 0, links = 0;
    bool want_dir = false;
    Node* cur = base;
    const char* p = path;
    const char* end = path + len;
    if (*p == '/') cur = root_;
    for (;;) {
        while (p < end && *p == '/') ++p;
        if (p == end) {
            if (depth == 0) break;
            --depth;
            p = stack[depth].p;
            end = stack[depth].end;
            continue;
        }
        const char* c = p;
        while (p < end && *p != '/') ++p;
        size_t clen = static_cast<size_t>(p - c);
        const char* after = p;
        while (after < end && *after == '/') ++after;
        bool slash_follows = p < end;
        bool last_here = after == end;
        bool final = last_here && depth == 0;
        if (clen > kNameMax) {
            out.error = ENAMETOOLONG;
            return out;
        }
        if (!cur->is_dir()) {
            out.error = ENOTDIR;
            return out;
        }
        Node* next = is_dot(c, clen) ? cur : is_dotdot(c, clen) ? cur->parent : cur->child(c, clen);
        if (next == nullptr) {
            out.error = ENOENT;
            if (final) {
                out.parent = cur;
                out.name = c;
                out.name_len = clen;
                out.trailing_slash = slash_follows || want_dir;
            }
            return out;
        }
        if (final && slash_follows) want_dir = true;
        if (next->is_symlink() && (!final || follow_last || want_dir)) {
            if (++links > kMaxSymlinks) {
                out.error = ELOOP;
                return out;
            }
            if (!last_here) stack[depth++] = Rest{after, end};
            p = reinterpret_cast<const char*>(next->data);
            end = p + next->size;
            if (*p == '/') cur = root_;
            continue;  // relative targets start from the directory holding the link: cur
        }
        cur = next;
    }
    if (want_dir && !cur->is_dir()) {
        out.error = ENOTDIR;
        return out;
    }
    out.node = cur;
    return out;
}

}  // namespace pollux::fs
