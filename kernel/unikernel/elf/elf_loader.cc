#include "elf/elf_loader.h"

#include <elf.h>

#include "console/printk.h"
#include "user/address_space.h"

namespace pollux::elf {
namespace {

// PATH_MAX: Linux refuses a longer PT_INTERP (fs/binfmt_elf.c, load_elf_binary).
constexpr uint64_t kInterpreterMax = 4096;

// Who is being loaded, for the console's line.
struct Role {
    const char* what;  // "the application", "the interpreter"
    const char* path;  // the interpreter's path, or null
};

bool fail(const Role& role, const char* why) {
    if (role.path != nullptr)
        printk(KERN_ERR "elf: cannot load %s %s: %s\n", role.what, role.path, why);
    else
        printk(KERN_ERR "elf: cannot load %s: %s\n", role.what, why);
    return false;
}

int prot_of(uint32_t flags) {
    return (flags & PF_R ? user::kProtRead : 0) | (flags & PF_W ? user::kProtWrite : 0) |
           (flags & PF_X ? user::kProtExec : 0);
}

// The checks both loads share: an x86_64 ELF with its program headers inside the file.
const Elf64_Phdr* headers(const Role& role, const uint8_t* file, size_t size) {
    if (size < sizeof(Elf64_Ehdr)) return fail(role, "shorter than an ELF header"), nullptr;
    const auto& eh = *reinterpret_cast<const Elf64_Ehdr*>(file);
    if (eh.e_ident[EI_MAG0] != ELFMAG0 || eh.e_ident[EI_MAG1] != ELFMAG1 || eh.e_ident[EI_MAG2] != ELFMAG2 ||
        eh.e_ident[EI_MAG3] != ELFMAG3)
        return fail(role, "not an ELF file"), nullptr;
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
        return fail(role, "not an x86_64 ELF"), nullptr;
    if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return fail(role, "neither ET_EXEC nor ET_DYN"), nullptr;
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phoff > size ||
        eh.e_phnum > (size - eh.e_phoff) / sizeof(Elf64_Phdr))
        return fail(role, "program headers out of the file"), nullptr;
    return reinterpret_cast<const Elf64_Phdr*>(file + eh.e_phoff);
}

// The page-aligned span [low, high) of the PT_LOAD segments' p_vaddr, for placing an ET_DYN.
bool load_span(const Role& role, const Elf64_Phdr* ph, int phnum, uint64_t& low, uint64_t& high) {
    low = ~0ull;
    high = 0;
    for (int i = 0; i < phnum; ++i) {
        const Elf64_Phdr& p = ph[i];
        if (p.p_type != PT_LOAD || p.p_memsz == 0) continue;
        if (p.p_vaddr > user::kMmapTop || p.p_memsz > user::kMmapTop - p.p_vaddr)
            return fail(role, "a PT_LOAD segment lies outside user memory");
        if (user::page_down(p.p_vaddr) < low) low = user::page_down(p.p_vaddr);
        if (user::page_up(p.p_vaddr + p.p_memsz) > high) high = user::page_up(p.p_vaddr + p.p_memsz);
    }
    if (!high) return fail(role, "no PT_LOAD segment");
    return true;
}

// Maps the segments at base + p_vaddr and fills out everything but `interpreter`.
bool map_segments(const Role& role, const uint8_t* file, size_t size, uint64_t base, LoadedImage& out) {
    const auto& eh = *reinterpret_cast<const Elf64_Ehdr*>(file);
    const auto* ph = reinterpret_cast<const Elf64_Phdr*>(file + eh.e_phoff);
    uint64_t end = 0, phdr = 0, previous_end = 0;
    for (int i = 0; i < eh.e_phnum; ++i) {
        const Elf64_Phdr& p = ph[i];
        if (p.p_type == PT_PHDR) phdr = base + p.p_vaddr;
        if (p.p_type != PT_LOAD || p.p_memsz == 0) continue;
        if (p.p_filesz > p.p_memsz || p.p_offset > size || p.p_filesz > size - p.p_offset)
            return fail(role, "a PT_LOAD segment lies outside the file");
        if (p.p_vaddr > user::kMmapTop || p.p_memsz > user::kMmapTop - p.p_vaddr)
            return fail(role, "a PT_LOAD segment lies outside user memory");
        uint64_t va = base + p.p_vaddr, start = user::page_down(va), stop = user::page_up(va + p.p_memsz);
        if (stop > user::kMmapTop || stop < start) return fail(role, "a PT_LOAD segment lies outside user memory");
        // The linker puts each segment on pages of its own (-z separate-code, max-page-size
        // 4096); a page shared by two segments would need one set of rights for both.
        if (start < previous_end) return fail(role, "two PT_LOAD segments share a page");
        previous_end = stop;
        int prot = prot_of(p.p_flags);
        if (user::map_anonymous(start, stop - start, prot) < 0) return fail(role, "no room for a segment (or W+X)");
        if (!user::copy_in(va, file + p.p_offset, p.p_filesz)) return fail(role, "out of memory");
        if (!phdr && eh.e_phoff >= p.p_offset && eh.e_phoff < p.p_offset + p.p_filesz)
            phdr = va + (eh.e_phoff - p.p_offset);
        if (stop > end) end = stop;
    }
    if (!end) return fail(role, "no PT_LOAD segment");
    out.entry = base + eh.e_entry;
    out.base = base;
    out.phdr = phdr;
    out.phnum = eh.e_phnum;
    out.phent = eh.e_phentsize;
    out.end = end;
    return true;
}

}  // namespace

bool load(const uint8_t* file, size_t size, LoadedImage& out) {
    const Role role{"the application", nullptr};
    const Elf64_Phdr* ph = headers(role, file, size);
    if (ph == nullptr) return false;
    const auto& eh = *reinterpret_cast<const Elf64_Ehdr*>(file);
    const char* interpreter = nullptr;
    for (int i = 0; i < eh.e_phnum; ++i) {
        const Elf64_Phdr& p = ph[i];
        if (p.p_type != PT_INTERP) continue;
        // Linux's checks: one PT_INTERP, at least two bytes, at most PATH_MAX, inside the
        // file, NUL-terminated (-ENOEXEC otherwise).
        if (interpreter != nullptr) return fail(role, "more than one PT_INTERP");
        if (p.p_filesz < 2 || p.p_filesz > kInterpreterMax || p.p_offset > size || p.p_filesz > size - p.p_offset)
            return fail(role, "a PT_INTERP outside the file or of a bad length");
        interpreter = reinterpret_cast<const char*>(file + p.p_offset);
        if (interpreter[p.p_filesz - 1] != '\0') return fail(role, "a PT_INTERP without its NUL");
    }
    if (!map_segments(role, file, size, eh.e_type == ET_DYN ? user::kPieBase : 0, out)) return false;
    out.interpreter = interpreter;
    return true;
}

bool load_interpreter(const char* path, const uint8_t* file, size_t size, LoadedImage& out) {
    const Role role{"the interpreter", path};
    const Elf64_Phdr* ph = headers(role, file, size);
    if (ph == nullptr) return false;
    const auto& eh = *reinterpret_cast<const Elf64_Ehdr*>(file);
    // An ET_EXEC interpreter would sit at its link addresses, over the program's perhaps; no
    // ld.so is built that way.
    if (eh.e_type != ET_DYN) return fail(role, "not ET_DYN (position-independent)");
    for (int i = 0; i < eh.e_phnum; ++i)
        if (ph[i].p_type == PT_INTERP) return fail(role, "has a PT_INTERP of its own");
    uint64_t low, high;
    if (!load_span(role, ph, eh.e_phnum, low, high)) return false;
    // Linux maps the interpreter's whole span with one mmap (total_mapping_size) and puts the
    // segments in it; the same here: the top-down mmap area's next free range of that size,
    // so later mmaps go below it, and brk, the stack and the vDSO are elsewhere already.
    uint64_t at = user::find_free(high - low);
    if (!at) return fail(role, "no room for it in the mmap area");
    if (!map_segments(role, file, size, at - low, out)) {
        user::unmap(at, high - low);
        return false;
    }
    return true;
}

}  // namespace pollux::elf
