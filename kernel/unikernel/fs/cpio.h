// A reader of cpio "newc" archives, Linux's initramfs format
// (Documentation/driver-api/early-userspace/buffer-format.rst): each entry is a 110-byte ASCII
// header (magic "070701", or "070702" when c_check carries the sum of the data's bytes, then
// thirteen 8-digit hex fields), the NUL-terminated name, padding to 4 bytes, the data, padding
// to 4 bytes. An entry named TRAILER!!! ends an archive; archives may follow one another, with
// zero bytes between them (as Linux accepts).
//
// The archive comes from outside the kernel, so every length is checked against what is left
// before anything is read, and a malformed archive is an error with an offset and a reason, not
// an assumption. Entries point into the archive's memory: nothing is copied. Portable C++ (no
// allocation, no kernel headers), compiled into the kernel and, hosted, into the unit tests and
// the fuzzer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::fs::cpio {

struct Entry {
    const char* name;  // NUL-terminated inside the archive
    size_t name_len;   // without the NUL
    uint32_t ino, mode, uid, gid, nlink, mtime;
    uint32_t dev_major, dev_minor, rdev_major, rdev_minor;
    const uint8_t* data;
    size_t size;
    size_t offset;  // of the header, for messages
};

// True when the bytes start like a newc archive ("070701" or "070702"): how the boot tells an
// archive from an ELF module.
bool looks_like_archive(const uint8_t* data, size_t size);

class Reader {
public:
    // Names are at most PATH_MAX bytes including the NUL, as Linux's initramfs requires.
    static constexpr size_t kMaxNameSize = 4096;
    static constexpr size_t kHeaderSize = 110;

    Reader(const uint8_t* data, size_t size) : data_(data), size_(size) {}

    // The next entry: true with `out` filled; false at the end of the last archive (error() is
    // null) or on a malformed one (error() says why, error_offset() where).
    bool next(Entry& out);
    const char* error() const { return error_; }
    size_t error_offset() const { return error_offset_; }
    // How many archives ended with their TRAILER!!! so far.
    unsigned archives() const { return archives_; }

private:
    bool fail(const char* why, size_t at);

    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
    bool in_archive_ = false;  // between a first header and its trailer
    bool done_ = false;
    unsigned archives_ = 0;
    const char* error_ = nullptr;
    size_t error_offset_ = 0;
};

}  // namespace pollux::fs::cpio
