// PollWaitSet: the wait-queue hooks of one poll()/select() call (Linux's poll_wqueues).
//
// The first pass over the descriptors hooks an entry on every queue each file hands over;
// any of them firing with a key the caller cares about unparks the caller, which then polls
// again. Each hook holds a reference to its file (as __pollwait's get_file) until the call
// ends. Owned by one thread; wake functions touch only `parker_`.
#pragma once

#include "eventpoll/file.h"
#include "eventpoll/wait_queue.h"
#include "kernel/parker.h"

namespace pollux {

class PollWaitSet {
public:
    PollWaitSet();
    ~PollWaitSet();
    PollWaitSet(const PollWaitSet&) = delete;
    PollWaitSet& operator=(const PollWaitSet&) = delete;

    // The table to pass to File::poll() while hooks are wanted; null once something is ready.
    PollTable* table() { return registering_ ? &table_.pt : nullptr; }
    void set_key(PollMask key) { table_.pt.key = key; }
    void stop_registering() { registering_ = false; }
    bool failed() const { return failed_; }
    Parker& parker() { return parker_; }

private:
    struct Hook {
        WaitQueueEntry wait;
        WaitQueueHead* head = nullptr;
        File* file = nullptr;
        Parker* parker = nullptr;
        PollMask key = 0;
    };
    struct Chunk {
        static constexpr int kHooks = 32;
        Hook hooks[kHooks];
        int used = 0;
        Chunk* next = nullptr;
    };
    struct Table {
        PollTable pt;
        PollWaitSet* owner;
    };

    static void queue_proc(File& file, WaitQueueHead& head, PollTable& pt);
    static int wake(WaitQueueEntry& wait, unsigned mode, int sync, PollMask key);

    Table table_;
    Parker parker_;
    Chunk inline_chunk_;
    Chunk* last_ = &inline_chunk_;
    bool registering_ = true;
    bool failed_ = false;
};

}  // namespace pollux
