// Busy polling for eventpoll (Linux's ep_busy_loop): before sleeping, an epoll_wait whose
// eventpoll has busy_poll_usecs (EPIOCSPARAMS) spins the NAPI context its items last received on,
// so a reply that is already on the wire is picked up without an interrupt and a wake-up.
// eventpoll knows no NIC: the network stack registers how one context is polled.
#pragma once

#include <cstdint>

namespace pollux {

// Polls NAPI context napi_id once with budget; false if it could not (unknown, or owned by the
// net-rx context right now).
using BusyPollFn = bool (*)(unsigned napi_id, int budget);
void set_busy_poll_hook(BusyPollFn fn);
BusyPollFn busy_poll_hook();

struct BusyPollCounters {
    uint64_t loops = 0;   // epoll_waits that busy-polled
    uint64_t rounds = 0;  // NAPI polls they made
    uint64_t found = 0;   // loops that ended with events ready
};
BusyPollCounters busy_poll_counters();

}  // namespace pollux
