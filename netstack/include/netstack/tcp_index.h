// The TCP connection index (netstack/lwip/tcp_index.cc): observability and a self-check for
// tests. Call with stack_lock held.
#pragma once

#include <cstddef>

namespace pollux::net {

struct TcpIndexStats {
    size_t connections = 0;    // active and TIME-WAIT pcbs in the hash
    size_t time_wait = 0;      // of which in TIME-WAIT (lwIP's list, walked)
    size_t buckets = 0;
    size_t longest_chain = 0;
    size_t timer_armed = 0;    // active pcbs lwIP's TCP timers visit (without the timer list: all)
};
TcpIndexStats tcp_index_stats();

// Walks lwIP's pcb lists and checks the index against them: every active and TIME-WAIT pcb
// hashed in its tuple's bucket, nothing else hashed, per-port counts equal to the lists', and
// the timer list holding active pcbs only.
// Returns nullptr if consistent, else what is wrong.
const char* tcp_index_check();

}  // namespace pollux::net
