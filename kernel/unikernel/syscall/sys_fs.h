// What sys_console.cc (fstat of any descriptor) and sys_fs.cc (the file tree's calls) share.
#pragma once

#include <asm/stat.h>

namespace pollux {
class File;
}

namespace pollux::sys {

// fstat's answer for any open file: the tree's files, the console, sockets, pipes, the
// anonymous-inode kinds (sys_console.cc).
void fill_stat(File& file, struct stat& st);
// The tree's part (sys_fs.cc): false when the file is not one of the tree's.
bool fill_node_stat(File& file, struct stat& st);

}  // namespace pollux::sys
