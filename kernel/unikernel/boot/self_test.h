// Test-only switches, `pollux.test=WHAT` on the kernel command line, for tests/boot:
//   exit:N      power off at once with status N (after a full boot)
//   selfcheck   run boot/self_check.cc's checks; status 0 if all pass, 3 otherwise
//   msi         raise an MSI from QEMU's edu device (-device edu); status 0 if it arrives, 4 if not
//   msix        one virtio-rng request completed through MSI-X (-device virtio-rng-pci); 0 or 4
//   virtio-net  ARP and ping QEMU's user-network gateway (net/virtio_net_self_test.h); 0 or 5
//   virtio-net-burst  the same, then 2000 pings in batches; 0 or 5
//   threads     sched/threads_self_test.cc: futex ping-pong, preemption, sleep, core timer; 0 or 6
//   pf          write to an unmapped lower-half address (0xdead0000): #PF with that CR2
//   ud          execute ud2: #UD
//   overflow    recurse until the boot stack runs into its guard page: #PF that cannot be
//               delivered on the same stack, hence #DF on its IST stack
//   write-text  write to the kernel's own code (W^X: text is read-only)
//   exec-data   call into a data page (W^X: data is NX)
//   write-text-alias  write to the kernel's code through the direct map (read-only there too)
//   panic       call panic() directly
#pragma once

namespace pollux {

// Runs the test named by the command line; returns only when there is none.
// False means the value was not understood.
bool run_self_test(const char* what);

}  // namespace pollux
