// /dev's character devices: null, zero, random and urandom, as a process finds them on any
// Linux system (the conformance suite opens /dev/null; libraries read /dev/urandom).
#pragma once

#include "eventpoll/file.h"
#include "fs/ramfs.h"
#include "kstd/result.h"

namespace pollux::fs {

// st_dev of /dev's nodes: devtmpfs is a file system of its own.
inline constexpr uint32_t kDevDev = 5;

// Adds /dev and its nodes to the tree. False when out of memory.
bool mount_dev(RamFs& fs);

// An open description of one of them (mode: FMODE_* from the open's access mode), pinning
// the node.
kstd::Result<File*> open_device(RamFs& fs, Node* node, uint8_t mode, int flags) REQUIRES(fs.mutex());

}  // namespace pollux::fs
