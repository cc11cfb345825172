// RamFs: the read-only tree the application sees, built from the boot archive (fs/cpio.h).
//
// Regular files and symlink targets point into the archive's memory, which stays where the
// loader put it for the kernel's lifetime: nothing is copied. Directories are nodes with a list
// of children in archive order (which is what getdents64 returns). /proc's few files are
// generated nodes: a function renders their text when they are opened.
//
// Building is the only mutation, at boot, before the application runs; afterwards the tree is
// immutable and lookups need no lock.
//
// Path resolution is Linux's (fs/namei.c) for what a read-only tree can meet: repeated slashes,
// "." and "..", ".." at the root stays there, symlinks followed in the middle always and at the
// end when asked (or when a slash follows), at most 40 of them per lookup (ELOOP), ENOTDIR for
// a non-directory in the middle or before a trailing slash, ENAMETOOLONG for a component over
// 255 bytes. It is iterative: a kernel stack is 16 KiB.
//
// Portable C++: compiled into the kernel and, hosted, into the unit tests and the fuzzer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::fs {

// st_mode's type bits and the permission bits a node keeps (<linux/stat.h>).
inline constexpr uint32_t kS_IFMT = 0170000;
inline constexpr uint32_t kS_IFDIR = 0040000;
inline constexpr uint32_t kS_IFCHR = 0020000;
inline constexpr uint32_t kS_IFREG = 0100000;
inline constexpr uint32_t kS_IFLNK = 0120000;
inline constexpr uint32_t kPermMask = 07777;

inline constexpr size_t kNameMax = 255;   // NAME_MAX
inline constexpr size_t kPathMax = 4096;  // PATH_MAX, with the NUL
inline constexpr int kMaxSymlinks = 40;   // MAXSYMLINKS

// Renders a generated file's text into buf (NUL-terminated, truncated to cap) and returns its
// full length, as snprintf does; netstack's proc_net_render has this shape.
using Renderer = long (*)(const char* key, char* buf, size_t cap);

struct Node {
    uint32_t mode = 0;  // type | permissions
    uint32_t uid = 0, gid = 0;
    uint64_t ino = 0;
    int64_t mtime = 0;
    uint32_t dev = 0;      // st_dev: the archive's tree and /proc differ, as on Linux
    uint32_t subdirs = 0;  // directories: how many children are directories (st_nlink = 2 + this)
    // The name in the parent; not NUL-terminated (it may be a prefix of a longer archive path).
    const char* name = nullptr;
    uint16_t name_len = 0;
    Node* parent = nullptr;  // the root is its own parent
    Node* first_child = nullptr;
    Node* last_child = nullptr;
    Node* next_sibling = nullptr;
    // Regular files: the contents; symlinks: the target (not NUL-terminated).
    const uint8_t* data = nullptr;
    uint64_t size = 0;
    // Generated files: the text comes from render(render_key, ...) at open.
    Renderer render = nullptr;
    const char* render_key = nullptr;
    char* owned = nullptr;  // a buffer this node owns (a target the kernel made up)
    // Regular files hard-linked in the archive: the names of one file form a ring through
    // link_next and share ino, data and links (their count). Null and 1 otherwise.
    Node* link_next = nullptr;
    uint32_t links = 1;
    Node* all_next = nullptr;  // every node the tree ever made, for the destructor
    uint32_t rdev = 0;         // character devices: (major << 8) | minor

    bool is_dir() const { return (mode & kS_IFMT) == kS_IFDIR; }
    bool is_regular() const { return (mode & kS_IFMT) == kS_IFREG; }
    bool is_symlink() const { return (mode & kS_IFMT) == kS_IFLNK; }
    bool is_chardev() const { return (mode & kS_IFMT) == kS_IFCHR; }
    bool is_generated() const { return render != nullptr; }
    uint32_t nlink() const { return is_dir() ? 2 + subdirs : links; }
    // The directory's child with this name, or null.
    Node* child(const char* n, size_t len) const;
};

// What a lookup found. error 0: node is the file. ENOENT with parent set: everything but the
// last component exists (parent is the directory it would be created in, name/name_len what
// it would be called, trailing_slash whether a slash followed it): what open(O_CREAT) and
// mkdir need to tell EROFS from ENOENT.
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
    ~RamFs();
    RamFs(const RamFs&) = delete;
    RamFs& operator=(const RamFs&) = delete;

    // False when the root could not even be allocated.
    bool ok() const { return root_ != nullptr; }
    Node* root() const { return root_; }

    // Adds a cpio archive's entries. On a malformed archive returns false with *error saying
    // why and *error_offset where (the tree then holds what came before; the boot stops).
    // Entry names are relative to the root whatever their spelling ("init", "./init",
    // "/init"); "." is the root itself. Missing parent directories are made (0755), as a later
    // entry for the same directory then only sets its mode, owner and time; a later regular
    // file or symlink of the same name replaces an earlier one (Linux's initramfs unlinks it).
    // Regular files with nlink >= 2 and the same (device, inode) are one file under several
    // names, its data taken from whichever entry carries it (cpio stores it once).
    bool add_archive(const uint8_t* data, size_t size, BuildStats& stats, const char** error, size_t* error_offset);

    // The kernel's own nodes (/proc). Each returns null on allocation failure or when the name
    // exists already. `name` must outlive the tree (a literal).
    Node* make_dir(Node* parent, const char* name, uint32_t perm, uint32_t dev);
    Node* make_symlink(Node* parent, const char* name, const char* target, uint32_t dev);  // copies target
    Node* make_generated(Node* parent, const char* name, Renderer render, const char* key, uint32_t dev);
    Node* make_chardev(Node* parent, const char* name, uint32_t major, uint32_t minor, uint32_t dev);
    // Unlinks a child from its directory (a mount hiding what the archive had there).
    void detach(Node* child);

    // Resolves path[0..len) from `base` (relative paths) or the root (absolute ones).
    // follow_last: whether a symlink as the last component is followed (stat vs lstat).
    Lookup lookup(Node* base, const char* path, size_t len, bool follow_last) const;

private:
    Node* new_node(Node* parent, const char* name, size_t len, uint32_t mode);
    // Takes a node out of its ring of hard links: it becomes a file of its own.
    void unlink_hard(Node* node);
    void link_child(Node* parent, Node* child);
    // Finds or makes the directory chain of an archive path's parents; the last component
    // comes back in (*leaf, *leaf_len). Null, with *error, on a bad name.
    Node* parent_for(const char* path, size_t len, const char** leaf, size_t* leaf_len, const char** error);

    Node* root_ = nullptr;
    Node* all_ = nullptr;
    uint64_t next_ino_ = 1;
};

}  // namespace pollux::fs
