#include "boot/embedded_image.h"

#include <cstring>

#include "boot/cmdline.h"
#include "console/printk.h"

namespace pollux {
namespace {

constexpr char kMagic[16] = "POLLUX-IMAGE-1";

// Read through a volatile view: the tool rewrites this after the link, so the compiler must
// not fold the zero payload_size it sees here.
[[gnu::section(".pollux_image"), gnu::used]] const EmbeddedImage embedded_image = {
    {'P', 'O', 'L', 'L', 'U', 'X', '-', 'I', 'M', 'A', 'G', 'E', '-', '1', 0, 0}, 0, 0, {}};

}  // namespace

bool apply_embedded_image(BootInfo& info) {
    const volatile EmbeddedImage& image = embedded_image;
    uint64_t size = image.payload_size, paddr = image.payload_paddr;
    if (size == 0) return true;
    if (memcmp(const_cast<const char*>(image.magic), kMagic, sizeof kMagic) != 0) {
        printk("boot: the image descriptor is damaged (bad magic)\n");
        return false;
    }
    if (info.module_size) {
        printk("boot: the loader's boot module replaces the image's %lu KiB payload\n", size / 1024);
        return true;
    }
    bool in_ram = false;
    for (size_t i = 0; i < info.region_count && !in_ram; ++i) {
        const MemoryRegion& r = info.regions[i];
        in_ram = r.type == MemoryType::ram && paddr >= r.base && paddr + size <= r.base + r.size && paddr + size > paddr;
    }
    if (!in_ram) {
        printk("boot: the image's payload (%lu bytes at %#lx) is not in RAM\n", size, paddr);
        return false;
    }
    char cmdline[sizeof image.cmdline];
    for (size_t i = 0; i < sizeof cmdline; ++i) cmdline[i] = image.cmdline[i];
    if (cmdline[sizeof cmdline - 1] != '\0') {
        printk("boot: the image's command line is not terminated\n");
        return false;
    }
    if (!merge_cmdlines(cmdline, info.cmdline, info.cmdline, sizeof info.cmdline)) {
        printk("boot: the image's command line and the loader's together exceed %zu bytes\n", sizeof info.cmdline - 1);
        return false;
    }
    info.module_paddr = paddr;
    info.module_size = size;
    return true;
}

}  // namespace pollux
