// The unikernel's NAPI runner until there are threads: scheduled contexts queue here (from
// interrupt handlers, through napi_set_runner) and whoever waits for network work, today the
// self tests' loops, calls napi_runner_run() to poll them. The scheduler session will turn this
// into the net-rx thread (Linux's softirq / ksoftirqd).
//
// LOCKING: one CPU. The queue is touched with interrupts off: from handlers (they run with IF
// clear) and from napi_runner_run(), which must be called with interrupts off as well.
#pragma once

namespace pollux::net {

void napi_runner_init();
// Polls every scheduled context, again while a poll uses its whole budget, until none is left.
// Returns the frames handled.
int napi_runner_run(int budget);

}  // namespace pollux::net
