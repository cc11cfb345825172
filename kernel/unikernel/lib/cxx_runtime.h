#pragma once

namespace pollux {

// Runs the .init_array entries once, in link order; returns how many ran. Call it after the
// heap is up: a constructor may allocate.
int run_global_constructors();

}  // namespace pollux
