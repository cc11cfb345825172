#include "net/net_stats.h"

#include <cstdlib>

#include "boot/cmdline.h"
#include "console/printk.h"
#include "kernel/platform.h"
#include "kernel/timer.h"

namespace pollux::net {
namespace {

const NetDevice* device = nullptr;
bool at_exit = false;
uint64_t period_ns = 0;

void print_counters() {
    if (device == nullptr) return;
    DeviceCounters c = device->counters();
    printk("netstats: %s rx %lu packets %lu bytes %lu dropped, tx %lu packets %lu bytes %lu dropped, "
           "%lu polls %lu interrupts %lu busy polls\n",
           device->name(), c.rx_packets, c.rx_bytes, c.rx_dropped, c.tx_packets, c.tx_bytes, c.tx_dropped, c.polls,
           c.interrupts, c.busy_polls);
}

void on_period(Timer& timer) {
    print_counters();
    timer_arm(timer, platform::monotonic_ns() + period_ns);
}
Timer period_timer(on_period);

}  // namespace

bool netstats_init(const Cmdline& cmdline, const NetDevice* dev) {
    char value[16];
    if (!cmdline.has("pollux.netstats")) return true;
    if (!cmdline.get("pollux.netstats", value, sizeof value)) {
        printk("netstats: pollux.netstats: the value is too long\n");
        return false;
    }
    char* end = value;
    long seconds = value[0] ? strtol(value, &end, 10) : 0;  // bare pollux.netstats: at exit only
    if (*end != '\0' || value[0] == '-' || value[0] == '+' || value[0] == ' ' || seconds > 86400) {
        printk("netstats: pollux.netstats=%s: not a number of seconds\n", value);
        return false;
    }
    device = dev;
    at_exit = true;
    period_ns = uint64_t(seconds) * 1'000'000'000ull;
    if (period_ns && device) timer_arm(period_timer, platform::monotonic_ns() + period_ns);
    return true;
}

void netstats_at_exit() {
    if (at_exit) print_counters();
}

}  // namespace pollux::net
