// In-kernel checks of the pure-logic parts (formatter, command line, string functions, heap,
// frame allocator), run by `pollux.test=selfcheck` on the booted kernel, where they run with
// the kernel's own flags and memory rather than a hosted imitation of them.
#pragma once

namespace pollux {

// Prints one line per failed check and a summary; returns the number of failures.
int run_self_check();

}  // namespace pollux
