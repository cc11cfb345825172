// Wait and wake keyed by an address, as Linux's futex(2): one address space, so the virtual
// address of the word is the key for private and shared futexes alike, and kernel and
// application words share the table (their addresses never overlap).
#pragma once

#include <cstdint>

namespace pollux::sched {

constexpr uint32_t kFutexBitsetAny = 0xffffffff;

// Blocks while *word == expected, until a matching wake or the deadline (absolute monotonic
// ns, 0 = none). Returns 0 when woken (or spuriously), -EAGAIN if the word differed,
// -ETIMEDOUT. The word is read with interrupts off, so a wake cannot slip in between.
// Interruptible, a signal for the calling thread ends the wait with -EINTR
// (sched::block_interruptible); uninterruptible waits are for locks, which Linux never
// interrupts either.
int futex_wait(const volatile uint32_t* word, uint32_t expected, uint32_t bitset, uint64_t deadline_ns,
               bool interruptible);
// Wakes up to count waiters on word whose bitset intersects bitset; returns how many.
int futex_wake(const volatile void* word, int count, uint32_t bitset);

}  // namespace pollux::sched
