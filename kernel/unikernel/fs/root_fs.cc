#include "fs/root_fs.h"

#include <linux/errno.h>

#include <cstring>
#include <new>

#include "console/printk.h"
#include "fs/cpio.h"
#include "fs/devices.h"
#include "fs/vfs.h"
#include "kernel/spin_lock.h"
#include "mm/heap.h"
#include "net/name_service.h"
#include "netstack/procfs.h"

namespace pollux::fs {
namespace {

RamFs* tree = nullptr;
// The init path outlives the boot: /proc/1/exe and argv[0] point at it.
char init_path[kPathMax + 1];

const char* lookup_error(int error) {
    switch (error) {
    case ENOENT:
        return "no such file in the archive";
    case ENOTDIR:
        return "a component of the path is not a directory";
    case ELOOP:
        return "too many levels of symbolic links";
    case ENAMETOOLONG:
        return "a component of the path is longer than NAME_MAX";
    default:
        return "cannot be resolved";
    }
}

// /etc/hosts, and /etc/resolv.conf when dns= named servers or DHCP runs (net/name_service.h),
// unless the archive has them: what a resolver in the app reads. Generated, so they follow the
// command line and the lease.
bool mount_etc(RamFs& fs) {
    Node* etc = nullptr;
    bool hosts = false, resolv = false;
    {
        LockGuard guard(fs.mutex());
        etc = fs.root()->child("etc", 3);
        if (etc != nullptr && etc->is_dir()) {
            hosts = etc->child("hosts", 5) != nullptr;
            resolv = etc->child("resolv.conf", 11) != nullptr;
        }
    }
    if (etc == nullptr) etc = fs.make_dir(fs.root(), "etc", 0755, RamFs::kRootDev);
    if (etc == nullptr) return false;
    if (!etc->is_dir()) return true;  // the archive's /etc is something else: leave it be
    if (!hosts && fs.make_generated(etc, "hosts", net::etc_render, "/etc/hosts", RamFs::kRootDev) == nullptr)
        return false;
    if (net::resolv_conf_wanted() && !resolv &&
        fs.make_generated(etc, "resolv.conf", net::etc_render, "/etc/resolv.conf", RamFs::kRootDev) == nullptr)
        return false;
    return true;
}

// What written files may hold: half the kernel heap, as tmpfs's default size= is half of RAM,
// so that a program filling /tmp leaves the network stack and the kernel their memory.
void limit_file_bytes(RamFs& fs) { fs.budget().set_limit(mm::heap_stats().size / 2); }

}  // namespace

RamFs& root_fs() {
    if (tree == nullptr) {
        tree = new RamFs;
        limit_file_bytes(*tree);
        if (!tree->ok() || !mount_proc(*tree, net::proc_net_render, nullptr) || !mount_dev(*tree) ||
            !mount_etc(*tree) || !mount_tmp(*tree))
            printk(KERN_WARNING "fs: out of memory for the file tree\n");
    }
    return *tree;
}

InitProgram mount_root(const uint8_t* module, size_t size, const Cmdline& cmdline) {
    InitProgram init;
    if (!cpio::looks_like_archive(module, size)) {
        // The module is the program itself, exactly as before archives existed.
        (void)root_fs();
        init.elf = module;
        init.size = size;
        init.args = cmdline.app_args();
        return init;
    }
    tree = new RamFs;
    limit_file_bytes(*tree);
    BuildStats stats;
    const char* why = nullptr;
    size_t at = 0;
    // What stops the boot is an error (KERN_ERR): `quiet` still shows it.
    if (!tree->add_archive(module, size, stats, &why, &at)) {
        printk(KERN_ERR "fs: malformed cpio archive (byte %zu of %zu): %s; stopping (exit status %d)\n", at, size, why,
               kBadArchiveStatus);
        init.status = kBadArchiveStatus;
        return init;
    }
    // Read one byte in, so that a relative init= gets its leading slash in front: /proc/1/exe
    // must be absolute.
    if (!cmdline.get("init", init_path + 1, sizeof init_path - 1)) {
        if (cmdline.has("init")) {
            printk(KERN_ERR "fs: init= is longer than PATH_MAX; stopping (exit status %d)\n", kNoInitStatus);
            init.status = kNoInitStatus;
            return init;
        }
        memcpy(init_path + 1, "/init", sizeof "/init");
    }
    const char* path = init_path + 1;
    if (path[0] != '/') {
        init_path[0] = '/';
        path = init_path;
    }
    printk(KERN_INFO "fs: cpio archive of %zu KiB: %u files (%lu KiB), %u directories, %u symlinks, %u skipped\n",
           size / 1024, stats.files, stats.file_bytes / 1024, stats.dirs, stats.symlinks, stats.skipped);
    const char* problem = nullptr;
    {
        LockGuard guard(tree->mutex());
        Lookup l = tree->lookup(tree->root(), path, strlen(path), true);
        problem = l.error != 0             ? lookup_error(l.error)
                  : !l.node->is_regular()  ? "not a regular file"
                  : l.node->is_generated() ? "not a file of the archive"
                                           : nullptr;
        if (problem == nullptr) {
            // The archive's bytes: a write to the file later copies them, these stay.
            LockGuard contents(l.node->inode->lock);
            init.elf = l.node->inode->data;
            init.size = static_cast<size_t>(l.node->inode->size);
        }
    }
    if (problem != nullptr) {
        printk(KERN_ERR "fs: init=%s: %s (init=PATH names the archive's program to run); stopping (exit status %d)\n",
               path, problem, kNoInitStatus);
        init.status = kNoInitStatus;
        return init;
    }
    if (!mount_proc(*tree, net::proc_net_render, path) || !mount_dev(*tree) || !mount_etc(*tree) || !mount_tmp(*tree))
        printk(KERN_WARNING "fs: out of memory for /proc, /dev, /etc and /tmp\n");
    init.args = cmdline.app_args();
    if (init.args[0] == '\0') init.args = path;  // Linux starts init with argv[0] = its path
    printk(KERN_INFO "fs: init %s, %zu KiB\n", path, init.size / 1024);
    return init;
}

}  // namespace pollux::fs
