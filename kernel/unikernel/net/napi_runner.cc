#include "net/napi_runner.h"

#include "drivers/napi.h"
#include "kernel/platform.h"
#include "kstd/list.h"

namespace pollux {

// drivers/napi.cc's registry lock spins through these. Weak: the unikernel's platform layer
// (the threads session) provides the real ones, and then these step aside without a merge.
namespace platform {
[[gnu::weak]] void cpu_relax() { asm volatile("pause"); }
[[gnu::weak]] void yield() {}
}  // namespace platform

namespace net {
namespace {

kstd::ListNode pending;

void enqueue(Napi& napi) {
    if (!napi.runner_link.linked()) kstd::list_add_tail(&napi.runner_link, &pending);
}

}  // namespace

void napi_runner_init() { napi_set_runner(&enqueue); }

int napi_runner_run(int budget) {
    int total = 0;
    while (!pending.empty()) {
        Napi* napi = kstd::container_of(pending.next, &Napi::runner_link);
        kstd::list_del_init(&napi->runner_link);
        int done = napi->poll(budget);
        total += done;
        if (done >= budget) enqueue(*napi);  // still owns the context: poll it again
    }
    return total;
}

}  // namespace net
}  // namespace pollux
