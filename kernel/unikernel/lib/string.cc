// The C string functions the kernel, the core and (later) lwIP call. The compiler also emits
// calls to memcpy/memset/memmove/memcmp on its own, so these must exist in any build.
// This file is compiled with -fno-builtin so the loops are not "optimized" into calls to
// themselves. <cstring> is not included: glibc's header declares C++ overloads of
// memchr/strchr/strrchr that would clash with these C definitions.
//
// memcpy and memmove move 64-byte blocks as eight 8-byte words, not with rep movsb: under
// QEMU's TCG, where every boot test and the benchmarks run, rep movsb executes byte by byte
// (1 MiB: 60 M cycles, against 1.4 M for the unrolled loop and 7 M for rep movsq, measured in
// this kernel), and the ELF loader's, the file system's and the sockets' copies all come here.
// On hardware the loop is within a small factor of ERMSB's rep movsb. memset keeps a string
// instruction, rep stosq (1 MiB: 0.4 M cycles under TCG, rep stosb 2.7 M).
#include <cstddef>
#include <cstdint>

namespace {

// An 8-byte word at any alignment, without breaking the aliasing rules.
typedef uint64_t __attribute__((may_alias, aligned(1))) unaligned_u64;

inline uint64_t load(const unsigned char* p) { return *reinterpret_cast<const unaligned_u64*>(p); }
inline void store(unsigned char* p, uint64_t v) { *reinterpret_cast<unaligned_u64*>(p) = v; }

// Forward copy; safe for overlap with dst below src (each block is read before it is written).
void copy_forward(unsigned char* d, const unsigned char* s, size_t n) {
    for (; n >= 64; n -= 64, d += 64, s += 64) {
        uint64_t a = load(s), b = load(s + 8), c = load(s + 16), e = load(s + 24);
        uint64_t f = load(s + 32), g = load(s + 40), h = load(s + 48), i = load(s + 56);
        store(d, a), store(d + 8, b), store(d + 16, c), store(d + 24, e);
        store(d + 32, f), store(d + 40, g), store(d + 48, h), store(d + 56, i);
    }
    for (; n >= 8; n -= 8, d += 8, s += 8) store(d, load(s));
    for (; n; --n) *d++ = *s++;
}

// Backward copy, for overlap with dst above src.
void copy_backward(unsigned char* d, const unsigned char* s, size_t n) {
    d += n;
    s += n;
    for (; n >= 64; n -= 64) {
        d -= 64;
        s -= 64;
        uint64_t a = load(s), b = load(s + 8), c = load(s + 16), e = load(s + 24);
        uint64_t f = load(s + 32), g = load(s + 40), h = load(s + 48), i = load(s + 56);
        store(d, a), store(d + 8, b), store(d + 16, c), store(d + 24, e);
        store(d + 32, f), store(d + 40, g), store(d + 48, h), store(d + 56, i);
    }
    for (; n >= 8; n -= 8) {
        d -= 8;
        s -= 8;
        store(d, load(s));
    }
    while (n--) *--d = *--s;
}

}  // namespace

extern "C" {

void* memcpy(void* __restrict dst, const void* __restrict src, size_t n) noexcept {
    copy_forward(static_cast<unsigned char*>(dst), static_cast<const unsigned char*>(src), n);
    return dst;
}

void* memset(void* dst, int c, size_t n) noexcept {
    auto* d = static_cast<unsigned char*>(dst);
    uint64_t pattern = uint64_t(static_cast<unsigned char>(c)) * 0x0101010101010101ull;
    size_t words = n / 8;
    asm volatile("rep stosq" : "+D"(d), "+c"(words) : "a"(pattern) : "memory");
    for (n %= 8; n; --n) *d++ = static_cast<unsigned char>(c);
    return dst;
}

void* memmove(void* dst, const void* src, size_t n) noexcept {
    auto* d = static_cast<unsigned char*>(dst);
    auto* s = static_cast<const unsigned char*>(src);
    if (d <= s || d >= s + n) copy_forward(d, s, n);
    else copy_backward(d, s, n);
    return dst;
}

int memcmp(const void* a, const void* b, size_t n) noexcept {
    auto* x = static_cast<const unsigned char*>(a);
    auto* y = static_cast<const unsigned char*>(b);
    for (size_t i = 0; i < n; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

void* memchr(const void* s, int c, size_t n) noexcept {
    auto* p = static_cast<const unsigned char*>(s);
    for (size_t i = 0; i < n; ++i)
        if (p[i] == static_cast<unsigned char>(c)) return const_cast<unsigned char*>(p + i);
    return nullptr;
}

size_t strlen(const char* s) noexcept {
    size_t n = 0;
    while (s[n]) ++n;
    return n;
}

size_t strnlen(const char* s, size_t max) noexcept {
    size_t n = 0;
    while (n < max && s[n]) ++n;
    return n;
}

int strcmp(const char* a, const char* b) noexcept {
    while (*a && *a == *b) ++a, ++b;
    return static_cast<unsigned char>(*a) - static_cast<unsigned char>(*b);
}

int strncmp(const char* a, const char* b, size_t n) noexcept {
    for (size_t i = 0; i < n; ++i) {
        if (a[i] != b[i] || !a[i])
            return static_cast<unsigned char>(a[i]) - static_cast<unsigned char>(b[i]);
    }
    return 0;
}

char* strchr(const char* s, int c) noexcept {
    for (;; ++s) {
        if (*s == static_cast<char>(c)) return const_cast<char*>(s);
        if (!*s) return nullptr;
    }
}

char* strrchr(const char* s, int c) noexcept {
    const char* found = nullptr;
    for (;; ++s) {
        if (*s == static_cast<char>(c)) found = s;
        if (!*s) return const_cast<char*>(found);
    }
}

char* strncpy(char* __restrict dst, const char* __restrict src, size_t n) noexcept {
    size_t i = 0;
    for (; i < n && src[i]; ++i) dst[i] = src[i];
    for (; i < n; ++i) dst[i] = '\0';
    return dst;
}

}  // extern "C"
