// sendfile(2)'s copy, shared by the core's sys_sendfile() (input a file of the fd table) and
// the hosted shim (input a host descriptor): after fs/read_write.c do_sendfile() and
// fs/splice.c do_splice_direct(), through a bounce buffer where Linux moves page references.
#pragma once

#include <cstddef>
#include <cstdint>

#include "eventpoll/file.h"

namespace pollux {

// The output's checks, in do_sendfile()'s order after the input's: a descriptor open for
// writing (EBADF), not O_APPEND (EINVAL), with a write operation (EINVAL). 0 or -errno.
long sendfile_check_out(const FileRef& out);

// Copies up to count bytes from the input at *pos to out until the input ends, out takes
// fewer than it was given, or an error. read(buf, n, pos) returns what it read at pos (0 at
// the end) or -errno. *pos moves by what out took. Returns that many bytes, or -errno if
// nothing moved (-ERESTARTSYS for a signal, the caller's syscall boundary decides).
template <typename Read>
long sendfile_copy(File& out, int64_t* pos, size_t count, Read read);

long sendfile_copy_impl(File& out, int64_t* pos, size_t count, long (*read)(void*, void*, size_t, int64_t), void* ctx);

template <typename Read>
long sendfile_copy(File& out, int64_t* pos, size_t count, Read read) {
    return sendfile_copy_impl(out, pos, count,
                              [](void* c, void* buf, size_t n, int64_t at) { return (*static_cast<Read*>(c))(buf, n, at); },
                              &read);
}

}  // namespace pollux
