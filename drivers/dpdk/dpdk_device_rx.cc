// DpdkDevice's receive path: the NAPI poll hands mbufs to the stack without copying them.
// Our headers before DPDK's: rte_common.h defines a container_of macro that would rewrite
// kstd's container_of template.
#include "drivers/dpdk.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <new>

namespace pollux::dpdk {

namespace {

void release_mbuf(net::RxBuf* buf) { rte_pktmbuf_free(static_cast<rte_mbuf*>(buf->driver_private)); }

}  // namespace

int DpdkDevice::napi_poll(net::Napi& napi, int budget) {
    auto* dev = static_cast<DpdkDevice*>(napi.owner());
    napi.polls.fetch_add(1, std::memory_order_relaxed);
    net::RxSink* sink = dev->sink_.load(std::memory_order_acquire);
    // Below a quarter of the pool free, frames are handed up to be copied (RxBuf::copy_now).
    bool low = rte_mempool_avail_count(dev->pool_) < dev->pool_->size / 4;
    constexpr int kBurst = 32;
    rte_mbuf* pkts[kBurst];
    int done = 0;
    while (done < budget) {
        auto want = static_cast<uint16_t>(std::min(kBurst, budget - done));
        uint16_t n = rte_eth_rx_burst(dev->port_, 0, pkts, want);
        for (uint16_t i = 0; i < n; ++i) {
            rte_mbuf* m = pkts[i];
            // Scattered receive is off, so a frame is one segment; a PMD that chains anyway
            // gets its frame dropped and counted rather than misread.
            if (m->nb_segs != 1 || sink == nullptr) {
                rte_pktmbuf_free(m);
                dev->live_.rx_dropped.fetch_add(1, std::memory_order_relaxed);
                continue;
            }
            auto* buf = new (rte_mbuf_to_priv(m)) net::RxBuf;
            buf->data = rte_pktmbuf_mtod(m, uint8_t*);
            buf->len = m->data_len;
            buf->napi_id = napi.id();
            buf->copy_now = low;
            buf->release = release_mbuf;
            buf->driver_private = m;
            dev->live_.rx_packets.fetch_add(1, std::memory_order_relaxed);
            dev->live_.rx_bytes.fetch_add(m->data_len, std::memory_order_relaxed);
            sink->receive(buf);
        }
        done += n;
        if (n < want) break;
    }
    dev->rx_busy_.store(done > 0, std::memory_order_relaxed);
    // No re-check after complete(): with an Rx interrupt the irq thread watches the queue
    // level-triggered once unmasked; without, it schedules the next poll on its timer.
    if (done < budget) napi.complete();
    return done;
}

}  // namespace pollux::dpdk
