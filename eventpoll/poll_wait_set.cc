#include "eventpoll/poll_wait_set.h"

#include <new>

namespace pollux {

PollWaitSet::PollWaitSet() {
    table_.pt.qproc = &PollWaitSet::queue_proc;
    table_.owner = this;
}

PollWaitSet::~PollWaitSet() {
    for (Chunk* chunk = &inline_chunk_; chunk != nullptr;) {
        for (int i = 0; i < chunk->used; ++i) {
            Hook& hook = chunk->hooks[i];
            hook.head->remove(hook.wait);
            hook.file->put();
        }
        Chunk* next = chunk->next;
        if (chunk != &inline_chunk_) delete chunk;
        chunk = next;
    }
}

// Linux's __pollwait().
void PollWaitSet::queue_proc(File& file, WaitQueueHead& head, PollTable& pt) {
    PollWaitSet& set = *reinterpret_cast<Table*>(&pt)->owner;
    if (set.last_->used == Chunk::kHooks) {
        auto* chunk = new (std::nothrow) Chunk();
        if (chunk == nullptr) {
            set.failed_ = true;  // poll() reports ENOMEM, as poll_get_entry() failing does
            return;
        }
        set.last_->next = chunk;
        set.last_ = chunk;
    }
    Hook& hook = set.last_->hooks[set.last_->used++];
    hook.wait.func = &PollWaitSet::wake;
    hook.wait.private_data = &hook;
    hook.head = &head;
    hook.file = &file;
    hook.parker = &set.parker_;
    hook.key = pt.key;
    file.get();
    head.add(hook.wait);
}

// Linux's pollwake(): a keyed wake-up that has nothing this descriptor asked for is ignored.
int PollWaitSet::wake(WaitQueueEntry& wait, unsigned, int, PollMask key) {
    Hook& hook = *static_cast<Hook*>(wait.private_data);
    if (key != 0 && (key & hook.key) == 0) return 0;
    hook.parker->unpark();
    return 1;
}

}  // namespace pollux
