// sendfile(2)'s copy loop: see eventpoll/sendfile.h (sys_sendfile() is in sys_fd.cc).
#include <linux/errno.h>

#include <memory>
#include <new>

#include "eventpoll/sendfile.h"
#include "eventpoll/sys_util.h"

namespace pollux {

namespace {

// do_splice_direct() moves at most a pipe's worth (16 pages) per round; so does this buffer.
constexpr size_t kChunk = size_t{64} * 1024;

}  // namespace

long sendfile_check_out(const FileRef& out) {
    if (!out || (out->mode() & FMODE_WRITE) == 0) return -EBADF;
    if ((out->flags() & abi::kO_APPEND) != 0) return -EINVAL;
    if (!out->can_write()) return -EINVAL;
    return 0;
}

long sendfile_copy_impl(File& out, int64_t* pos, size_t count, long (*read)(void*, void*, size_t, int64_t), void* ctx) {
    if (count > static_cast<size_t>(abi::kMAX_RW_COUNT)) count = static_cast<size_t>(abi::kMAX_RW_COUNT);
    if (count == 0) return 0;
    std::unique_ptr<char[]> buf(new (std::nothrow) char[count < kChunk ? count : kChunk]);
    if (!buf) return -ENOMEM;
    size_t done = 0;
    while (done < count) {
        size_t want = count - done < kChunk ? count - done : kChunk;
        long got = read(ctx, buf.get(), want, *pos);
        if (got <= 0) {
            if (done == 0 && got < 0) return got;
            break;
        }
        IoVec seg{buf.get(), static_cast<size_t>(got)};
        IoIter it(&seg, 1);
        kstd::Result<size_t> put = out.write(it, out.nonblocking());
        if (!put.ok()) {
            if (done == 0) return -put.error_code();
            break;
        }
        done += put.value();
        *pos += static_cast<int64_t>(put.value());
        if (put.value() < static_cast<size_t>(got)) break;
    }
    return static_cast<long>(done);
}

}  // namespace pollux
