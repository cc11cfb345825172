#include "panic/symbols.h"

extern "C" {
extern const uint64_t ksyms_count;
extern const uint64_t ksyms_addrs[];
extern const uint32_t ksyms_name_offsets[];
extern const char ksyms_names[];
extern const char __text_start[], __text_end[];
}

namespace pollux {

bool symbolize(uint64_t addr, Symbol& out) {
    if (addr < uint64_t(__text_start) || addr >= uint64_t(__text_end) || ksyms_count == 0) return false;
    // The last symbol starting at or below addr (the table is sorted by address).
    uint64_t lo = 0, hi = ksyms_count;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (ksyms_addrs[mid] <= addr) lo = mid;
        else hi = mid;
    }
    if (ksyms_addrs[lo] > addr) return false;
    out = Symbol{ksyms_names + ksyms_name_offsets[lo], addr - ksyms_addrs[lo]};
    return true;
}

}  // namespace pollux
