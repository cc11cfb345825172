// The kernel heap: one physically contiguous region from the frame allocator, reached through
// the direct map, managed first-fit with an address-ordered free list that coalesces
// neighbours on free. Behind operator new/delete and malloc/free/calloc/realloc (lwIP's
// MEM_LIBC_MALLOC / MEMP_MEM_MALLOC build will call these).
//
// LOCKING: every entry point holds an IrqGuard (one CPU: masking interrupts excludes the
// preempting timer and every handler).
// INVARIANTS: every block is a multiple of 16 bytes and 16-aligned; the free list is sorted
// by address and no two free blocks touch (they would have been merged).
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::mm {

void heap_init(void* base, size_t size);
void* heap_alloc(size_t size);
void heap_free(void* p);
// Allocates with the given power-of-two alignment (> 16); freed by heap_free.
void* heap_alloc_aligned(size_t size, size_t align);

struct HeapStats {
    size_t size, free, largest_free, free_blocks;
};
HeapStats heap_stats();

}  // namespace pollux::mm
