// The vDSO in the application's address space: the image built from vdso/ (embedded by
// vdso_image.S) copied to fresh user pages, read+execute, and below it the kernel's clock data
// page (vdso/vvar.h) mapped read-only: the one kernel frame user mode can see, never writable
// from there, never freed by munmap. Both sit between the mmap area's top (kMmapTop) and the
// main stack, with unmapped space on either side, where neither mmap nor brk hands out
// addresses; fixed, since Pollux has no ASLR.
#pragma once

#include <cstdint>

namespace pollux::user {

constexpr uint64_t kVvarAddress = 0x7ffff7400000;
constexpr uint64_t kVdsoAddress = kVvarAddress + 4096;  // vdso/vdso.lds: the data page is image - 4096

// `pollux.vdso=off` on the command line: no vDSO and no AT_SYSINFO_EHDR, so the libcs trap
// for every time call (the control for the boot test that says they do not).
void disable_vdso();
// Maps both; returns the image's address for AT_SYSINFO_EHDR, or 0 (disabled, or no memory:
// the application then runs without one, as on a Linux booted with vdso=0).
uint64_t map_vdso();

}  // namespace pollux::user
