#pragma once

namespace pollux::sched {

// Ping-pong through futexes, preemption of a busy thread, a timed sleep, the core timer queue.
bool run_threads_self_test();

}  // namespace pollux::sched
