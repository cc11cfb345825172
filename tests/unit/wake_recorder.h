// WakeRecorder: hooks an entry on each wait queue a File's poll() hands over (at most two, as
// a FIFO opened read-write would) and records the key of every wake-up, as ep_poll_callback
// would see it. Shared by the file-type unit tests.
#pragma once

#include <atomic>
#include <utility>
#include <vector>

#include "eventpoll/file.h"

namespace pollux::test {

class WakeRecorder {
public:
    // With autoremove the recorder keeps no reference, so a test can watch the file die; its
    // hook must then be taken off by the file's own release wake-up.
    explicit WakeRecorder(FileRef file, bool autoremove = false) : file_(std::move(file)) {
        table_.self = this;
        autoremove_ = autoremove;
        file_->poll(&table_.pt);
        if (autoremove) file_ = FileRef();
    }
    ~WakeRecorder() {
        if (!file_) return;
        for (int i = 0; i < nhooks_; ++i) hooks_[i].head->remove(hooks_[i].wait);
    }
    WakeRecorder(const WakeRecorder&) = delete;
    WakeRecorder& operator=(const WakeRecorder&) = delete;

    int hooks() const { return nhooks_; }
    bool queued() const { return nhooks_ > 0; }
    int count() const { return count_.load(); }
    PollMask key(int i) const { return keys_[i].load(); }
    // Every key recorded so far.
    std::vector<PollMask> keys() const { return range(0); }
    // The keys recorded since the last take().
    std::vector<PollMask> take() {
        int end = count();
        std::vector<PollMask> out = range(taken_);
        taken_ = end;
        return out;
    }

private:
    static constexpr int kMaxHooks = 2;
    static constexpr int kMaxKeys = 256;  // fixed storage: wake functions run under a spinlock

    struct Table {
        PollTable pt{&WakeRecorder::queue, ~0u};
        WakeRecorder* self = nullptr;
    };
    struct Hook {
        WaitQueueEntry wait{&WakeRecorder::wake, nullptr};
        WaitQueueHead* head = nullptr;
    };

    std::vector<PollMask> range(int from) const {
        int end = count() < kMaxKeys ? count() : kMaxKeys;
        std::vector<PollMask> out;
        for (int i = from; i < end; ++i) out.push_back(keys_[i].load());
        return out;
    }
    static void queue(File&, WaitQueueHead& wq, PollTable& pt) {
        WakeRecorder* self = reinterpret_cast<Table&>(pt).self;
        if (self->nhooks_ == kMaxHooks) return;
        Hook& hook = self->hooks_[self->nhooks_++];
        hook.wait.private_data = self;
        if (self->autoremove_) hook.wait.flags = WQ_FLAG_AUTOREMOVE;
        hook.head = &wq;
        wq.add(hook.wait);
    }
    static int wake(WaitQueueEntry& wait, unsigned, int, PollMask key) {
        auto* self = static_cast<WakeRecorder*>(wait.private_data);
        int i = self->count_.fetch_add(1);
        if (i < kMaxKeys) self->keys_[i].store(key);
        return 1;
    }

    FileRef file_;  // keeps the file, and so its queues, alive while hooked
    Table table_;
    Hook hooks_[kMaxHooks];
    int nhooks_ = 0;
    bool autoremove_ = false;
    int taken_ = 0;
    std::atomic<int> count_{0};
    std::atomic<PollMask> keys_[kMaxKeys] = {};
};

}  // namespace pollux::test
