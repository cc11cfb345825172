// What the DpdkDevice's two source files share.
#pragma once

struct rte_mempool;

namespace pollux::dpdk {

// Frames to transmit are copied into mbufs of this pool (one per process, as the port is).
extern rte_mempool* tx_pool;

// The timer the irq thread polls on when the PMD has no Rx interrupt.
constexpr int kPollMinUs = 20;
constexpr int kPollMaxUs = 1000;

}  // namespace pollux::dpdk
