// What the C++ compiler expects of a runtime, for a kernel without libstdc++/libsupc++:
// global constructors (run once by kernel_entry), no global destructors (the kernel never
// returns), and a pure virtual call is a bug that stops the machine.
#include "lib/cxx_runtime.h"

#include <new>

#include "panic/panic.h"

extern "C" {
using InitFunction = void (*)();
extern InitFunction __init_array_start[], __init_array_end[];

void* __dso_handle = nullptr;

// Registered destructors would run at exit; the kernel powers off instead.
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }

void __cxa_pure_virtual() { pollux::panic("pure virtual function called"); }
}

// libsupc++ defines this object; `new (std::nothrow) T` names it.
namespace std {
const nothrow_t nothrow{};
}

namespace pollux {

int run_global_constructors() {
    int n = 0;
    for (InitFunction* f = __init_array_start; f != __init_array_end; ++f, ++n) (*f)();
    return n;
}

}  // namespace pollux
