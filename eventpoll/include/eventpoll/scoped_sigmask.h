// ScopedSigmask: the signal mask of epoll_pwait/ppoll/pselect for the duration of one call.
#pragma once

#include "eventpoll/sys.h"
#include "kernel/platform.h"

namespace pollux {

class ScopedSigmask {
public:
    explicit ScopedSigmask(const KernelSigset* mask) : active_(mask != nullptr) {
        if (active_) delivered_ = platform::sigmask_swap(mask, &saved_);
    }
    ~ScopedSigmask() {
        if (active_) platform::sigmask_swap(&saved_, nullptr);
    }
    ScopedSigmask(const ScopedSigmask&) = delete;
    ScopedSigmask& operator=(const ScopedSigmask&) = delete;
    // A signal the new mask let through already ran its handler: the call reports EINTR
    // unless something is ready (Linux sees signal_pending()).
    bool delivered() const { return delivered_; }

private:
    bool active_;
    bool delivered_ = false;
    KernelSigset saved_ = 0;
};

}  // namespace pollux
