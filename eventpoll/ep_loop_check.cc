// Loop, depth and wake-up path checks for nested eventpolls (Linux's ep_loop_check(), 6.15+,
// and reverse_path_check()).
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

namespace {

// reverse_path_check(): how many chains of eventpolls lead from one file to an outermost
// eventpoll, per chain length. Direct watchers (length 0) are unlimited; longer chains are
// capped so one event cannot fan out into a storm of nested wake-ups.
constexpr int kPathLimits[EP_MAX_NESTS + 1] = {1000, 500, 100, 50, 10};
int path_count[EP_MAX_NESTS + 1];

bool path_count_inc(int nests) { return nests == 0 || ++path_count[nests] <= kPathLimits[nests]; }

// Linux's reverse_path_check_proc(): climbs from `file` through the eventpolls watching it,
// holding each file's f_lock while visiting its watchers (child before parent, as
// ep_upwards_depth()).
bool reverse_path_check_proc(File& file, int depth) {
    if (depth > EP_MAX_NESTS) return false;
    LockGuard guard(file.f_lock);
    for (EpItem& epi : kstd::ListView<EpItem, &EpItem::fllink>(file.f_ep)) {
        File& watcher = *epi.ep;
        bool watched;
        {
            LockGuard up(watcher.f_lock);
            watched = !watcher.f_ep.empty();
        }
        if (!(watched ? reverse_path_check_proc(watcher, depth + 1) : path_count_inc(depth))) return false;
    }
    return true;
}

bool check_file_paths(File& file) {
    for (int& count : path_count) count = 0;
    return reverse_path_check_proc(file, 0);
}

}  // namespace

// Called by ep_insert() with epnested_mutex and the inserting eventpoll's mtx held, after the
// new item joined the target's f_ep, so its own path is counted.
bool ep_reverse_path_check(File& target) {
    EventPoll* tep = as_eventpoll(target);
    return tep == nullptr ? check_file_paths(target) : ep_check_files_below(*tep, 0);
}

// The files Linux puts on tfile_check_list when the target is an eventpoll: every non-epoll
// file below it. Depth is bounded by the loop check.
bool ep_check_files_below(EventPoll& ep, int depth) NO_THREAD_SAFETY_ANALYSIS {
    if (depth > EP_MAX_NESTS) return true;  // the loop check already refused deeper chains
    LockGuard guard(ep.mtx_);
    for (EpItem* epi = ep.rbr_.first(); epi != nullptr; epi = ep.rbr_.next(*epi)) {
        EventPoll* inner = as_eventpoll(*epi->file);
        if (!(inner != nullptr ? ep_check_files_below(*inner, depth + 1) : check_file_paths(*epi->file))) return false;
    }
    return true;
}

}  // namespace pollux
