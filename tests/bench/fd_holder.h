// A child process that keeps Linux descriptors for tcp-bench. Both ends of Linux's 10 000 idle
// connections would be 20 000 descriptors in one process, at or over this host's RLIMIT_NOFILE
// (20 000, not raisable here); the server ends are passed to the child (SCM_RIGHTS) instead. The
// connections stay established in the same kernel, which is all the idle rows need.
#pragma once

#include <vector>

namespace tcpbench::fd_holder {

// Forks the holder. Call first in main, before any thread exists. False if it could not.
bool start();

// Passes fds to the holder and closes this process's copies; fds is emptied.
bool give(std::vector<int>& fds);

// The holder closes everything it holds; returns once it has.
bool release_all();

}  // namespace tcpbench::fd_holder
