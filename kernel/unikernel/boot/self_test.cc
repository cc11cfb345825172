#include "boot/self_test.h"

#include <cstring>

#include "boot/power.h"
#include "boot/self_check.h"
#include "console/printk.h"
#include "mm/direct_map.h"
#include "net/virtio_net_self_test.h"
#include "panic/panic.h"
#include "pci/edu_probe.h"
#include "pci/virtio_rng_probe.h"
#include "sched/threads_self_test.h"

namespace pollux {
namespace {

constexpr uint64_t kUnmappedAddress = 0xdead0000;
constexpr int kSelfCheckFailedStatus = 3;
constexpr int kMsiFailedStatus = 4;
constexpr int kThreadsFailedStatus = 6;

// noinline and distinct names: the tests look for these names in the symbolized backtrace.
[[gnu::noinline]] void self_test_page_fault() {
    *reinterpret_cast<volatile uint64_t*>(kUnmappedAddress) = 1;
}

[[gnu::noinline]] void self_test_invalid_opcode() { asm volatile("ud2"); }

// Each frame holds a buffer the compiler must keep, and the recursion is not a tail call.
// The volatile bound is never reached; it only keeps the recursion from being provably infinite.
volatile uint64_t recursion_limit = ~0ull;
[[gnu::noinline]] uint64_t self_test_recurse(uint64_t depth) {
    if (depth == recursion_limit) return 0;
    volatile char buffer[512];
    buffer[0] = char(depth);
    return self_test_recurse(depth + 1) + buffer[0];
}

// The same code page through the direct map's alias of physical memory.
[[gnu::noinline]] void self_test_write_text_alias() {
    uint64_t phys = reinterpret_cast<uintptr_t>(&self_test_write_text_alias) - mm::kKernelVma;
    *mm::phys_to_virt<volatile uint8_t>(phys) = 0xc3;
}

[[gnu::noinline]] void self_test_write_text() {
    *reinterpret_cast<volatile uint8_t*>(reinterpret_cast<uintptr_t>(&self_test_write_text)) = 0xc3;
}

// 0xc3 is `ret`: if the page were executable, the call would come straight back.
uint8_t data_page_code[16] = {0xc3};

[[gnu::noinline]] void self_test_exec_data() {
    auto fn = reinterpret_cast<void (*)()>(reinterpret_cast<uintptr_t>(data_page_code));
    fn();
    asm volatile("" ::: "memory");  // not a tail call: the report shows this frame as the caller
}

bool parse_status(const char* s, int& out) {
    if (!*s) return false;
    int v = 0;
    for (; *s; ++s) {
        if (*s < '0' || *s > '9' || v > 1000) return false;
        v = v * 10 + (*s - '0');
    }
    out = v;
    return true;
}

}  // namespace

bool run_self_test(const char* what) {
    printk(KERN_INFO "self test: %s\n", what);
    int status;
    if (strncmp(what, "exit:", 5) == 0 && parse_status(what + 5, status)) machine_exit(status);
    if (strcmp(what, "selfcheck") == 0) machine_exit(run_self_check() ? kSelfCheckFailedStatus : 0);
    if (strcmp(what, "msi") == 0) machine_exit(pci::edu_msi_probe() ? 0 : kMsiFailedStatus);
    if (strcmp(what, "msix") == 0) machine_exit(pci::virtio_rng_msix_probe() ? 0 : kMsiFailedStatus);
    if (strcmp(what, "virtio-net") == 0) machine_exit(net::virtio_net_self_test(false));
    if (strcmp(what, "virtio-net-burst") == 0) machine_exit(net::virtio_net_self_test(true));
    if (strcmp(what, "threads") == 0) machine_exit(sched::run_threads_self_test() ? 0 : kThreadsFailedStatus);
    if (strcmp(what, "pf") == 0) self_test_page_fault();
    if (strcmp(what, "ud") == 0) self_test_invalid_opcode();
    if (strcmp(what, "overflow") == 0) self_test_recurse(0);
    if (strcmp(what, "write-text") == 0) self_test_write_text();
    if (strcmp(what, "exec-data") == 0) self_test_exec_data();
    if (strcmp(what, "write-text-alias") == 0) self_test_write_text_alias();
    if (strcmp(what, "panic") == 0) panic("self test: deliberate panic");
    printk("self test: \"%s\" is not a test this kernel knows, or it did not fault\n", what);
    return false;
}

}  // namespace pollux
