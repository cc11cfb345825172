#include "elf/elf_loader.h"

#include <elf.h>

#include "console/printk.h"
#include "user/address_space.h"

namespace pollux::elf {
namespace {

bool fail(const char* why) {
    printk("elf: cannot load the application: %s\n", why);
    return false;
}

int prot_of(uint32_t flags) {
    return (flags & PF_R ? user::kProtRead : 0) | (flags & PF_W ? user::kProtWrite : 0) |
           (flags & PF_X ? user::kProtExec : 0);
}

}  // namespace

bool load(const uint8_t* file, size_t size, LoadedImage& out) {
    if (size < sizeof(Elf64_Ehdr)) return fail("shorter than an ELF header");
    const auto& eh = *reinterpret_cast<const Elf64_Ehdr*>(file);
    if (eh.e_ident[EI_MAG0] != ELFMAG0 || eh.e_ident[EI_MAG1] != ELFMAG1 || eh.e_ident[EI_MAG2] != ELFMAG2 ||
        eh.e_ident[EI_MAG3] != ELFMAG3)
        return fail("not an ELF file");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
        return fail("not an x86_64 ELF");
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return fail("neither ET_EXEC nor ET_DYN");
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > size ||
        eh.e_phnum > (size - eh.e_phoff) / sizeof(Elf64_Phdr))
        return fail("program headers out of the file");
    const auto* ph = reinterpret_cast<const Elf64_Phdr*>(file + eh.e_phoff);
    for (int i = 0; i < eh.e_phnum; ++i)
        if (ph[i].p_type == PT_INTERP) return fail("dynamically linked (PT_INTERP): only static executables run here");

    uint64_t base = eh.e_type == ET_DYN ? user::kPieBase : 0;
    uint64_t end = 0, phdr = 0, previous_end = 0;
    for (int i = 0; i < eh.e_phnum; ++i) {
        const Elf64_Phdr& p = ph[i];
        if (p.p_type == PT_PHDR) phdr = base + p.p_vaddr;
        if (p.p_type != PT_LOAD || p.p_memsz == 0) continue;
        if (p.p_filesz > p.p_memsz || p.p_offset > size || p.p_filesz > size - p.p_offset)
            return fail("a PT_LOAD segment lies outside the file");
        uint64_t va = base + p.p_vaddr, start = user::page_down(va), stop = user::page_up(va + p.p_memsz);
        if (stop > user::kMmapTop || stop < start) return fail("a PT_LOAD segment lies outside user memory");
        // The linker puts each segment on pages of its own (-z separate-code, max-page-size
        // 4096); a page shared by two segments would need one set of rights for both.
        if (start < previous_end) return fail("two PT_LOAD segments share a page");
        previous_end = stop;
        int prot = prot_of(p.p_flags);
        if (user::map_anonymous(start, stop - start, prot) < 0) return fail("no room for a segment (or W+X)");
        if (!user::copy_in(va, file + p.p_offset, p.p_filesz)) return fail("out of memory");
        if (!phdr && eh.e_phoff >= p.p_offset && eh.e_phoff < p.p_offset + p.p_filesz)
            phdr = va + (eh.e_phoff - p.p_offset);
        if (stop > end) end = stop;
    }
    if (!end) return fail("no PT_LOAD segment");
    out.entry = base + eh.e_entry;
    out.base = base;
    out.phdr = phdr;
    out.phnum = eh.e_phnum;
    out.phent = eh.e_phentsize;
    out.end = end;
    return true;
}

}  // namespace pollux::elf
