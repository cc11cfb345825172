// RamFs: the tree the application sees, Linux's initramfs rootfs: built from the boot archive
// (fs/cpio.h), then writable in memory as tmpfs is.
//
// A Node is a name (Linux's dentry): its parent, its place among its siblings, its children,
// and the Inode (fs/inode.h) it names. Archive files and symlink targets point into the
// archive's memory, which stays where the loader put it for the kernel's lifetime: nothing is
// copied until written. Directories list their children in the order they were made (archive
// order, then creation order: what getdents64 returns). /proc's few files are generated nodes.
//
// LOCKING: mutex (the tree's one lock, Linux's rename lock and every i_rwsem of a directory in
// one) guards the shape of the tree: every Node's parent, name, sibling and child links, pins,
// the working directory, and the inodes' mode, links, subdirs and nodes counts. Lookups hold it
// for as long as they use what they found, or pin it first. An Inode's contents have a lock of
// their own, taken inside this one.
//
// LIFETIME: a Node lives while it has a parent (it is in the tree; the root is its own parent)
// or while it is pinned (an open file, the working directory); unlinked and unpinned, it is
// freed, and with the last Node an Inode goes too. So a file unlinked while open stays readable
// and writable until its last close, and an open directory that was removed lists nothing.
//
// Path resolution is Linux's (fs/namei.c): repeated slashes, "." and "..", ".." at the root
// stays there, symlinks followed in the middle always and at the end when asked (or when a
// slash follows), at most 40 of them per lookup (ELOOP), ENOTDIR for a non-directory in the
// middle or before a trailing slash, ENAMETOOLONG for a component over 255 bytes. It is
// iterative: a kernel stack is 16 KiB.
//
// Portable C++: compiled into the kernel and, hosted, into the unit tests and the fuzzer.
#pragma once

#include <cstddef>
#include <cstdint>

#include "fs/inode.h"
#include "kernel/mutex.h"

namespace pollux::fs {

inline constexpr size_t kNameMax = 255;   // NAME_MAX
inline constexpr size_t kPathMax = 4096;  // PATH_MAX, with the NUL
inline constexpr int kMaxSymlinks = 40;   // MAXSYMLINKS

struct Node {
    Inode* inode = nullptr;  // null only for a cursor
    // The name in the parent; not NUL-terminated (it may be a prefix of a longer archive path).
    const char* name = nullptr;
    uint16_t name_len = 0;
    bool cursor = false;       // a directory file's place in the list, not a name (dcache_readdir)
    char* own_name = nullptr;  // the heap copy name points at, for names the application made
    Node* parent = nullptr;    // the root is its own parent; null once unlinked
    Node* first_child = nullptr;
    Node* last_child = nullptr;
    Node* next_sibling = nullptr;
    Node* prev_sibling = nullptr;
    uint32_t pins = 0;  // open files and the working directory
    Node* all_next = nullptr;  // every Node alive, for the destructor
    Node* all_prev = nullptr;

    bool is_dir() const { return inode->is_dir(); }
    bool is_regular() const { return inode->is_regular(); }
    bool is_symlink() const { return inode->is_symlink(); }
    bool is_chardev() const { return inode->is_chardev(); }
    bool is_socket() const { return inode->is_socket(); }
    bool is_generated() const { return inode->is_generated(); }
    bool linked() const { return parent != nullptr; }
    // st_nlink: a directory counts ".", its name and its subdirectories' "..", 0 once removed.
    uint32_t nlink() const { return is_dir() ? (linked() ? 2 + inode->subdirs : 0) : inode->links; }
    // The directory's child with this name, or null.
    Node* child(const char* n, size_t len) const;
    // Children in order, cursors skipped: first_name(), then next_name(child).
    Node* first_name() const;
    static Node* next_name(const Node* after);
};

// What a lookup found. error 0: node is the file. ENOENT with parent set: everything but the
// last component exists (parent is the directory it would be created in, name/name_len what
// it would be called, trailing_slash whether a slash followed it): what open(O_CREAT) needs.
struct Lookup {
    int error = 0;
    Node* node = nullptr;
    Node* parent = nullptr;
    const char* name = nullptr;
    size_t name_len = 0;
    bool trailing_slash = false;
};

struct BuildStats {
    unsigned entries = 0, files = 0, dirs = 0, symlinks = 0;
    unsigned skipped = 0;  // device nodes, fifos, sockets: nothing here can use them
    uint64_t file_bytes = 0;
};

class RamFs {
public:
    static constexpr uint32_t kRootDev = 1;

    RamFs();
    ~RamFs();  // after every file of the tree is closed
    RamFs(const RamFs&) = delete;
    RamFs& operator=(const RamFs&) = delete;

    // False when the root could not even be allocated.
    bool ok() const { return root_ != nullptr; }
    Node* root() const { return root_; }
    Mutex& mutex() const PX_ATTR(lock_returned(mutex_)) { return mutex_; }
    ByteBudget& budget() { return budget_; }

    // Adds a cpio archive's entries (fs/ramfs_archive.cc), before the application runs. On a
    // malformed archive returns false with *error saying why and *error_offset where (the tree
    // then holds what came before; the boot stops). Entry names are relative to the root
    // whatever their spelling ("init", "./init", "/init"); "." is the root itself. Missing
    // parent directories are made (0755), as a later entry for the same directory then only
    // sets its mode, owner and time; a later regular file or symlink of the same name replaces
    // an earlier one (Linux's initramfs unlinks it). Regular files with nlink >= 2 and the same
    // (device, inode) are one file under several names, its data taken from whichever entry
    // carries it (cpio stores it once).
    bool add_archive(const uint8_t* data, size_t size, BuildStats& stats, const char** error, size_t* error_offset)
        EXCLUDES(mutex_);

    // The kernel's own nodes (/proc, /dev, /tmp) at boot. Each returns null on allocation
    // failure or when the name exists already. `name` must outlive the tree (a literal).
    Node* make_dir(Node* parent, const char* name, uint32_t perm, uint32_t dev) EXCLUDES(mutex_);
    Node* make_symlink(Node* parent, const char* name, const char* target, uint32_t dev) EXCLUDES(mutex_);
    Node* make_generated(Node* parent, const char* name, Renderer render, const char* key, uint32_t dev)
        EXCLUDES(mutex_);
    Node* make_chardev(Node* parent, const char* name, uint32_t major, uint32_t minor, uint32_t dev)
        EXCLUDES(mutex_);
    // Unlinks a child from its directory (a mount hiding what the archive had there).
    void detach(Node* child) EXCLUDES(mutex_);

    // Resolves path[0..len) from `base` (relative paths; null: the working directory) or the
    // root (absolute ones). follow_last: whether a symlink as the last component is followed.
    Lookup lookup(Node* base, const char* path, size_t len, bool follow_last) const REQUIRES(mutex_);

    // The application's changes (fs/vfs_names.cc checks them as Linux does first).
    // A new name for a new inode (mode: type | permissions) in dir; ENOMEM, or ENOENT when dir
    // was removed. The name is copied.
    kstd::Result<Node*> create(Node* dir, const char* name, size_t len, uint32_t mode) REQUIRES(mutex_);
    // A new name in dir for node's inode (a hard link); node may be unnamed (O_TMPFILE).
    kstd::Result<Node*> link(Node* dir, const char* name, size_t len, Node* node) REQUIRES(mutex_);
    // An inode without a name, pinned once by the caller (O_TMPFILE).
    kstd::Result<Node*> create_unnamed(uint32_t mode, uint32_t dev) REQUIRES(mutex_);
    // Takes a name out of the tree; the Node goes when its last pin does.
    void unlink(Node* node) REQUIRES(mutex_);
    // Moves node to dir under a new name (replacing nothing: the caller unlinked any target).
    kstd::Result<void> move(Node* node, Node* dir, const char* name, size_t len) REQUIRES(mutex_);
    // Swaps two names' places (RENAME_EXCHANGE).
    void exchange(Node* a, Node* b) REQUIRES(mutex_);

    void pin(Node* node) REQUIRES(mutex_) { ++node->pins; }
    void unpin(Node* node) REQUIRES(mutex_);
    // A directory file's cursor, placed after `after` (null: first) in dir's list, or taken out.
    void place_cursor(Node* dir, Node* cursor, Node* after) REQUIRES(mutex_);
    void remove_cursor(Node* cursor) REQUIRES(mutex_);

    // Process state: the working directory (pinned; the root until chdir) and the umask.
    Node* cwd() const REQUIRES(mutex_) { return cwd_ != nullptr ? cwd_ : root_; }
    void set_cwd(Node* dir) REQUIRES(mutex_);
    uint32_t umask() const { return umask_.load(std::memory_order_relaxed); }
    uint32_t set_umask(uint32_t mask);

private:
    Node* new_node(Node* parent, const char* name, size_t len, Inode* inode) REQUIRES(mutex_);
    Inode* new_inode(uint32_t mode, uint32_t dev) REQUIRES(mutex_);
    void link_child(Node* parent, Node* child) REQUIRES(mutex_);
    void unlink_child(Node* child) REQUIRES(mutex_);
    void free_node(Node* node) REQUIRES(mutex_);
    // Finds or makes the directory chain of an archive path's parents; the last component
    // comes back in (*leaf, *leaf_len). Null, with *error, on a bad name.
    Node* parent_for(const char* path, size_t len, const char** leaf, size_t* leaf_len, const char** error)
        REQUIRES(mutex_);
    Node* make_boot_node(Node* parent, const char* name, uint32_t mode, uint32_t dev) REQUIRES(mutex_);

    mutable Mutex mutex_;
    Node* root_ = nullptr;
    Node* all_ GUARDED_BY(mutex_) = nullptr;
    Node* cwd_ GUARDED_BY(mutex_) = nullptr;
    uint64_t next_ino_ GUARDED_BY(mutex_) = 1;
    std::atomic<uint32_t> umask_{022};  // the kernel's init_task: 0022
    ByteBudget budget_;
};

}  // namespace pollux::fs
