// A path argument copied in from the application, as Linux's getname(): EFAULT when not
// readable, ENAMETOOLONG without a NUL in PATH_MAX bytes, ENOENT when empty (unless the call
// takes an empty path). It goes to the heap: a kernel stack is 16 KiB.
#pragma once

#include <linux/errno.h>

#include <cstddef>
#include <cstdint>
#include <new>

#include "eventpoll/file.h"
#include "fs/ramfs.h"
#include "user/user_access.h"

namespace pollux::sys {

inline constexpr uint64_t kPathPage = 4096;

class UserPath {
public:
    explicit UserPath(uint64_t addr) {
        buf_ = new (std::nothrow) char[fs::kPathMax];
        if (buf_ == nullptr) {
            error_ = ENOMEM;
            return;
        }
        error_ = ENAMETOOLONG;
        for (size_t i = 0; i < fs::kPathMax;) {
            uint64_t at = addr + i;
            size_t chunk = kPathPage - at % kPathPage;
            if (chunk > fs::kPathMax - i) chunk = fs::kPathMax - i;
            if (at < addr || !user::readable(at, chunk)) {
                error_ = EFAULT;
                return;
            }
            const char* src = user::ptr<const char>(at);
            for (size_t k = 0; k < chunk; ++k) {
                buf_[i + k] = src[k];
                if (src[k] == '\0') {
                    len_ = i + k;
                    error_ = 0;
                    return;
                }
            }
            i += chunk;
        }
    }
    ~UserPath() { delete[] buf_; }
    UserPath(const UserPath&) = delete;
    UserPath& operator=(const UserPath&) = delete;

    // 0, or the errno that ends the call; an empty path is ENOENT unless the call takes one.
    int error(bool empty_ok = false) const { return error_ != 0 ? error_ : len_ == 0 && !empty_ok ? ENOENT : 0; }
    const char* str() const { return buf_; }
    size_t len() const { return len_; }
    bool empty() const { return len_ == 0; }
    bool absolute() const { return len_ > 0 && buf_[0] == '/'; }

private:
    char* buf_ = nullptr;
    size_t len_ = 0;
    int error_ = 0;
};

// The directory a relative path starts from, held for the call: dirfd's open directory, or
// null (the working directory) for AT_FDCWD. An absolute path does not look at dirfd at all,
// as on Linux. error: EBADF, or ENOTDIR for a descriptor that is not a directory.
struct PathBase {
    FileRef file;
    fs::Node* node = nullptr;
    int error = 0;
};
PathBase base_for(int dirfd, const UserPath& path);  // sys_fs.cc
// The tree the file calls work on (fs/root_fs.h).
fs::RamFs& tree();

}  // namespace pollux::sys
