// EventPoll: an epoll instance, after Linux's fs/eventpoll.c (6.x), and its EpItems.
//
// Structures (Linux's names): the interest set `rbr` is a red-black tree of EpItems keyed by
// (file, fd); `rdllist` holds items that may be ready; while a scan owns the ready items,
// ep_poll_callback() chains newly ready items on `ovflist` instead; `wq` holds threads blocked
// in epoll_wait (added exclusively: one event wakes one waiter); `poll_wait` holds the
// eventpolls that watch this one (nesting).
//
// LOCKING (outermost first), as fs/eventpoll.c:
//   epnested_mutex (global)  loop and depth checks of nested inserts
//   ep->mtx                  rbr, each item's data and its pwq list; held for a whole scan
//                            (ep_send_events), so ctl and delivery never interleave
//   file->f_lock             file->f_ep, epi->fllink, epi->dying
//   wait queue locks         a target's queue is locked while ep_poll_callback runs
//   ep->lock (spinlock)      rdllist, ovflist, epi->rdllink, epi->next; wq is only changed
//                            and woken under it
//   ep->wq.lock
// ep_poll_callback runs with the target's queue lock held: it takes only ep->lock (and
// wq.lock under it), never sleeps, never allocates.
//
// Lifetime: an EventPoll is a File; its memory is pinned by `refcount_`: one for the file,
// one per EpItem (Linux's ep->refcount), so eventpoll_release_file() on a target may finish
// removing an item after the epoll's own file has gone.
#pragma once

#include <atomic>
#include <cstdint>

#include "eventpoll/file.h"
#include "eventpoll/linux_abi.h"
#include "eventpoll/wait_queue.h"
#include "kernel/mutex.h"
#include "kernel/spin_lock.h"
#include "kstd/list.h"
#include "kstd/rbtree.h"
#include "kstd/result.h"

namespace pollux {

class EventPoll;
struct EpItem;

// Linux's EP_MAX_NESTS: the most nesting links a chain of eventpolls may have.
inline constexpr int EP_MAX_NESTS = 4;
// Linux's EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event).
inline constexpr int EP_MAX_EVENTS = 0x7fffffff / static_cast<int>(sizeof(abi::EpollEvent));
// Bits that describe how an item is watched, not what happened (EP_PRIVATE_BITS).
inline constexpr uint32_t EP_PRIVATE_BITS =
    abi::kEPOLLWAKEUP | abi::kEPOLLONESHOT | abi::kEPOLLET | abi::kEPOLLEXCLUSIVE;
inline constexpr uint32_t EPOLLINOUT_BITS = abi::kEPOLLIN | abi::kEPOLLOUT;
inline constexpr uint32_t EPOLLEXCLUSIVE_OK_BITS = EPOLLINOUT_BITS | abi::kEPOLLERR | abi::kEPOLLHUP |
                                                   abi::kEPOLLWAKEUP | abi::kEPOLLET | abi::kEPOLLEXCLUSIVE;

// One wait queue an item is hooked on (Linux's eppoll_entry). Our files use one queue, a
// few two; an item embeds room for kMaxPollQueues so that inserting never allocates twice.
struct EppollEntry {
    WaitQueueEntry wait;
    WaitQueueHead* whead = nullptr;
    EpItem* base = nullptr;
};

struct EpItem {
    static constexpr int kMaxPollQueues = 2;
    static EpItem* const kUnactive;  // Linux's EP_UNACTIVE_PTR: "not on ovflist"

    kstd::RbNode rbn;                       // in ep->rbr                       (ep->mtx)
    kstd::ListNode rdllink;                 // on rdllist or a scan's txlist    (ep->lock)
    EpItem* next = kUnactive;               // ovflist chain                    (ep->lock)
    File* file = nullptr;                   // key, with fd; not a reference (as Linux)
    int fd = -1;
    EventPoll* ep = nullptr;
    kstd::ListNode fllink;                  // on file->f_ep                    (file->f_lock)
    bool dying = false;                     //                                  (file->f_lock)
    std::atomic<uint32_t> events{0};        // written under ep->mtx, read by the callback
    uint64_t data = 0;                      //                                  (ep->mtx)
    int nwait = 0;                          // hooks in pwq; -1 if one could not be made
    EppollEntry pwq[kMaxPollQueues];
};

class EventPoll final : public File {
public:
    static kstd::Result<FileRef> create(int flags);

    // epoll_ctl() after do_epoll_ctl(): the caller has checked the descriptors and copied
    // the event; `full_check` work (loop checks) happens inside.
    kstd::Result<void> ctl(int op, int fd, File& target, const abi::EpollEvent* event);
    // epoll_wait() after ep_poll(): timeout_ns < 0 blocks forever, 0 never blocks, else it is
    // relative. `events` may be null (then delivering any event gives EFAULT, as Linux).
    kstd::Result<int> wait(abi::EpollEvent* events, int maxevents, int64_t timeout_ns);

    PollMask poll(PollTable* pt) override;
    kstd::Result<long> ioctl(unsigned long cmd, uintptr_t arg) override;
    void show_fdinfo(class Printer& out) override;

    // Linux's ep_poll_callback: the wake function of every item's hook.
    static int poll_callback(WaitQueueEntry& wait, unsigned mode, int sync, PollMask key);
    // Removes every item watching `file` (Linux's eventpoll_release_file).
    static void release_file(File& file);

    abi::EpollParams busy_poll_params() const;
    bool busy_loop();

private:
    EventPoll();
    void release() override;
    void destroy() override;

    // ep_ctl.cc
    kstd::Result<void> insert(const abi::EpollEvent& event, File& target, int fd, bool full_check)
        REQUIRES(mtx_);
    kstd::Result<void> modify(EpItem& epi, const abi::EpollEvent& event) REQUIRES(mtx_);
    bool remove(EpItem& epi, bool force) REQUIRES(mtx_);
    void unregister_pollwait(EpItem& epi) REQUIRES(mtx_);
    EpItem* find(File* file, int fd) REQUIRES(mtx_);
    static void ptable_queue_proc(File& file, WaitQueueHead& whead, PollTable& pt);

    // ep_wait.cc
    bool events_available() EXCLUDES(lock_);
    void start_scan(kstd::ListNode& txlist) REQUIRES(mtx_) EXCLUDES(lock_);
    void done_scan(kstd::ListNode& txlist) REQUIRES(mtx_) EXCLUDES(lock_);
    int send_events(abi::EpollEvent* events, int maxevents) EXCLUDES(mtx_, lock_);
    PollMask item_poll(EpItem& epi, PollTable* pt) REQUIRES(mtx_);
    void safewake_pollers();
    bool has_ready_items() REQUIRES(mtx_) EXCLUDES(lock_);

    // ep_loop_check.cc
    friend int ep_loop_check_down(EventPoll& ep, int depth);
    friend int ep_upwards_depth(EventPoll& ep);
    friend bool ep_loop_check(EventPoll& ep, EventPoll& to);
    friend bool ep_reverse_path_check(File& target);
    friend bool ep_check_files_below(EventPoll& ep, int depth);

    void ref() { refcount_.fetch_add(1, std::memory_order_relaxed); }
    bool unref() { return refcount_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

    struct ItemKey {
        File* file;
        int fd;
    };
    struct ItemTraits {
        using Key = ItemKey;
        static Key key_of(const EpItem& epi) { return {epi.file, epi.fd}; }
        static int compare(const Key& a, const Key& b) {
            if (a.file != b.file) return a.file < b.file ? -1 : 1;
            return a.fd < b.fd ? -1 : (a.fd > b.fd ? 1 : 0);
        }
    };

    Mutex mtx_;
    SpinLock lock_;
    WaitQueueHead wq_;
    WaitQueueHead poll_wait_;
    kstd::ListNode rdllist_ GUARDED_BY(lock_);
    EpItem* ovflist_ GUARDED_BY(lock_) = EpItem::kUnactive;
    kstd::RbTree<EpItem, &EpItem::rbn, ItemTraits> rbr_ GUARDED_BY(mtx_);
    std::atomic<long> refcount_{1};
    bool dispose_on_destroy_ = false;  // release() dropped the last pin
    // Loop-check memo, under epnested_mutex.
    uint64_t gen_ = 0;
    int loop_check_depth_ = 0;
    std::atomic<uint32_t> busy_poll_usecs_{0};
    std::atomic<uint16_t> busy_poll_budget_{0};
    std::atomic<uint8_t> prefer_busy_poll_{0};
    std::atomic<unsigned> napi_id_{0};  // where the items' traffic last arrived (ep->napi_id)
};

// Linux's reverse_path_check() for an insert of `target` (ep_loop_check.cc): false when the
// new item gives some file too many wake-up paths.
bool ep_reverse_path_check(File& target);

inline EventPoll* as_eventpoll(File& file) {
    return file.kind() == FileKind::eventpoll ? static_cast<EventPoll*>(&file) : nullptr;
}

}  // namespace pollux
