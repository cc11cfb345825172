// Clean shutdown, the same on every target. Host signals do not interrupt a Pollux epoll_wait
// and a handler must not call into Pollux (it takes locks), so there is no handler at all:
// SIGINT and SIGTERM stay blocked in every thread, one thread takes them with sigtimedwait() and
// writes to an eventfd that the event loop watches. In-band admin requests write the same
// eventfd through request_shutdown().
#pragma once

namespace apps {

// Blocks SIGINT, SIGTERM and SIGPIPE in the calling thread. Call first thing in main, before
// any thread starts, so every later thread inherits the mask. A blocked SIGPIPE leaves writes
// to a closed socket failing with EPIPE instead of killing the process, without sigaction.
void block_shutdown_signals();

// Creates the eventfd and starts the sigwait thread. Returns the eventfd (readable once
// shutdown was requested) or -1.
int start_shutdown_watch();

// Ends the sigwait thread and closes the eventfd; call once the event loop has ended.
void stop_shutdown_watch();

// Asks the event loop to end; callable from any thread.
void request_shutdown();

}  // namespace apps
