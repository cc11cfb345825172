// Napi ids and the runner hand-off. Contexts are few and long-lived, so the id registry is a
// small fixed table: changed under a lock, read without one (busy poll looks a context up on
// every spin).
#include "drivers/napi.h"

#include "kernel/spin_lock.h"

namespace pollux::net {

namespace {

constexpr unsigned kMaxNapi = 64;
constexpr unsigned kFirstNapiId = 8193;  // Linux: MIN_NAPI_ID = NR_CPUS + 1 on common configs

SpinLock registry_lock;
std::atomic<Napi*> registry[kMaxNapi];  // stores under registry_lock
unsigned next_id GUARDED_BY(registry_lock) = kFirstNapiId;
std::atomic<NapiRunner> runner{nullptr};

}  // namespace

Napi::Napi(PollFn poll, IrqFn irq, void* owner) : poll_(poll), irq_(irq), owner_(owner), id_(0) {
    LockGuard guard(registry_lock);
    for (std::atomic<Napi*>& slot : registry) {
        if (slot.load(std::memory_order_relaxed) == nullptr) {
            id_ = next_id++;
            slot.store(this, std::memory_order_release);
            break;
        }
    }
}

Napi::~Napi() {
    LockGuard guard(registry_lock);
    for (std::atomic<Napi*>& slot : registry) {
        if (slot.load(std::memory_order_relaxed) == this) slot.store(nullptr, std::memory_order_release);
    }
}

bool Napi::schedule() {
    uint32_t idle = 0;
    if (!state_.compare_exchange_strong(idle, 1, std::memory_order_acq_rel)) return false;
    interrupts.fetch_add(1, std::memory_order_relaxed);
    if (irq_ != nullptr) irq_(*this, false);
    NapiRunner r = runner.load(std::memory_order_acquire);
    if (r != nullptr) r(*this);
    return true;
}

bool Napi::claim() {
    uint32_t idle = 0;
    if (!state_.compare_exchange_strong(idle, 1, std::memory_order_acq_rel)) return false;
    busy_polls.fetch_add(1, std::memory_order_relaxed);
    if (irq_ != nullptr) irq_(*this, false);
    return true;
}

void Napi::handoff() {
    NapiRunner r = runner.load(std::memory_order_acquire);
    if (r != nullptr) r(*this);
}

void Napi::complete() {
    state_.store(0, std::memory_order_release);
    if (irq_ != nullptr) irq_(*this, true);
}

void napi_set_runner(NapiRunner r) { runner.store(r, std::memory_order_release); }

Napi* napi_by_id(unsigned id) {
    if (id == 0) return nullptr;
    for (const std::atomic<Napi*>& slot : registry) {
        Napi* n = slot.load(std::memory_order_acquire);
        if (n != nullptr && n->id() == id) return n;
    }
    return nullptr;
}

}  // namespace pollux::net
