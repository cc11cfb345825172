// The root file system at boot: the boot module is either the application's static ELF (as
// before: the tree then has only /proc) or a cpio "newc" archive (Linux's initramfs format)
// holding the application and its files, served from the module's memory (and writable in
// memory, as Linux's rootfs; /tmp is made when the archive has none). The
// program to run is the archive's entry named by the command line's init=PATH (Linux's
// name), /init by default.
#pragma once

#include <cstddef>
#include <cstdint>

#include "boot/cmdline.h"
#include "fs/ramfs.h"

namespace pollux::fs {

// A boot module that is a malformed archive (sysexits.h's EX_DATAERR, "data format error"),
// and one without the program to run (EX_NOINPUT, as for a module that is not an executable).
constexpr int kBadArchiveStatus = 65;
constexpr int kNoInitStatus = 66;

struct InitProgram {
    const uint8_t* elf = nullptr;
    size_t size = 0;
    const char* args = "";  // argv as one string: the command line's after `--`, else the init path
    int status = 0;         // non-zero: the boot cannot go on (the reason is on the console)
};

// Builds the tree from the module (in the direct map; it stays reserved) and finds the
// program. Once, before the application starts.
InitProgram mount_root(const uint8_t* module, size_t size, const Cmdline& cmdline);

// The tree the file calls resolve against (an empty root with /proc if mount_root never ran).
RamFs& root_fs();

}  // namespace pollux::fs
