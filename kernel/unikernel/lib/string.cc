// The C string functions the kernel, the core and (later) lwIP call. The compiler also emits
// calls to memcpy/memset/memmove/memcmp on its own, so these must exist in any build.
// This file is compiled with -fno-builtin so the loops are not "optimized" into calls to
// themselves; memcpy/memset use rep movsb/stosb, which are fast on every CPU with ERMSB and
// compact everywhere else. <cstring> is not included: glibc's header declares C++ overloads of
// memchr/strchr/strrchr that would clash with these C definitions.
#include <cstddef>

extern "C" {

void* memcpy(void* __restrict dst, const void* __restrict src, size_t n) noexcept {
    void* ret = dst;
    asm volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n)::"memory");
    return ret;
}

void* memset(void* dst, int c, size_t n) noexcept {
    void* ret = dst;
    asm volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(c) : "memory");
    return ret;
}

void* memmove(void* dst, const void* src, size_t n) noexcept {
    auto* d = static_cast<unsigned char*>(dst);
    auto* s = static_cast<const unsigned char*>(src);
    if (d <= s || d >= s + n) return memcpy(dst, src, n);
    // Overlapping with dst above src: copy from the end down (DF set only for this copy).
    d += n - 1;
    s += n - 1;
    asm volatile("std; rep movsb; cld" : "+D"(d), "+S"(s), "+c"(n)::"memory");
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
