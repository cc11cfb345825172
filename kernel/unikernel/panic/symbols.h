// Address -> function name, from the table gen_ksyms.py embeds in the second link pass.
#pragma once

#include <cstdint>

namespace pollux {

struct Symbol {
    const char* name;  // demangled
    uint64_t offset;   // addr - the symbol's start
};

// False when addr is outside the kernel's text or below its first symbol.
bool symbolize(uint64_t addr, Symbol& out);

}  // namespace pollux
