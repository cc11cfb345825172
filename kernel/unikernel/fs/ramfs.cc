#include "fs/ramfs.h"

#include <linux/errno.h>

#include <cstring>
#include <new>

#include "kernel/spin_lock.h"

namespace pollux::fs {
namespace {

bool is_dot(const char* c, size_t len) { return len == 1 && c[0] == '.'; }
bool is_dotdot(const char* c, size_t len) { return len == 2 && c[0] == '.' && c[1] == '.'; }

// The doubly linked child list, cursors included.
void list_insert_after(Node* parent, Node* after, Node* node) {
    node->prev_sibling = after;
    node->next_sibling = after != nullptr ? after->next_sibling : parent->first_child;
    (node->next_sibling != nullptr ? node->next_sibling->prev_sibling : parent->last_child) = node;
    (after != nullptr ? after->next_sibling : parent->first_child) = node;
}

void list_remove(Node* parent, Node* node) {
    (node->prev_sibling != nullptr ? node->prev_sibling->next_sibling : parent->first_child) = node->next_sibling;
    (node->next_sibling != nullptr ? node->next_sibling->prev_sibling : parent->last_child) = node->prev_sibling;
    node->next_sibling = node->prev_sibling = nullptr;
}

}  // namespace

Node* Node::child(const char* n, size_t len) const {
    for (Node* c = first_name(); c != nullptr; c = next_name(c))
        if (c->name_len == len && memcmp(c->name, n, len) == 0) return c;
    return nullptr;
}

Node* Node::first_name() const {
    Node* c = first_child;
    while (c != nullptr && c->cursor) c = c->next_sibling;
    return c;
}

Node* Node::next_name(const Node* after) {
    Node* c = after->next_sibling;
    while (c != nullptr && c->cursor) c = c->next_sibling;
    return c;
}

RamFs::RamFs() {
    LockGuard guard(mutex_);
    Inode* inode = new_inode(kS_IFDIR | 0755, kRootDev);
    if (inode == nullptr) return;
    root_ = new_node(nullptr, "/", 1, inode);
    if (root_ == nullptr) {
        delete inode;
        return;
    }
    root_->parent = root_;
}

RamFs::~RamFs() NO_THREAD_SAFETY_ANALYSIS {
    // Through the list of every node, not the tree: a deep tree must not recurse, and
    // detached subtrees are freed too.
    for (Node* n = all_; n != nullptr;) {
        Node* next = n->all_next;
        if (--n->inode->nodes == 0) {
            n->inode->free_contents(budget_);
            delete n->inode;
        }
        delete[] n->own_name;
        delete n;
        n = next;
    }
}

Inode* RamFs::new_inode(uint32_t mode, uint32_t dev) {
    Inode* inode = new (std::nothrow) Inode;
    if (inode == nullptr) return nullptr;
    inode->mode = mode;
    inode->ino = next_ino_++;
    inode->dev = dev;
    inode->links = (mode & kS_IFMT) == kS_IFDIR ? 0 : 1;
    int64_t now = now_ns();
    inode->set_contents(nullptr, 0, nullptr, now);
    return inode;
}

// parent may be null: a node without a name yet (O_TMPFILE).
Node* RamFs::new_node(Node* parent, const char* name, size_t len, Inode* inode) {
    Node* n = new (std::nothrow) Node;
    if (n == nullptr) return nullptr;
    n->inode = inode;
    ++inode->nodes;
    n->name = name;
    n->name_len = static_cast<uint16_t>(len);
    n->all_next = all_;
    if (all_ != nullptr) all_->all_prev = n;
    all_ = n;
    if (parent != nullptr) link_child(parent, n);
    return n;
}

void RamFs::link_child(Node* parent, Node* child) {
    child->parent = parent;
    list_insert_after(parent, parent->last_child, child);
    if (child->is_dir()) ++parent->inode->subdirs;
}

void RamFs::unlink_child(Node* child) {
    Node* parent = child->parent;
    list_remove(parent, child);
    if (child->is_dir()) --parent->inode->subdirs;
    child->parent = nullptr;
}

void RamFs::free_node(Node* node) {
    (node->all_prev != nullptr ? node->all_prev->all_next : all_) = node->all_next;
    if (node->all_next != nullptr) node->all_next->all_prev = node->all_prev;
    if (--node->inode->nodes == 0) {
        node->inode->free_contents(budget_);
        delete node->inode;
    }
    delete[] node->own_name;
    delete node;
}

void RamFs::detach(Node* child) {
    LockGuard guard(mutex_);
    // Kept in the list of every node with its subtree (whose parents stay set): nothing
    // reaches them any more, and the destructor frees them.
    if (child != root_ && child->linked()) unlink_child(child);
}

namespace {
char* copy_name(const char* name, size_t len) {
    char* copy = new (std::nothrow) char[len != 0 ? len : 1];
    if (copy != nullptr) memcpy(copy, name, len);
    return copy;
}
}  // namespace

kstd::Result<Node*> RamFs::create(Node* dir, const char* name, size_t len, uint32_t mode) {
    if (!dir->linked()) return kstd::err(ENOENT);  // a removed directory takes no new names
    char* copy = copy_name(name, len);
    Inode* inode = copy != nullptr ? new_inode(mode, dir->inode->dev) : nullptr;
    Node* node = inode != nullptr ? new_node(dir, copy, len, inode) : nullptr;
    if (node == nullptr) {
        delete inode;
        delete[] copy;
        return kstd::err(ENOMEM);
    }
    node->own_name = copy;
    dir->inode->touch_mtime();
    return node;
}

kstd::Result<Node*> RamFs::create_unnamed(uint32_t mode, uint32_t dev) {
    Inode* inode = new_inode(mode, dev);
    Node* node = inode != nullptr ? new_node(nullptr, "", 0, inode) : nullptr;
    if (node == nullptr) {
        delete inode;
        return kstd::err(ENOMEM);
    }
    inode->links = 0;
    inode->linkable = true;
    node->pins = 1;
    return node;
}

kstd::Result<Node*> RamFs::link(Node* dir, const char* name, size_t len, Node* node) {
    if (!dir->linked()) return kstd::err(ENOENT);
    char* copy = copy_name(name, len);
    Node* n = copy != nullptr ? new_node(dir, copy, len, node->inode) : nullptr;
    if (n == nullptr) {
        delete[] copy;
        return kstd::err(ENOMEM);
    }
    n->own_name = copy;
    ++node->inode->links;
    node->inode->touch_ctime();
    dir->inode->touch_mtime();
    return n;
}

void RamFs::unlink(Node* node) {
    Node* parent = node->parent;
    unlink_child(node);
    if (!node->is_dir()) --node->inode->links;
    node->inode->touch_ctime();
    parent->inode->touch_mtime();
    if (node->pins == 0) free_node(node);
}

kstd::Result<void> RamFs::move(Node* node, Node* dir, const char* name, size_t len) {
    char* copy = copy_name(name, len);
    if (copy == nullptr) return kstd::err(ENOMEM);
    Node* from = node->parent;
    unlink_child(node);
    delete[] node->own_name;
    node->own_name = copy;
    node->name = copy;
    node->name_len = static_cast<uint16_t>(len);
    link_child(dir, node);
    from->inode->touch_mtime();
    dir->inode->touch_mtime();
    node->inode->touch_ctime();
    return {};
}

void RamFs::exchange(Node* a, Node* b) {
    Node* pa = a->parent;
    Node* pb = b->parent;
    unlink_child(a);
    unlink_child(b);
    const char* name = a->name;
    uint16_t len = a->name_len;
    char* own = a->own_name;
    a->name = b->name;
    a->name_len = b->name_len;
    a->own_name = b->own_name;
    b->name = name;
    b->name_len = len;
    b->own_name = own;
    link_child(pa, b);
    link_child(pb, a);
    pa->inode->touch_mtime();
    pb->inode->touch_mtime();
}

void RamFs::unpin(Node* node) {
    if (--node->pins == 0 && !node->linked()) free_node(node);
}

void RamFs::place_cursor(Node* dir, Node* cursor, Node* after) {
    remove_cursor(cursor);
    cursor->parent = dir;
    list_insert_after(dir, after, cursor);
}

void RamFs::remove_cursor(Node* cursor) {
    if (cursor->parent == nullptr) return;
    list_remove(cursor->parent, cursor);
    cursor->parent = nullptr;
}

void RamFs::set_cwd(Node* dir) {
    pin(dir);
    Node* old = cwd_;
    cwd_ = dir;
    if (old != nullptr) unpin(old);
}

uint32_t RamFs::set_umask(uint32_t mask) { return umask_.exchange(mask & 0777, std::memory_order_relaxed); }

Node* RamFs::make_boot_node(Node* parent, const char* name, uint32_t mode, uint32_t dev) {
    if (parent->child(name, strlen(name)) != nullptr) return nullptr;
    Inode* inode = new_inode(mode, dev);
    if (inode == nullptr) return nullptr;
    Node* n = new_node(parent, name, strlen(name), inode);
    if (n == nullptr) delete inode;
    return n;
}

Node* RamFs::make_dir(Node* parent, const char* name, uint32_t perm, uint32_t dev) {
    LockGuard guard(mutex_);
    return make_boot_node(parent, name, kS_IFDIR | (perm & kPermMask), dev);
}

Node* RamFs::make_symlink(Node* parent, const char* name, const char* target, uint32_t dev) {
    LockGuard guard(mutex_);
    size_t len = strlen(target);
    if (len == 0 || len >= kPathMax) return nullptr;
    auto* copy = new (std::nothrow) uint8_t[len];
    Node* n = copy != nullptr ? make_boot_node(parent, name, kS_IFLNK | 0777, dev) : nullptr;
    if (n == nullptr) {
        delete[] copy;
        return nullptr;
    }
    memcpy(copy, target, len);
    n->inode->set_contents(copy, len, copy, now_ns());
    return n;
}

Node* RamFs::make_generated(Node* parent, const char* name, Renderer render, const char* key, uint32_t dev) {
    LockGuard guard(mutex_);
    Node* n = make_boot_node(parent, name, kS_IFREG | 0444, dev);
    if (n == nullptr) return nullptr;
    n->inode->render = render;
    n->inode->render_key = key;
    return n;
}

Node* RamFs::make_chardev(Node* parent, const char* name, uint32_t major, uint32_t minor, uint32_t dev) {
    LockGuard guard(mutex_);
    Node* n = make_boot_node(parent, name, kS_IFCHR | 0666, dev);
    if (n != nullptr) n->inode->rdev = major << 8 | minor;
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
    Node* cur = base != nullptr ? base : cwd();
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
        // ".." of a removed directory leads nowhere.
        Node* next = is_dot(c, clen) ? cur : is_dotdot(c, clen) ? cur->parent : cur->child(c, clen);
        if (next == nullptr) {
            out.error = ENOENT;
            if (final && !is_dotdot(c, clen)) {
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
            p = next->inode->target();
            end = p + next->inode->target_len();
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
