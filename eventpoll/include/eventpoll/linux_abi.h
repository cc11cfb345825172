// Linux ABI constants and structures the core speaks, with Linux's exact values.
//
// Each is Linux's name with a `k` in front: libc defines most of these names as macros
// (O_NONBLOCK, CLOCK_MONOTONIC, PIPE_BUF...), which would clobber a plain abi::O_NONBLOCK in
// any file that also includes a libc header.
// The core cannot include <sys/epoll.h> or <fcntl.h>: the unikernel is freestanding and the
// uapi headers collide with glibc's. Each value carries the uapi header it comes from; the
// hosted shim static_asserts that they equal libc's.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::abi {

// include/uapi/linux/eventpoll.h
inline constexpr uint32_t kEPOLLIN = 0x001;
inline constexpr uint32_t kEPOLLPRI = 0x002;
inline constexpr uint32_t kEPOLLOUT = 0x004;
inline constexpr uint32_t kEPOLLERR = 0x008;
inline constexpr uint32_t kEPOLLHUP = 0x010;
inline constexpr uint32_t kEPOLLNVAL = 0x020;
inline constexpr uint32_t kEPOLLRDNORM = 0x040;
inline constexpr uint32_t kEPOLLRDBAND = 0x080;
inline constexpr uint32_t kEPOLLWRNORM = 0x100;
inline constexpr uint32_t kEPOLLWRBAND = 0x200;
inline constexpr uint32_t kEPOLLMSG = 0x400;
inline constexpr uint32_t kEPOLLRDHUP = 0x2000;
inline constexpr uint32_t kEPOLLEXCLUSIVE = 1u << 28;
inline constexpr uint32_t kEPOLLWAKEUP = 1u << 29;
inline constexpr uint32_t kEPOLLONESHOT = 1u << 30;
inline constexpr uint32_t kEPOLLET = 1u << 31;
inline constexpr int kEPOLL_CTL_ADD = 1;
inline constexpr int kEPOLL_CTL_DEL = 2;
inline constexpr int kEPOLL_CTL_MOD = 3;
inline constexpr int kEPOLL_CLOEXEC = 02000000;

// x86_64 packs epoll_event (the 32-bit layout is kept for compatibility).
struct __attribute__((packed)) EpollEvent {
    uint32_t events;
    uint64_t data;
};
static_assert(sizeof(EpollEvent) == 12);

struct EpollParams {
    uint32_t busy_poll_usecs;
    uint16_t busy_poll_budget;
    uint8_t prefer_busy_poll;
    uint8_t pad;
};
static_assert(sizeof(EpollParams) == 8);
// _IOW(0x8A, 0x01, struct epoll_params) and _IOR(0x8A, 0x02, ...)
inline constexpr unsigned long kEPIOCSPARAMS = 0x40088a01;
inline constexpr unsigned long kEPIOCGPARAMS = 0x80088a02;

// include/uapi/asm-generic/fcntl.h
inline constexpr int kO_RDONLY = 0;
inline constexpr int kO_WRONLY = 1;
inline constexpr int kO_RDWR = 2;
inline constexpr int kO_ACCMODE = 3;
inline constexpr int kO_APPEND = 02000;
inline constexpr int kO_NONBLOCK = 04000;
inline constexpr int kO_DIRECT = 040000;
inline constexpr int kO_NOATIME = 01000000;
inline constexpr int kO_CLOEXEC = 02000000;
inline constexpr int kFASYNC = 020000;
// open(2)'s other flags (asm-generic/fcntl.h; __O_TMPFILE includes O_DIRECTORY as O_TMPFILE)
inline constexpr int kO_CREAT = 0100;
inline constexpr int kO_EXCL = 0200;
inline constexpr int kO_NOCTTY = 0400;
inline constexpr int kO_TRUNC = 01000;
inline constexpr int kO_LARGEFILE = 0100000;
inline constexpr int kO_DIRECTORY = 0200000;
inline constexpr int kO_NOFOLLOW = 0400000;
inline constexpr int kO_PATH = 010000000;
inline constexpr int kO_TMPFILE = 020000000 | kO_DIRECTORY;
// include/uapi/linux/fcntl.h: the *at() calls' directory and flags
inline constexpr int kAT_FDCWD = -100;
inline constexpr int kAT_SYMLINK_NOFOLLOW = 0x100;
inline constexpr int kAT_EACCESS = 0x200;
inline constexpr int kAT_NO_AUTOMOUNT = 0x800;
inline constexpr int kAT_EMPTY_PATH = 0x1000;
inline constexpr int kAT_STATX_SYNC_TYPE = 0x6000;
// include/uapi/linux/fs.h: lseek's whence
inline constexpr int kSEEK_SET = 0;
inline constexpr int kSEEK_CUR = 1;
inline constexpr int kSEEK_END = 2;
inline constexpr int kSEEK_DATA = 3;
inline constexpr int kSEEK_HOLE = 4;
inline constexpr int kSEEK_MAX = kSEEK_HOLE;
inline constexpr int kF_DUPFD = 0;
inline constexpr int kF_GETFD = 1;
inline constexpr int kF_SETFD = 2;
inline constexpr int kF_GETFL = 3;
inline constexpr int kF_SETFL = 4;
inline constexpr int kF_DUPFD_CLOEXEC = 1030;
inline constexpr int kFD_CLOEXEC = 1;
// fs/fcntl.c: the only status flags F_SETFL may change.
inline constexpr int kSETFL_MASK = kO_APPEND | kO_NONBLOCK | kFASYNC | kO_DIRECT | kO_NOATIME;

// include/uapi/asm-generic/ioctls.h
inline constexpr unsigned long kFIONREAD = 0x541B;
inline constexpr unsigned long kFIONBIO = 0x5421;
inline constexpr unsigned long kFIONCLEX = 0x5450;
inline constexpr unsigned long kFIOCLEX = 0x5451;

// include/uapi/linux/eventfd.h, timerfd.h (flags share O_* values)
inline constexpr int kEFD_SEMAPHORE = 1;
inline constexpr int kEFD_CLOEXEC = kO_CLOEXEC;
inline constexpr int kEFD_NONBLOCK = kO_NONBLOCK;
inline constexpr int kTFD_CLOEXEC = kO_CLOEXEC;
inline constexpr int kTFD_NONBLOCK = kO_NONBLOCK;
inline constexpr int kTFD_TIMER_ABSTIME = 1;
inline constexpr int kTFD_TIMER_CANCEL_ON_SET = 2;

// include/uapi/linux/time.h
inline constexpr int kCLOCK_REALTIME = 0;
inline constexpr int kCLOCK_MONOTONIC = 1;
inline constexpr int kCLOCK_BOOTTIME = 7;
inline constexpr int kCLOCK_REALTIME_ALARM = 8;
inline constexpr int kCLOCK_BOOTTIME_ALARM = 9;

struct Timespec {
    int64_t tv_sec;
    int64_t tv_nsec;
};
struct Itimerspec {
    Timespec it_interval;
    Timespec it_value;
};

// include/linux/socket.h, net.h, uapi/linux/in.h, in6.h, tcp.h, asm-generic/socket.h
inline constexpr int kAF_UNSPEC = 0;
inline constexpr int kAF_UNIX = 1;
inline constexpr int kAF_INET = 2;
inline constexpr int kAF_INET6 = 10;
inline constexpr int kAF_NETLINK = 16;
inline constexpr int kAF_PACKET = 17;
inline constexpr int kNPROTO = 46;
inline constexpr int kSOCK_STREAM = 1;
inline constexpr int kSOCK_DGRAM = 2;
inline constexpr int kSOCK_RAW = 3;
inline constexpr int kSOCK_SEQPACKET = 5;
inline constexpr int kSOCK_TYPE_MASK = 0xf;
inline constexpr int kSOCK_MAX = 11;
inline constexpr int kSOCK_NONBLOCK = kO_NONBLOCK;
inline constexpr int kSOCK_CLOEXEC = kO_CLOEXEC;
inline constexpr unsigned kSockaddrStorageSize = 128;
inline constexpr int kSOMAXCONN = 4096;
inline constexpr int kMSG_OOB = 0x1;
inline constexpr int kMSG_PEEK = 0x2;
inline constexpr int kMSG_CTRUNC = 0x8;
inline constexpr int kMSG_TRUNC = 0x20;
inline constexpr int kMSG_DONTWAIT = 0x40;
inline constexpr int kMSG_WAITALL = 0x100;
inline constexpr int kMSG_ERRQUEUE = 0x2000;
inline constexpr int kMSG_NOSIGNAL = 0x4000;
inline constexpr int kMSG_MORE = 0x8000;
inline constexpr int kMSG_CMSG_CLOEXEC = 0x40000000;
inline constexpr int kSHUT_RD = 0;
inline constexpr int kSHUT_WR = 1;
inline constexpr int kSHUT_RDWR = 2;
inline constexpr int kIPPROTO_IP = 0;
inline constexpr int kIPPROTO_TCP = 6;
inline constexpr int kIPPROTO_UDP = 17;
inline constexpr int kIPPROTO_IPV6 = 41;
inline constexpr int kSOL_SOCKET = 1;
inline constexpr int kSO_REUSEADDR = 2;
inline constexpr int kSO_TYPE = 3;
inline constexpr int kSO_ERROR = 4;
inline constexpr int kSO_BROADCAST = 6;
inline constexpr int kSO_SNDBUF = 7;
inline constexpr int kSO_RCVBUF = 8;
inline constexpr int kSO_KEEPALIVE = 9;
inline constexpr int kSO_LINGER = 13;
inline constexpr int kSO_PASSCRED = 16;
inline constexpr int kSO_PEERCRED = 17;
inline constexpr int kSO_REUSEPORT = 15;
inline constexpr int kSO_RCVLOWAT = 18;
inline constexpr int kSO_SNDLOWAT = 19;
inline constexpr int kSO_RCVTIMEO_OLD = 20;
inline constexpr int kSO_SNDTIMEO_OLD = 21;
inline constexpr int kSO_ACCEPTCONN = 30;
inline constexpr int kSO_SNDBUFFORCE = 32;
inline constexpr int kSO_RCVBUFFORCE = 33;
inline constexpr int kSO_PROTOCOL = 38;
inline constexpr int kSO_DOMAIN = 39;
inline constexpr int kSO_BUSY_POLL = 46;
inline constexpr int kSO_INCOMING_NAPI_ID = 56;
inline constexpr int kSO_PREFER_BUSY_POLL = 69;
inline constexpr int kSO_BUSY_POLL_BUDGET = 70;
inline constexpr int kTCP_NODELAY = 1;
inline constexpr int kTCP_MAXSEG = 2;
inline constexpr int kTCP_KEEPIDLE = 4;
inline constexpr int kTCP_KEEPINTVL = 5;
inline constexpr int kTCP_KEEPCNT = 6;
inline constexpr int kIP_TOS = 1;
inline constexpr int kIP_TTL = 2;
inline constexpr int kIP_RECVERR = 11;
inline constexpr int kIPV6_RECVERR = 25;
inline constexpr int kIPV6_V6ONLY = 26;

struct Linger {
    int l_onoff;
    int l_linger;
};

struct MsgHdr {  // layout of struct msghdr on x86_64
    void* msg_name;
    unsigned msg_namelen;
    void* msg_iov;
    size_t msg_iovlen;
    void* msg_control;
    size_t msg_controllen;
    int msg_flags;
};

// include/linux/errno.h (kernel-internal, never seen by a program): a blocking call that a
// signal interrupted before it moved data. The syscall boundary turns it into a restart when
// the handler has SA_RESTART, else into EINTR (eventpoll/restart.h).
inline constexpr int kERESTARTSYS = 512;

// include/uapi/linux/limits.h, fs/read_write.c
inline constexpr int kPIPE_BUF = 4096;
inline constexpr int kUIO_MAXIOV = 1024;
inline constexpr long kMAX_RW_COUNT = 0x7ffff000;  // kINT_MAX & kPAGE_MASK

}  // namespace pollux::abi
