#include "fs/cpio.h"

#include <cstring>

namespace pollux::fs::cpio {
namespace {

constexpr size_t kFieldCount = 13;  // ino .. check, after the 6-byte magic
constexpr char kTrailer[] = "TRAILER!!!";

bool hex8(const uint8_t* p, uint32_t& out) {
    uint32_t v = 0;
    for (int i = 0; i < 8; ++i) {
        uint8_t c = p[i];
        uint32_t digit;
        if (c >= '0' && c <= '9') {
            digit = c - '0';
        } else if (c >= 'a' && c <= 'f') {
            digit = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
            digit = c - 'A' + 10;
        } else {
            return false;
        }
        v = v << 4 | digit;
    }
    out = v;
    return true;
}

}  // namespace

bool looks_like_archive(const uint8_t* data, size_t size) {
    return size >= 6 && memcmp(data, "07070", 5) == 0 && (data[5] == '1' || data[5] == '2');
}

bool Reader::fail(const char* why, size_t at) {
    error_ = why;
    error_offset_ = at;
    done_ = true;
    return false;
}

bool Reader::next(Entry& out) {
    while (!done_) {
        // Between entries and after a trailer: zero bytes (the data's padding, or what a tool
        // put between concatenated archives) are skipped, as Linux's initramfs does; what
        // follows must be a header on a 4-byte boundary.
        if (pos_ > 0)
            while (pos_ < size_ && data_[pos_] == 0) ++pos_;
        if (pos_ == size_) {
            if (in_archive_ || archives_ == 0) return fail("the archive ends without its TRAILER!!! entry", pos_);
            done_ = true;
            return false;
        }
        if (pos_ % 4 != 0) return fail("an entry that does not start on a 4-byte boundary (broken padding)", pos_);
        size_t left = size_ - pos_;
        const uint8_t* h = data_ + pos_;
        if (left < 6 || memcmp(h, "07070", 5) != 0 || (h[5] != '1' && h[5] != '2')) {
            if (left >= 6 && memcmp(h, "070707", 6) == 0)
                return fail("an old-format (odc) cpio header: pack the archive with -H newc", pos_);
            return fail("no cpio magic (070701 or 070702) where an entry should start", pos_);
        }
        if (left < kHeaderSize) return fail("a truncated entry header", pos_);
        uint32_t f[kFieldCount];
        for (size_t i = 0; i < kFieldCount; ++i)
            if (!hex8(h + 6 + 8 * i, f[i])) return fail("a header field that is not 8 hex digits", pos_ + 6 + 8 * i);
        const uint32_t filesize = f[6], namesize = f[11], check = f[12];
        if (namesize == 0) return fail("an entry without a name (namesize 0)", pos_);
        if (namesize > kMaxNameSize) return fail("an entry name longer than PATH_MAX", pos_);
        if (left - kHeaderSize < namesize) return fail("a truncated entry name", pos_);
        const char* name = reinterpret_cast<const char*>(h + kHeaderSize);
        if (name[namesize - 1] != '\0') return fail("an entry name without its terminating NUL", pos_);
        if (memchr(name, '\0', namesize - 1) != nullptr) return fail("an entry name with a NUL inside", pos_);

        // Header and name together are padded to 4 bytes; data_start may pass size_ only
        // when there is no data at all.
        size_t data_start = pos_ + kHeaderSize + namesize;
        data_start += (4 - data_start % 4) % 4;
        if (data_start > size_ ? filesize != 0 : filesize > size_ - data_start)
            return fail("an entry whose data runs past the end of the archive", pos_);
        const uint8_t* data = data_ + (data_start > size_ ? size_ : data_start);
        if (h[5] == '2') {
            // 070702: c_check is the 32-bit sum of the data's bytes.
            uint32_t sum = 0;
            for (uint32_t i = 0; i < filesize; ++i) sum += data[i];
            if (sum != check) return fail("a data checksum that does not match the 070702 header", pos_);
        }
        size_t header_at = pos_;
        pos_ = filesize == 0 && data_start > size_ ? size_ : data_start + filesize;
        if (namesize == sizeof kTrailer && memcmp(name, kTrailer, sizeof kTrailer) == 0) {
            in_archive_ = false;
            ++archives_;
            continue;
        }
        in_archive_ = true;
        out.name = name;
        out.name_len = namesize - 1;
        out.ino = f[0];
        out.mode = f[1];
        out.uid = f[2];
        out.gid = f[3];
        out.nlink = f[4];
        out.mtime = f[5];
        out.dev_major = f[7];
        out.dev_minor = f[8];
        out.rdev_major = f[9];
        out.rdev_minor = f[10];
        out.data = data;
        out.size = filesize;
        out.offset = header_at;
        return true;
    }
    return false;
}

}  // namespace pollux::fs::cpio
