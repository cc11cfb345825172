// WakeRecorder: hooks one entry on the wait queue a File's poll() hands over and records the
// key of every wake-up, as ep_poll_callback would see it (shared by the file-type unit tests).
#pragma once

#include <atomic>
#include <utility>

#include "eventpoll/file.h"

namespace pollux::test {

// Records the key of every wake-up on the queue poll() hands over, as ep_poll_callback would
// see it. Fixed storage: wake functions run under the queue's spinlock and must not allocate.
class WakeRecorder {
public:
    explicit WakeRecorder(FileRef file, bool autoremove = false) : file_(std::move(file)) {
        table_.self = this;
        if (autoremove) wait_.flags = WQ_FLAG_AUTOREMOVE;
        file_->poll(&table_.pt);
        // Keep no reference when the test wants to watch the file die.
        if (autoremove) file_ = FileRef();
    }
    ~WakeRecorder() {
        if (head_ != nullptr && file_) head_->remove(wait_);
    }
    int count() const { return count_.load(); }
    PollMask key(int i) const { return keys_[i].load(); }
    bool queued() const { return head_ != nullptr; }

private:
    struct Table {
        PollTable pt{&WakeRecorder::queue, ~0u};
        WakeRecorder* self = nullptr;
    };
    static void queue(File&, WaitQueueHead& wq, PollTable& pt) {
        WakeRecorder* self = reinterpret_cast<Table&>(pt).self;
        self->head_ = &wq;
        self->wait_.private_data = self;
        wq.add(self->wait_);
    }
    static int wake(WaitQueueEntry& wait, unsigned, int, PollMask key) {
        auto* self = static_cast<WakeRecorder*>(wait.private_data);
        int i = self->count_.load();
        if (i < kMaxKeys) self->keys_[i].store(key);
        self->count_.store(i + 1);
        return 1;
    }

    static constexpr int kMaxKeys = 16;
    FileRef file_;
    Table table_;
    WaitQueueEntry wait_{&WakeRecorder::wake, nullptr};
    WaitQueueHead* head_ = nullptr;
    std::atomic<int> count_{0};
    std::atomic<PollMask> keys_[kMaxKeys] = {};
};

}  // namespace pollux::test
