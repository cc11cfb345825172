// A test of the MSI path (and of BAR assignment) with QEMU's "edu" teaching device
// (docs/specs/edu.rst in QEMU: PCI 1234:11e8, BAR0 registers; 0x00 identification, 0x04
// liveness (reads back inverted), 0x24 interrupt status, 0x60 raise, 0x64 acknowledge).
// Run by `pollux.test=msi` with `-device edu`.
#pragma once

namespace pollux::pci {

// True when the device answered through its BAR and its MSI arrived on the CPU.
bool edu_msi_probe();

}  // namespace pollux::pci
