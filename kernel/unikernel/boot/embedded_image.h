// A single-file image (qemu/mkimage): this kernel's ELF with the application, or an archive of
// it and its files, appended as one more loadable segment, and the descriptor below filled in
// the file. The loader (QEMU's PVH path, GRUB's Multiboot2) places the payload with the rest of
// the image, so an image boots with no boot module and no command line of its own.
#pragma once

#include <cstdint>

#include "boot/boot_info.h"

namespace pollux {

// The layout qemu/mkimage writes into the section .pollux_image (little-endian, packed as
// declared). A plain kernel has it with payload_size 0.
struct EmbeddedImage {
    char magic[16];          // "POLLUX-IMAGE-1", zero-padded
    uint64_t payload_paddr;  // where the payload's segment is loaded
    uint64_t payload_size;
    char cmdline[1024];  // the image's command line, zero-terminated
};
static_assert(sizeof(EmbeddedImage) == 16 + 8 + 8 + 1024);

// Makes an embedded payload the boot module and merges the image's command line under the
// loader's (merge_cmdlines). A boot module from the loader wins over the payload, with a log
// line. False, with a message, when the descriptor is damaged, the payload is not in RAM or the
// command line does not fit.
bool apply_embedded_image(BootInfo& info);

}  // namespace pollux
