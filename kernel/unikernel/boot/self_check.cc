#include "boot/self_check.h"

#include <cstdint>
#include <cstring>

#include "boot/cmdline.h"
#include "console/printk.h"
#include "mm/direct_map.h"
#include "mm/frame_allocator.h"
#include "mm/heap.h"
#include "mm/page_table.h"
#include "user/address_space.h"

extern "C" void* realloc(void*, size_t);
extern "C" void* calloc(size_t, size_t);
extern "C" void free(void*);

namespace pollux {
namespace {

int checks = 0, failures = 0;

void check(bool ok, const char* what, int line) {
    ++checks;
    if (!ok) {
        ++failures;
        printk("selfcheck FAILED: %s (self_check.cc:%d)\n", what, line);
    }
}
#define CHECK(expr) check((expr), #expr, __LINE__)

bool formats(const char* expected, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
bool formats(const char* expected, const char* fmt, ...) {
    char buf[128];
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    bool ok = strcmp(buf, expected) == 0 && n == int(strlen(expected));
    if (!ok) printk("selfcheck: format \"%s\" gave \"%s\", expected \"%s\"\n", fmt, buf, expected);
    return ok;
}

void check_printk() {
    CHECK(formats("-42 42 0x2a 2A", "%d %u %#x %X", -42, 42u, 42u, 42u));
    CHECK(formats("[   7][7   ][0007][-007]", "[%4d][%-4d][%04d][%04d]", 7, 7, 7, -7));
    CHECK(formats("ffffffff80000000 18446744073709551615", "%lx %lu", 0xffffffff80000000ul, ~0ul));
    CHECK(formats("0000000000001000", "%016lx", 0x1000ul));
    CHECK(formats("-9223372036854775808", "%ld", INT64_MIN));
    CHECK(formats("(null) x % [ab  ]", "%s %c %% [%-4s]", static_cast<const char*>(nullptr), 'x', "ab"));
    CHECK(formats("0x0000000000000010 12", "%p %zu", reinterpret_cast<void*>(16), size_t(12)));
    char small[4];
    CHECK(ksnprintf(small, sizeof small, "%s", "abcdef") == 6 && strcmp(small, "abc") == 0);
}

void check_cmdline() {
    Cmdline c("quiet loglevel=7 key=a=b -- app --flag loglevel=1");
    char v[16];
    CHECK(c.has("quiet") && c.get("quiet", v, sizeof v) && v[0] == '\0');
    CHECK(c.get("loglevel", v, sizeof v) && strcmp(v, "7") == 0);  // the app's loglevel=1 is not ours
    CHECK(c.get("key", v, sizeof v) && strcmp(v, "a=b") == 0);
    CHECK(!c.has("qui") && !c.has("app"));
    CHECK(strcmp(c.app_args(), "app --flag loglevel=1") == 0);
    CHECK(!c.get("loglevel", v, 1));  // does not fit
    CHECK(strcmp(Cmdline("a=1").app_args(), "") == 0);
    CHECK(Cmdline("long=0123456789012345678901234567890123456789012345678901234567890123456789"
                  "0123456789012345678901234567890123456789012345678901234567890123456789").has("long"));
    CHECK(Cmdline("a -- b").options_end() == 2 && Cmdline("--x -- y").options_end() == 4);
    CHECK(Cmdline("a").options_end() == 1);
}

bool merges(const char* image, const char* loader, const char* expected) {
    char out[96];
    bool ok = merge_cmdlines(image, loader, out, sizeof out) && strcmp(out, expected) == 0;
    if (!ok) printk("selfcheck: merge of \"%s\" and \"%s\" gave \"%s\"\n", image, loader, out);
    return ok;
}

// A single-file image's command line under the loader's (boot/embedded_image.h).
void check_cmdline_merge() {
    CHECK(merges("ip=1.2.3.4/24 -- httpd --port 80", "", "ip=1.2.3.4/24 -- httpd --port 80"));
    CHECK(merges("ip=1.2.3.4/24 -- httpd --port 80", "  quiet ip=5.6.7.8/8 ",
                 "ip=1.2.3.4/24 quiet ip=5.6.7.8/8 -- httpd --port 80"));
    CHECK(merges("-- httpd --port 80", "quiet -- --port 9000", "quiet -- httpd --port 9000"));
    CHECK(merges("-- httpd --port 80", "--", "-- httpd"));  // a bare -- empties the arguments
    CHECK(merges("init=/bin/a -- a", "", "init=/bin/a -- a"));
    CHECK(merges("quiet", "loglevel=7", "quiet loglevel=7"));
    CHECK(merges("", "-- x y", "-- x y"));  // no argv[0] in the image: the loader's words whole
    char small[8] = "keep";
    CHECK(!merge_cmdlines("abcdef", "ghijkl", small, sizeof small) && strcmp(small, "keep") == 0);
    char same[64] = "loglevel=3 -- --port 1";  // out may be the loader's own buffer
    CHECK(merge_cmdlines("quiet -- app --port 2", same, same, sizeof same) &&
          strcmp(same, "quiet loglevel=3 -- app --port 1") == 0);
}

// memcpy, memmove and memset move 64-byte blocks, words and a byte tail (lib/string.cc): every
// size across those boundaries, at every alignment, both directions of overlap, and not a byte
// beyond the range, against a byte-by-byte reference.
void check_block_moves() {
    constexpr size_t kSpan = 448;
    static unsigned char buf[kSpan], ref[kSpan];
    auto fill = [](unsigned char* p) {
        for (size_t i = 0; i < kSpan; ++i) p[i] = static_cast<unsigned char>(i * 7 + 3);
    };
    bool ok = true;
    for (size_t n = 0; n <= 200 && ok; ++n) {
        for (size_t from = 0; from < 10 && ok; ++from) {
            for (size_t to = 0; to < 10 && ok; ++to) {
                // Disjoint copy: the source in [0, 210), the destination in [220, 430).
                fill(buf), fill(ref);
                memcpy(buf + 220 + to, buf + from, n);
                for (size_t i = 0; i < n; ++i) ref[220 + to + i] = ref[from + i];
                ok = memcmp(buf, ref, kSpan) == 0;
                // Overlapping moves, destination above then below the source.
                for (int dir = 0; dir < 2 && ok; ++dir) {
                    size_t d = dir ? from : from + to + 1, s = dir ? from + to + 1 : from;
                    fill(buf), fill(ref);
                    memmove(buf + d, buf + s, n);
                    unsigned char tmp[kSpan];
                    for (size_t i = 0; i < n; ++i) tmp[i] = ref[s + i];
                    for (size_t i = 0; i < n; ++i) ref[d + i] = tmp[i];
                    ok = memcmp(buf, ref, kSpan) == 0;
                }
            }
            fill(buf), fill(ref);
            memset(buf + from, 0xa5, n);
            for (size_t i = 0; i < n; ++i) ref[from + i] = 0xa5;
            ok = ok && memcmp(buf, ref, kSpan) == 0;
        }
    }
    CHECK(ok);
}

void check_strings() {
    char b[16] = "0123456789";
    memmove(b + 2, b, 8);
    CHECK(memcmp(b, "0101234567", 10) == 0);
    memmove(b, b + 2, 8);
    CHECK(memcmp(b, "0123456767", 10) == 0);
    CHECK(memcmp("abc", "abd", 3) < 0 && memcmp("abd", "abc", 3) > 0 && memcmp("abc", "abc", 3) == 0);
    CHECK(strlen("") == 0 && strlen("abc") == 3);
    CHECK(strcmp("a", "b") < 0 && strncmp("abcx", "abcy", 3) == 0);
    CHECK(strchr("hello", 'l') && *strchr("hello", 'l') == 'l' && !strchr("hello", 'z'));
    memset(b, 'x', 5);
    CHECK(memcmp(b, "xxxxx", 5) == 0);
    check_block_moves();
}

// A small xorshift: reproducible sizes and orders for the heap check.
uint64_t rng = 0x9e3779b97f4a7c15;
uint64_t next_random() {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

void check_heap() {
    mm::HeapStats before = mm::heap_stats();
    constexpr int kBlocks = 400;
    struct Live {
        uint8_t* p;
        size_t size;
        uint8_t fill;
    } live[kBlocks] = {};
    bool intact = true, aligned = true;
    for (int round = 0; round < 4000; ++round) {
        Live& slot = live[next_random() % kBlocks];
        if (slot.p) {
            for (size_t i = 0; i < slot.size; ++i) intact &= slot.p[i] == slot.fill;
            mm::heap_free(slot.p);
            slot.p = nullptr;
            continue;
        }
        size_t size = 1 + next_random() % 3000;
        size_t align = size_t(16) << (next_random() % 4);  // 16..128
        slot.p = static_cast<uint8_t*>(align > 16 ? mm::heap_alloc_aligned(size, align) : mm::heap_alloc(size));
        if (!slot.p) continue;
        aligned &= uintptr_t(slot.p) % align == 0;
        slot.size = size;
        slot.fill = uint8_t(next_random());
        memset(slot.p, slot.fill, size);
    }
    for (Live& slot : live) {
        if (!slot.p) continue;
        for (size_t i = 0; i < slot.size; ++i) intact &= slot.p[i] == slot.fill;
        mm::heap_free(slot.p);
    }
    CHECK(intact);
    CHECK(aligned);
    mm::HeapStats after = mm::heap_stats();
    CHECK(after.free == before.free && after.free_blocks == before.free_blocks);  // all coalesced again

    auto* p = static_cast<uint8_t*>(calloc(100, 3));
    bool zero = p != nullptr;
    for (int i = 0; p && i < 300; ++i) zero &= p[i] == 0;
    CHECK(zero);
    memset(p, 7, 300);
    p = static_cast<uint8_t*>(realloc(p, 5000));
    bool kept = p != nullptr;
    for (int i = 0; p && i < 300; ++i) kept &= p[i] == 7;
    CHECK(kept);
    free(p);
    CHECK(mm::heap_alloc(size_t(1) << 60) == nullptr);
    auto* object = new uint64_t(5);
    CHECK(*object == 5);
    delete object;
}

void check_frames() {
    auto& frames = mm::frames();
    size_t free_before = frames.free_frames();
    uint64_t got[64];
    bool distinct = true, page_aligned = true, writable = true;
    for (int i = 0; i < 64; ++i) {
        got[i] = frames.alloc();
        page_aligned &= got[i] && got[i] % mm::kPageSize == 0;
        for (int j = 0; j < i; ++j) distinct &= got[j] != got[i];
        if (got[i]) {
            memset(mm::phys_to_virt(got[i]), 0xab, mm::kPageSize);  // reachable through the direct map
            writable &= *mm::phys_to_virt<uint8_t>(got[i] + 4095) == 0xab;
        }
    }
    CHECK(distinct && page_aligned && writable);
    CHECK(frames.free_frames() == free_before - 64);
    for (uint64_t f : got) frames.free(f);
    CHECK(frames.free_frames() == free_before);
    uint64_t run = frames.alloc_contiguous(16);
    CHECK(run && run % mm::kPageSize == 0);
    for (int i = 0; run && i < 16; ++i) frames.free(run + uint64_t(i) * mm::kPageSize);
    CHECK(frames.free_frames() == free_before);
}

// munmap gives back the page tables it emptied (mm::release_user_tables): one page in each of
// 32 gigabytes of the user half needs a page table and a directory apiece (and one directory
// pointer table); once unmapped, every frame is free again. Before, the tables stayed.
void check_user_tables() {
    auto& frames = mm::frames();
    size_t before = frames.free_frames();
    constexpr uint64_t kBase = 0x200000000000, kGiB = 1ull << 30;
    constexpr int kPages = 32;
    bool mapped = true;
    for (int i = 0; i < kPages; ++i) {
        uint64_t va = kBase + uint64_t(i) * kGiB;
        mapped &= user::map_anonymous(va, mm::kPageSize, user::kProtRead | user::kProtWrite) == 0 &&
                  user::populate(va, mm::kPageSize, true) == 0;
    }
    CHECK(mapped);
    CHECK(frames.free_frames() == before - 3 * kPages - 1);  // pages, page tables, directories
    for (int i = 0; i < kPages; ++i) user::unmap(kBase + uint64_t(i) * kGiB, mm::kPageSize);
    CHECK(frames.free_frames() == before);
    CHECK(!mm::is_mapped(kBase));
}

}  // namespace

int run_self_check() {
    check_printk();
    check_cmdline();
    check_cmdline_merge();
    check_strings();
    check_heap();
    check_frames();
    check_user_tables();
    if (failures) printk("selfcheck: %d of %d checks FAILED\n", failures, checks);
    else printk("selfcheck: all %d checks passed\n", checks);
    return failures;
}

}  // namespace pollux
