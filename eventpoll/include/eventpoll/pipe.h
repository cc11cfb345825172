// Pipe: an anonymous pipe's shared buffer, and PipeEnd: the File of each of its two ends,
// after Linux's fs/pipe.c (6.x).
//
// Model: a ring of kRingSize page-sized buffers (PIPE_DEF_BUFFERS pages = 65536 bytes). A
// write first merges its tail part (len % PAGE_SIZE) into the last buffer when that buffer is
// mergeable and the part fits, then fills whole fresh pages; the pipe is full when every slot
// is in use, so a write of at most PIPE_BUF bytes is atomic. A read drains buffers in order and
// frees a slot when its buffer is empty. O_DIRECT writes make packet buffers (one packet per
// page, never merged; a read takes at most one packet and drops what it did not take), as
// Linux's PIPE_BUF_FLAG_PACKET.
//
// Locking: mutex_ (Linux's pipe->mutex) guards the buffers, tmp_page_ and every change of
// head/tail/readers/writers. head and tail share one atomic word (Linux's head_tail union) and
// readers/writers are atomics, so that poll() and the wait conditions read a consistent
// snapshot without the mutex, as pipe_poll()/pipe_readable()/pipe_writable() do. Wake-ups
// happen after the mutex is dropped, except in release_end() (as pipe_release()).
// Invariants: tail <= head <= tail + kRingSize (indices wrap freely); each slot in
// [tail, head) holds a page with len > 0 bytes at offset (a faulting write takes no slot).
//
// Lifetime: the Pipe is shared by its two PipeEnds and freed when the last one is released.
#pragma once

#include <atomic>
#include <cstdint>

#include "eventpoll/file.h"
#include "eventpoll/wait_queue.h"
#include "kernel/mutex.h"
#include "kstd/result.h"

namespace pollux {

class Pipe {
public:
    static constexpr uint32_t kPageSize = 4096;
    static constexpr uint32_t kRingSize = 16;  // PIPE_DEF_BUFFERS

    // A pipe with one reader and one writer; null when memory is short.
    static Pipe* create();

    kstd::Result<size_t> read(IoIter& to, bool nonblock) EXCLUDES(mutex_);
    kstd::Result<size_t> write(IoIter& from, bool nonblock, bool packet) EXCLUDES(mutex_);
    PollMask poll(File& file, PollTable* pt);
    // FIONREAD: the bytes in the pipe, stored as an int at `arg`.
    kstd::Result<long> fionread(uintptr_t arg) EXCLUDES(mutex_);
    // pipe_release(): one end of `mode` has gone; frees the pipe after the last end.
    void release_end(uint8_t mode) EXCLUDES(mutex_);

    WaitQueueHead rd_wait;  // readers blocked in read() and pollers of the read end
    WaitQueueHead wr_wait;  // writers blocked in write() and pollers of the write end

private:
    struct Buffer {  // Linux's struct pipe_buffer
        char* page = nullptr;
        uint32_t offset = 0;
        uint32_t len = 0;
        uint8_t flags = 0;
    };
    struct Write;

    Pipe() = default;
    ~Pipe();

    // The ring indices, packed as Linux's union pipe_index: head in the low half.
    uint64_t head_tail() const { return head_tail_.load(std::memory_order_acquire); }
    static uint32_t head_of(uint64_t ht) { return static_cast<uint32_t>(ht); }
    static uint32_t tail_of(uint64_t ht) { return static_cast<uint32_t>(ht >> 32); }
    static bool empty(uint32_t head, uint32_t tail) { return head == tail; }
    static bool full(uint32_t head, uint32_t tail) { return head - tail >= kRingSize; }
    void set_head(uint32_t head) REQUIRES(mutex_);
    void set_tail(uint32_t tail) REQUIRES(mutex_);
    bool readable() const;  // pipe_readable(): data, or no writer left
    bool writable() const;  // pipe_writable(): a free slot, or no reader left

    long write_locked(IoIter& from, bool nonblock, bool packet, Write& state) REQUIRES(mutex_);
    bool merge_tail(IoIter& from, size_t chars, long& ret) REQUIRES(mutex_);
    uint32_t release_buffer(Buffer& buf, uint32_t tail) REQUIRES(mutex_);
    void put_page(char* page) REQUIRES(mutex_);

    Mutex mutex_;
    std::atomic<uint64_t> head_tail_{0};   // changed under mutex_ only
    std::atomic<uint32_t> readers_{1};     // changed under mutex_ only
    std::atomic<uint32_t> writers_{1};     // changed under mutex_ only
    // Set by the first poll(): from then on every write wakes readers (Linux's poll_usage,
    // for epoll users who expect an edge per write).
    std::atomic<bool> poll_usage_{false};
    std::atomic<int> files_{2};
    Buffer bufs_[kRingSize] GUARDED_BY(mutex_);
    char* tmp_page_ GUARDED_BY(mutex_) = nullptr;  // a one-page cache, as anon_pipe_buf_release
};

// One end of a pipe: FMODE_READ with F_GETFL O_RDONLY, or FMODE_WRITE with O_WRONLY (plus
// O_NONBLOCK, and O_DIRECT on the write end, from pipe2's flags).
class PipeEnd final : public File {
public:
    PipeEnd(Pipe& pipe, uint8_t mode, int flags);

    PollMask poll(PollTable* pt) override;
    // Both ends have read and write operations (FMODE_CAN_READ/WRITE); the access mode is
    // what refuses a read on the write end (EBADF, checked by the caller).
    bool can_read() const override { return true; }
    bool can_write() const override { return true; }
    bool allows_odirect() const override { return true; }  // F_SETFL O_DIRECT: packet mode
    bool has_fasync() const override { return true; }
    kstd::Result<size_t> read(IoIter& to, bool nonblock) override;
    kstd::Result<size_t> write(IoIter& from, bool nonblock) override;
    kstd::Result<long> ioctl(unsigned long cmd, uintptr_t arg) override;

    Pipe& pipe() { return pipe_; }

protected:
    void release() override;

private:
    Pipe& pipe_;
};

}  // namespace pollux
