// Loop and depth checks for nested eventpolls (Linux's ep_loop_check(), 6.15+).
//
// Adding `to` into `ep` must not close a cycle, and the longest chain of nesting links
// through the new link (down from `to`, plus the new link, plus up from `ep`) must not exceed
// EP_MAX_NESTS. Both walks memoise per check generation, as Linux does, so a wide DAG costs
// each eventpoll once. Called with epnested_mutex held; depth is bounded by EP_MAX_NESTS
// because every existing link already passed this check.
#include <algorithm>

#include "eventpoll/event_poll.h"

namespace pollux {

extern uint64_t loop_check_gen;

namespace {
EventPoll* inserting_into = nullptr;
}

int ep_loop_check_down(EventPoll& ep, int depth) NO_THREAD_SAFETY_ANALYSIS {
    if (ep.gen_ == loop_check_gen) return ep.loop_check_depth_;
    LockGuard guard(ep.mtx_);
    ep.gen_ = loop_check_gen;
    int result = 0;
    for (EpItem* epi = ep.rbr_.first(); epi != nullptr; epi = ep.rbr_.next(*epi)) {
        EventPoll* to_visit = as_eventpoll(*epi->file);
        if (to_visit == nullptr) continue;
        if (to_visit == inserting_into || depth > EP_MAX_NESTS) {
            result = EP_MAX_NESTS + 1;
        } else {
            result = std::max(result, ep_loop_check_down(*to_visit, depth + 1) + 1);
        }
        if (result > EP_MAX_NESTS) break;
    }
    ep.loop_check_depth_ = result;
    return result;
}

int ep_upwards_depth(EventPoll& ep) {
    if (ep.gen_ == loop_check_gen) return ep.loop_check_depth_;
    int result = 0;
    ep.f_lock.lock();
    for (EpItem& epi : kstd::ListView<EpItem, &EpItem::fllink>(ep.f_ep)) {
        // Holding f_lock keeps epi (and the eventpoll it pins) alive while we climb.
        result = std::max(result, ep_upwards_depth(*epi.ep) + 1);
    }
    ep.f_lock.unlock();
    ep.gen_ = loop_check_gen;
    ep.loop_check_depth_ = result;
    return result;
}

// True when `to` may be added into `ep`.
bool ep_loop_check(EventPoll& ep, EventPoll& to) {
    inserting_into = &ep;
    int depth = ep_loop_check_down(to, 0);
    if (depth > EP_MAX_NESTS) return false;
    int upwards = ep_upwards_depth(ep);
    return depth + 1 + upwards <= EP_MAX_NESTS;
}

}  // namespace pollux
