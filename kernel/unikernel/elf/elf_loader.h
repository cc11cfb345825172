// Loads an x86_64 Linux executable into the application's half of the address space: ET_EXEC
// at its own addresses, or ET_DYN (a static-pie, or a PIE with an interpreter) at
// user::kPieBase; and a dynamically linked program's interpreter (PT_INTERP, glibc's ld.so),
// an ET_DYN at a base of its own in the mmap area, as Linux's load_elf_interp does.
// Each PT_LOAD becomes an area with its p_flags' rights (a writable and executable segment is
// refused: W^X); the segment at file offset 0 is mapped like any other, which is what lets
// static glibc find its ELF header through __ehdr_start. Bytes past p_filesz are zero. PT_TLS
// is the C library's business; PT_GNU_STACK only says whether the stack would be executable,
// and ours never is.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::elf {

struct LoadedImage {
    uint64_t entry = 0;
    uint64_t base = 0;  // load bias: 0 for ET_EXEC
    uint64_t phdr = 0;  // where the program headers are in the app's memory (AT_PHDR)
    uint64_t phnum = 0, phent = 0;
    uint64_t end = 0;  // the highest segment's end: the break starts after it
    // The program's PT_INTERP, NUL-terminated, pointing into the file's bytes; null for a
    // static executable.
    const char* interpreter = nullptr;
};

// The program. False, with the reason on the console, when the file is not such an executable.
bool load(const uint8_t* file, size_t size, LoadedImage& out);
// The interpreter `path` names (for the messages): an ET_DYN without a PT_INTERP of its own,
// placed where a top-down mmap of its whole span would go. False, with the reason on the
// console, when it is not one or does not fit.
bool load_interpreter(const char* path, const uint8_t* file, size_t size, LoadedImage& out);

}  // namespace pollux::elf
