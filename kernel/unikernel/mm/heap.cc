#include "mm/heap.h"

#include "sched/irq_guard.h"

#include <cstring>
#include <new>

#include "panic/panic.h"

namespace pollux::mm {
namespace {

// Header in front of every block. Allocated: size + a magic that catches frees of foreign or
// already freed pointers. Free: size + the next free block.
struct Block {
    size_t size;  // whole block, header included
    union {
        Block* next;
        uint64_t magic;
    };
};
static_assert(sizeof(Block) == 16);

constexpr uint64_t kAllocatedMagic = 0xa110ca7edb10c0deull;
constexpr uint64_t kAlignedMagic = 0xa119ed0ffe5e7ull;  // header of an aligned block: size = offset back
constexpr size_t kAlign = 16;
constexpr size_t kMinBlock = 32;

Block* free_list = nullptr;
size_t heap_size = 0;
char* heap_start = nullptr;
char* heap_end = nullptr;

size_t round_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

void insert_free(Block* b) {
    Block** link = &free_list;
    while (*link && *link < b) link = &(*link)->next;
    Block* next = *link;
    b->next = next;
    *link = b;
    if (next && reinterpret_cast<char*>(b) + b->size == reinterpret_cast<char*>(next)) {
        b->size += next->size;
        b->next = next->next;
    }
    // Merge with the previous block too: link points into it unless b is first.
    if (link != &free_list) {
        Block* prev = reinterpret_cast<Block*>(reinterpret_cast<char*>(link) - offsetof(Block, next));
        if (reinterpret_cast<char*>(prev) + prev->size == reinterpret_cast<char*>(b)) {
            prev->size += b->size;
            prev->next = b->next;
        }
    }
}

}  // namespace

void heap_init(void* base, size_t size) {
    heap_start = static_cast<char*>(base);
    heap_size = size & ~(kAlign - 1);
    heap_end = heap_start + heap_size;
    free_list = reinterpret_cast<Block*>(heap_start);
    free_list->size = heap_size;
    free_list->next = nullptr;
}

void* heap_alloc(size_t size) {
    sched::IrqGuard guard;
    if (size > heap_size) return nullptr;
    size_t need = round_up(size + sizeof(Block), kAlign);
    if (need < kMinBlock) need = kMinBlock;
    for (Block** link = &free_list; *link; link = &(*link)->next) {
        Block* b = *link;
        if (b->size < need) continue;
        if (b->size - need >= kMinBlock) {
            auto* rest = reinterpret_cast<Block*>(reinterpret_cast<char*>(b) + need);
            rest->size = b->size - need;
            rest->next = b->next;
            *link = rest;
            b->size = need;
        } else {
            *link = b->next;
        }
        b->magic = kAllocatedMagic;
        return b + 1;
    }
    return nullptr;
}

void heap_free(void* p) {
    sched::IrqGuard guard;
    if (!p) return;
    Block* b = static_cast<Block*>(p) - 1;
    if (reinterpret_cast<char*>(b) < heap_start || reinterpret_cast<char*>(p) >= heap_end)
        panic("heap: free of %p, which is not a heap pointer", p);
    if (b->magic == kAlignedMagic) {
        heap_free(reinterpret_cast<char*>(p) - b->size);
        return;
    }
    if (b->magic != kAllocatedMagic) panic("heap: free of %p: double free or corrupted header", p);
    insert_free(b);
}

void* heap_alloc_aligned(size_t size, size_t align) {
    sched::IrqGuard guard;
    if (align <= kAlign) return heap_alloc(size);
    char* raw = static_cast<char*>(heap_alloc(size + align + sizeof(Block)));
    if (!raw) return nullptr;
    char* aligned = reinterpret_cast<char*>(round_up(uintptr_t(raw) + sizeof(Block), align));
    Block* h = reinterpret_cast<Block*>(aligned) - 1;
    h->size = size_t(aligned - raw);
    h->magic = kAlignedMagic;
    return aligned;
}

HeapStats heap_stats() {
    sched::IrqGuard guard;
    HeapStats s{heap_size, 0, 0, 0};
    for (Block* b = free_list; b; b = b->next) {
        s.free += b->size;
        if (b->size > s.largest_free) s.largest_free = b->size;
        ++s.free_blocks;
    }
    return s;
}

}  // namespace pollux::mm

// ---- The C and C++ allocation entry points ----
using pollux::mm::heap_alloc;
using pollux::mm::heap_alloc_aligned;
using pollux::mm::heap_free;

extern "C" {
void* malloc(size_t size) { return heap_alloc(size); }
void free(void* p) { heap_free(p); }
void* calloc(size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return nullptr;
    void* p = heap_alloc(n * size);
    if (p) memset(p, 0, n * size);
    return p;
}
void* realloc(void* p, size_t size) {
    if (!p) return heap_alloc(size);
    auto* b = static_cast<pollux::mm::Block*>(p) - 1;
    size_t old;
    if (b->magic == pollux::mm::kAlignedMagic) {
        auto* raw = reinterpret_cast<pollux::mm::Block*>(static_cast<char*>(p) - b->size) - 1;
        old = raw->size - sizeof(*raw) - b->size;
    } else {
        old = b->size - sizeof(*b);
    }
    void* q = heap_alloc(size);
    if (q) {
        memcpy(q, p, old < size ? old : size);
        heap_free(p);
    }
    return q;
}
void* aligned_alloc(size_t align, size_t size) { return heap_alloc_aligned(size, align); }
}

// No exceptions in the kernel: an allocation that must succeed and cannot is fatal.
static void* must_alloc(size_t size, size_t align) {
    void* p = heap_alloc_aligned(size ? size : 1, align);
    if (!p) pollux::panic("heap: out of memory allocating %zu bytes", size);
    return p;
}

void* operator new(size_t size) { return must_alloc(size, 16); }
void* operator new[](size_t size) { return must_alloc(size, 16); }
void* operator new(size_t size, std::align_val_t a) { return must_alloc(size, size_t(a)); }
void* operator new[](size_t size, std::align_val_t a) { return must_alloc(size, size_t(a)); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return heap_alloc(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return heap_alloc(size); }
void operator delete(void* p) noexcept { heap_free(p); }
void operator delete[](void* p) noexcept { heap_free(p); }
void operator delete(void* p, size_t) noexcept { heap_free(p); }
void operator delete[](void* p, size_t) noexcept { heap_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { heap_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { heap_free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { heap_free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { heap_free(p); }
