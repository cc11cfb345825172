// Starting the application: its ELF from the boot module, argv from the command line after
// `--`, the initial stack exactly as Linux's execve builds it (fs/binfmt_elf.c,
// create_elf_tables), and its main thread at CPL3.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::user {

// False, with the reason on the console, when the application cannot be started.
bool start_application(const uint8_t* elf, size_t size, const char* args);

}  // namespace pollux::user
