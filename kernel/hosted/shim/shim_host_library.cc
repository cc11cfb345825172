// Which callers of the shim are libraries the runtime drives (shim.h: host_library).
#include <dlfcn.h>
#include <string.h>

#include <atomic>

#include "shim.h"

namespace pollux::shim {
namespace {

std::atomic<const char*> fragment{nullptr};

}  // namespace

void host_library(const char* name_fragment) { fragment.store(name_fragment, std::memory_order_release); }

// dladdr costs about a microsecond; only descriptor-creating calls pay it, and only in a
// process that drives such a library.
bool for_host_library(const void* caller) {
    const char* f = fragment.load(std::memory_order_acquire);
    if (f == nullptr) return false;
    Dl_info info;
    return dladdr(caller, &info) != 0 && info.dli_fname != nullptr && strstr(info.dli_fname, f) != nullptr;
}

}  // namespace pollux::shim
