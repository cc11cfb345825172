// Pipe and PipeEnd: see eventpoll/include/eventpoll/pipe.h for the model and locking.
// Each function names the fs/pipe.c function whose behaviour it copies.
#include "eventpoll/pipe.h"

#include <linux/errno.h>

#include <cstring>
#include <new>
#include <utility>

#include "eventpoll/fd_table.h"
#include "eventpoll/sys.h"
#include "eventpoll/wait_event.h"
#include "kernel/platform.h"

namespace pollux {

namespace {

constexpr uint8_t PIPE_BUF_FLAG_PACKET = 0x08;     // include/linux/pipe_fs_i.h
constexpr uint8_t PIPE_BUF_FLAG_CAN_MERGE = 0x10;
constexpr uint32_t kRingMask = Pipe::kRingSize - 1;
constexpr int O_NOTIFICATION_PIPE = 0200;          // O_EXCL, include/uapi/linux/watch_queue.h

constexpr PollMask kReadable = abi::kEPOLLIN | abi::kEPOLLRDNORM;
constexpr PollMask kWritable = abi::kEPOLLOUT | abi::kEPOLLWRNORM;

kstd::Result<size_t> to_result(long ret) {
    if (ret < 0) return kstd::err(static_cast<int>(-ret));
    return static_cast<size_t>(ret);
}

}  // namespace

// What pipe_write() carries to its exit path.
struct Pipe::Write {
    bool was_empty = false;
    bool wake_next_writer = false;
};

Pipe* Pipe::create() { return new (std::nothrow) Pipe(); }

Pipe::~Pipe() {
    // free_pipe_info(): no end is left, so nothing else can hold the mutex.
    LockGuard guard(mutex_);
    uint64_t ht = head_tail_.load(std::memory_order_relaxed);
    for (uint32_t i = tail_of(ht); i != head_of(ht); ++i) delete[] bufs_[i & kRingMask].page;
    delete[] tmp_page_;
}

void Pipe::set_head(uint32_t head) {
    uint64_t ht = head_tail_.load(std::memory_order_relaxed);
    head_tail_.store((ht & ~0xffffffffull) | head, std::memory_order_release);
}

void Pipe::set_tail(uint32_t tail) {
    uint64_t ht = head_tail_.load(std::memory_order_relaxed);
    head_tail_.store((ht & 0xffffffffull) | (static_cast<uint64_t>(tail) << 32), std::memory_order_release);
}

bool Pipe::readable() const {
    uint64_t ht = head_tail();
    return !empty(head_of(ht), tail_of(ht)) || writers_.load(std::memory_order_acquire) == 0;
}

bool Pipe::writable() const {
    uint64_t ht = head_tail();
    return !full(head_of(ht), tail_of(ht)) || readers_.load(std::memory_order_acquire) == 0;
}

// anon_pipe_put_page(): a spare page is kept for the next write (Linux keeps two; the
// number is not observable).
void Pipe::put_page(char* page) {
    if (tmp_page_ == nullptr) {
        tmp_page_ = page;
    } else {
        delete[] page;
    }
}

// pipe_update_tail() with anon_pipe_buf_release().
uint32_t Pipe::release_buffer(Buffer& buf, uint32_t tail) {
    put_page(buf.page);
    buf = Buffer{};
    set_tail(++tail);
    return tail;
}

// pipe_read(). Readers wait exclusively, so one write wakes one reader, and a reader that
// leaves data behind passes the wake-up on (wake_next_reader).
kstd::Result<size_t> Pipe::read(IoIter& to, bool nonblock) {
    size_t total_len = to.remaining();
    if (total_len == 0) return size_t{0};  // "Null read succeeds."

    long ret = 0;
    bool wake_writer = false;
    bool wake_next_reader = false;
    mutex_.lock();
    for (;;) {
        uint64_t ht = head_tail();
        uint32_t head = head_of(ht);
        uint32_t tail = tail_of(ht);
        if (!empty(head, tail)) {
            Buffer& buf = bufs_[tail & kRingMask];
            size_t chars = buf.len < total_len ? buf.len : total_len;
            if (to.copy_out(buf.page + buf.offset, chars) < chars) {
                if (ret == 0) ret = -EFAULT;
                break;
            }
            ret += static_cast<long>(chars);
            buf.offset += static_cast<uint32_t>(chars);
            buf.len -= static_cast<uint32_t>(chars);
            if ((buf.flags & PIPE_BUF_FLAG_PACKET) != 0) {  // a packet is read whole or cut
                total_len = chars;
                buf.len = 0;
            }
            if (buf.len == 0) {
                // Writers are woken only if this read turned a full pipe into a non-full one.
                wake_writer |= full(head, tail);
                tail = release_buffer(buf, tail);
            }
            total_len -= chars;
            if (total_len == 0) break;
            if (!empty(head, tail)) continue;
        }
        if (writers_.load(std::memory_order_relaxed) == 0) break;  // EOF
        if (ret != 0) break;
        if (nonblock) {
            ret = -EAGAIN;
            break;
        }
        mutex_.unlock();
        if (wake_writer) wr_wait.wake_up(kWritable, 1, 1);
        // Nothing was read: -ERESTARTSYS, for the syscall boundary to restart or fail.
        int waited = wait_event(rd_wait, [this] { return readable(); }, 0, /*exclusive=*/true);
        if (waited == -EINTR) {
            mutex_.lock();
            ret = -abi::kERESTARTSYS;
            break;
        }
        wake_writer = false;
        wake_next_reader = waited == 0;
        mutex_.lock();
    }
    uint64_t ht = head_tail();
    if (empty(head_of(ht), tail_of(ht))) wake_next_reader = false;
    mutex_.unlock();

    if (wake_writer) wr_wait.wake_up(kWritable, 1, 1);
    if (wake_next_reader) rd_wait.wake_up(kReadable, 1, 1);
    return to_result(ret);
}

// pipe_write()'s merge step: the tail part of the write goes into the last buffer if that
// buffer is mergeable and the part fits. Returns false when the write is over (done or fault).
bool Pipe::merge_tail(IoIter& from, size_t chars, long& ret) {
    Buffer& buf = bufs_[(head_of(head_tail()) - 1) & kRingMask];
    size_t offset = buf.offset + buf.len;
    if ((buf.flags & PIPE_BUF_FLAG_CAN_MERGE) == 0 || offset + chars > kPageSize) return true;
    if (from.copy_in(buf.page + offset, chars) < chars) {
        ret = -EFAULT;
        return false;
    }
    buf.len += static_cast<uint32_t>(chars);
    ret = static_cast<long>(chars);
    return from.remaining() != 0;
}

// pipe_write() up to its `out:` label; returns bytes written or -errno.
long Pipe::write_locked(IoIter& from, bool nonblock, bool packet, Write& state) {
    if (readers_.load(std::memory_order_relaxed) == 0) {
        platform::raise_sigpipe();
        return -EPIPE;
    }
    long ret = 0;
    uint64_t ht = head_tail();
    state.was_empty = empty(head_of(ht), tail_of(ht));
    size_t chars = from.remaining() & (kPageSize - 1);
    if (chars != 0 && !state.was_empty && !merge_tail(from, chars, ret)) return ret;

    bool interrupted = false;
    for (;;) {
        if (readers_.load(std::memory_order_relaxed) == 0) {
            platform::raise_sigpipe();
            return ret != 0 ? ret : -EPIPE;
        }
        uint32_t head = head_of(head_tail());
        if (!full(head, tail_of(head_tail()))) {
            char* page = tmp_page_;
            tmp_page_ = nullptr;
            if (page == nullptr) page = new (std::nothrow) char[kPageSize];
            if (page == nullptr) return ret != 0 ? ret : -ENOMEM;
            // Copy first, then take the slot (6.x's anon_pipe_write()): a faulting copy
            // hands the page back and leaves the ring as it was.
            size_t copied = from.copy_in(page, kPageSize);
            if (copied < kPageSize && from.remaining() != 0) {
                put_page(page);
                return ret != 0 ? ret : -EFAULT;
            }
            uint8_t flags = packet ? PIPE_BUF_FLAG_PACKET : PIPE_BUF_FLAG_CAN_MERGE;
            bufs_[head & kRingMask] = Buffer{page, 0, static_cast<uint32_t>(copied), flags};
            set_head(head + 1);
            ret += static_cast<long>(copied);
            if (from.remaining() == 0) return ret;
            continue;
        }
        if (nonblock) return ret != 0 ? ret : -EAGAIN;
        // A signal ends a write that has made progress (Linux's signal_pending() check);
        // with nothing written it is -ERESTARTSYS, for the syscall boundary.
        if (interrupted) return ret != 0 ? ret : -abi::kERESTARTSYS;
        mutex_.unlock();
        if (state.was_empty) rd_wait.wake_up(kReadable, 1, 1);
        int waited = wait_event(wr_wait, [this] { return writable(); }, 0, /*exclusive=*/true);
        interrupted = waited == -EINTR;
        mutex_.lock();
        uint64_t now = head_tail();
        state.was_empty = empty(head_of(now), tail_of(now));
        state.wake_next_writer = true;
    }
}

kstd::Result<size_t> Pipe::write(IoIter& from, bool nonblock, bool packet) {
    if (from.remaining() == 0) return size_t{0};  // "Null write succeeds."
    Write state;
    mutex_.lock();
    long ret = write_locked(from, nonblock, packet, state);
    uint64_t ht = head_tail();
    if (full(head_of(ht), tail_of(ht))) state.wake_next_writer = false;
    mutex_.unlock();
    // "Epoll nonsensically wants a wakeup whether the pipe was already empty or not."
    if (state.was_empty || poll_usage_.load(std::memory_order_relaxed)) rd_wait.wake_up(kReadable, 1, 1);
    if (state.wake_next_writer) wr_wait.wake_up(kWritable, 1, 1);
    return to_result(ret);
}

// pipe_poll(): queue first, then the racy look at the ring, so a change in between wakes us.
PollMask Pipe::poll(File& file, PollTable* pt) {
    poll_usage_.store(true, std::memory_order_relaxed);
    if ((file.mode() & FMODE_READ) != 0) poll_wait(file, rd_wait, pt);
    if ((file.mode() & FMODE_WRITE) != 0) poll_wait(file, wr_wait, pt);

    uint64_t ht = head_tail();
    PollMask mask = 0;
    if ((file.mode() & FMODE_READ) != 0) {
        if (!empty(head_of(ht), tail_of(ht))) mask |= kReadable;
        if (writers_.load(std::memory_order_acquire) == 0) mask |= abi::kEPOLLHUP;
    }
    if ((file.mode() & FMODE_WRITE) != 0) {
        if (!full(head_of(ht), tail_of(ht))) mask |= kWritable;
        if (readers_.load(std::memory_order_acquire) == 0) mask |= abi::kEPOLLERR;
    }
    return mask;
}

// pipe_ioctl(FIONREAD).
kstd::Result<long> Pipe::fionread(uintptr_t arg) {
    int count = 0;
    {
        LockGuard guard(mutex_);
        uint64_t ht = head_tail();
        for (uint32_t i = tail_of(ht); i != head_of(ht); ++i) count += static_cast<int>(bufs_[i & kRingMask].len);
    }
    if (arg == 0) return kstd::err(EFAULT);
    std::memcpy(reinterpret_cast<void*>(arg), &count, sizeof(count));
    return 0L;
}

// pipe_release(): when the last reader or the last writer goes (but not both), everyone
// blocked or polling on either side must look again. Linux 5.5+ wakes with a null key; the
// full mask below passes every filter the same way.
void Pipe::release_end(uint8_t mode) {
    {
        LockGuard guard(mutex_);
        if ((mode & FMODE_READ) != 0) readers_.fetch_sub(1, std::memory_order_release);
        if ((mode & FMODE_WRITE) != 0) writers_.fetch_sub(1, std::memory_order_release);
        bool no_readers = readers_.load(std::memory_order_relaxed) == 0;
        bool no_writers = writers_.load(std::memory_order_relaxed) == 0;
        if (no_readers != no_writers) {
            constexpr PollMask kAll = abi::kEPOLLIN | abi::kEPOLLOUT | abi::kEPOLLRDNORM | abi::kEPOLLWRNORM |
                                      abi::kEPOLLERR | abi::kEPOLLHUP;
            rd_wait.wake_up_all(kAll);
            wr_wait.wake_up_all(kAll);
        }
    }
    if (files_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

PipeEnd::PipeEnd(Pipe& pipe, uint8_t mode, int flags) : File(FileKind::pipe, mode, flags), pipe_(pipe) {}

PollMask PipeEnd::poll(PollTable* pt) { return pipe_.poll(*this, pt); }

kstd::Result<size_t> PipeEnd::read(IoIter& to, bool nonblock) { return pipe_.read(to, nonblock); }

// is_packetized(): O_DIRECT on the writing file (F_SETFL may change it) makes packets.
kstd::Result<size_t> PipeEnd::write(IoIter& from, bool nonblock) {
    return pipe_.write(from, nonblock, (flags() & abi::kO_DIRECT) != 0);
}

kstd::Result<long> PipeEnd::ioctl(unsigned long cmd, uintptr_t arg) {
    if (cmd == abi::kFIONREAD) return pipe_.fionread(arg);
    return File::ioctl(cmd, arg);  // ENOTTY, as vfs_ioctl() maps -ENOIOCTLCMD
}

void PipeEnd::release() { pipe_.release_end(mode()); }

// do_pipe2() / __do_pipe_flags() / create_pipe_files().
long sys_pipe2(int* fds, int flags) {
    if ((flags & ~(abi::kO_CLOEXEC | abi::kO_NONBLOCK | abi::kO_DIRECT | O_NOTIFICATION_PIPE)) != 0) return -EINVAL;
    // Notification pipes need CONFIG_WATCH_QUEUE; watch_queue_init() fails as on a kernel
    // built without it.
    if ((flags & O_NOTIFICATION_PIPE) != 0) return -ENOPKG;
    Pipe* pipe = Pipe::create();
    if (pipe == nullptr) return -ENFILE;
    FileRef reader(new (std::nothrow) PipeEnd(*pipe, FMODE_READ, abi::kO_RDONLY | (flags & abi::kO_NONBLOCK)));
    FileRef writer(new (std::nothrow)
                       PipeEnd(*pipe, FMODE_WRITE, abi::kO_WRONLY | (flags & (abi::kO_NONBLOCK | abi::kO_DIRECT))));
    if (!reader || !writer) {
        // An end that exists releases its share of the pipe; one that does not, ours.
        if (!reader) pipe->release_end(FMODE_READ);
        // NOLINTNEXTLINE(clang-analyzer-cplusplus.NewDelete): the pipe starts with one reader and one writer, so the first release cannot free it
        if (!writer) pipe->release_end(FMODE_WRITE);
        return -ENFILE;
    }
    // get_unused_fd_flags() twice, then copy_to_user(), then fd_install(), as do_pipe2().
    int rfd = platform::reserve_fd(0);
    if (rfd < 0) return rfd;
    int wfd = platform::reserve_fd(0);
    int error = wfd < 0 ? -wfd : 0;
    if (error == 0 && fds == nullptr) error = EFAULT;
    FdTable& table = FdTable::instance();
    bool cloexec = (flags & abi::kO_CLOEXEC) != 0;
    if (error == 0) error = table.install_at(rfd, std::move(reader), cloexec).error_code();
    if (error != 0) {
        platform::release_fd(rfd);
        if (wfd >= 0) platform::release_fd(wfd);
        return -error;
    }
    error = table.install_at(wfd, std::move(writer), cloexec).error_code();
    if (error != 0) {
        (void)table.close(rfd);
        platform::release_fd(wfd);
        return -error;
    }
    fds[0] = rfd;
    fds[1] = wfd;
    return 0;
}

long sys_pipe(int* fds) { return sys_pipe2(fds, 0); }

}  // namespace pollux
