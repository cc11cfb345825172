// Loads a static x86_64 Linux executable into the application's half of the address space:
// ET_EXEC at its own addresses, or a static-pie (ET_DYN without PT_INTERP) at user::kPieBase.
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
    uint64_t base = 0;      // load bias: 0 for ET_EXEC
    uint64_t phdr = 0;      // where the program headers are in the app's memory (AT_PHDR)
    uint64_t phnum = 0, phent = 0;
    uint64_t end = 0;       // the highest segment's end: the break starts after it
};

// False, with the reason on the console, when the file is not such an executable.
bool load(const uint8_t* file, size_t size, LoadedImage& out);

}  // namespace pollux::elf
