#include "user/vdso.h"

#include <elf.h>

#include "console/printk.h"
#include "mm/direct_map.h"
#include "platform/clock.h"
#include "user/address_space.h"

extern "C" const uint8_t vdso_image_start[], vdso_image_end[];

namespace pollux::user {
namespace {

bool enabled = true;

}  // namespace

void disable_vdso() { enabled = false; }

uint64_t map_vdso() {
    if (!enabled) {
        printk(KERN_INFO "app: no vDSO (pollux.vdso=off): time calls are syscalls\n");
        return 0;
    }
    uint64_t size = uint64_t(vdso_image_end - vdso_image_start);
    // vdso/check.sh has vouched for the layout at build time (one PT_LOAD at 0 that is the
    // whole file, no relocations); the magic is checked here only against a broken embed.
    if (size < sizeof(Elf64_Ehdr) || vdso_image_start[EI_MAG0] != ELFMAG0 || vdso_image_start[EI_MAG1] != ELFMAG1) {
        printk("app: the embedded vDSO is not an ELF image; running without one\n");
        return 0;
    }
    if (map_kernel_frame(kVvarAddress, clock::vvar_page_physical(), kProtRead) < 0 ||
        map_anonymous(kVdsoAddress, size, kProtRead | kProtExec) < 0 ||
        !copy_in(kVdsoAddress, vdso_image_start, size)) {
        printk("app: no room for the vDSO; running without one\n");
        unmap(kVvarAddress, kVdsoAddress + size - kVvarAddress);
        return 0;
    }
    printk(KERN_INFO "app: vDSO at %#lx (%lu bytes), clock data page at %#lx\n", kVdsoAddress, size, kVvarAddress);
    return kVdsoAddress;
}

}  // namespace pollux::user
