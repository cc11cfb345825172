// TestFile: a pollable File whose readiness a test sets by hand, waking its queue with the
// key it chooses, so eventpoll can be tested apart from any real file type.
#pragma once

#include <atomic>

#include "eventpoll/fd_table.h"
#include "eventpoll/file.h"

namespace pollux::test {

class TestFile final : public File {
public:
    TestFile() : File(FileKind::other, FMODE_READ | FMODE_WRITE, abi::kO_RDWR) {}
    PollMask poll(PollTable* pt) override {
        poll_wait(*this, wq, pt);
        return mask.load();
    }
    // Sets the mask and wakes watchers with `key` (the mask itself by default).
    void set(PollMask m) { set(m, m); }
    void set(PollMask m, PollMask key) {
        mask.store(m);
        wq.wake_up(key);
    }

    WaitQueueHead wq;
    std::atomic<PollMask> mask{0};
};

// Installs a new TestFile; returns its fd and a raw pointer (owned by the fd table).
inline int install_test_file(TestFile** out) {
    auto* f = new TestFile();
    *out = f;
    auto r = FdTable::instance().install(FileRef(f), false);
    return r.ok() ? r.value() : -1;
}

}  // namespace pollux::test
