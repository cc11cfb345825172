// WireLink: the pair of ends and what belongs to the link as a whole (config, clock, number).
#include <atomic>

#include "drivers/wire.h"

namespace pollux::wire {

namespace {

// Numbers links for their MACs and names; wraps after 65535 links, which only the
// uniqueness of MACs between links alive at once needs to survive.
std::atomic<unsigned> link_count{0};

}  // namespace

WireLink::WireLink(const WireConfig& config, Clock now_ns)
    : config_(config),
      now_(now_ns != nullptr ? now_ns : platform::monotonic_ns),
      real_time_(now_ == platform::monotonic_ns),
      number_((link_count.fetch_add(1, std::memory_order_relaxed) + 1) & 0xffff),
      ends_{WireEnd(*this, 0), WireEnd(*this, 1)} {}

WireLink::~WireLink() = default;

void WireLink::run_expired() {
    for (WireEnd& e : ends_) e.check_due(false);
}

WireStats WireLink::stats() const {
    WireStats a = ends_[0].stats();
    WireStats b = ends_[1].stats();
    a.lost += b.lost;
    a.corrupted += b.corrupted;
    a.duplicated += b.duplicated;
    a.reordered += b.reordered;
    a.queue_drops += b.queue_drops;
    return a;
}

}  // namespace pollux::wire
