// The x86_64 Linux signal ABI an application's handler sees: struct rt_sigframe as the kernel
// pushes it (arch/x86/include/asm/sigframe.h), the ucontext and sigcontext inside it
// (uapi asm/sigcontext.h, asm-generic/ucontext.h) and the 128-byte siginfo. Written out here
// rather than included: the uapi headers' sigset_t and siginfo clash with libc's, and every
// offset below is one glibc's and musl's ucontext_t and siginfo_t read, so the asserts pin
// them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace pollux::signal {

// uapi asm-generic/siginfo.h; si_code values of the senders and faults we report.
constexpr int kSiUser = 0, kSiKernel = 0x80, kSiTimer = -2, kSiTkill = -6;
constexpr int kIllIllopn = 2, kFpeIntdiv = 1, kFpeFltdiv = 3, kFpeFltovf = 4, kFpeFltund = 5, kFpeFltres = 6,
              kFpeFltinv = 7, kSegvMaperr = 1, kSegvAccerr = 2, kBusAdraln = 1, kTrapBrkpt = 1, kTrapTrace = 2;

struct SigInfo {
    int32_t signo, errno_, code, pad;
    union {
        struct {
            int32_t pid;
            uint32_t uid;
        } kill;  // SI_USER, SI_TKILL
        struct {
            int32_t tid, overrun;  // si_timerid, si_overrun
            uint64_t value;        // si_value
        } timer;  // SI_TIMER
        struct {
            uint64_t addr;
        } fault;  // SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP
        uint8_t bytes[112];
    };
};
static_assert(sizeof(SigInfo) == 128 && offsetof(SigInfo, kill) == 16 && offsetof(SigInfo, timer.value) == 24);

// uapi asm/sigcontext.h, struct sigcontext (64-bit): glibc's gregs[] in this order.
struct SigContext {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
    uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
    uint64_t eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2;
    uint64_t fpstate;  // the FXSAVE image, user address
    uint64_t reserved[8];
};
static_assert(sizeof(SigContext) == 256 && offsetof(SigContext, rip) == 16 * 8 && offsetof(SigContext, err) == 152);

struct StackT {  // stack_t
    uint64_t sp;
    int32_t flags, pad;
    uint64_t size;
};
static_assert(sizeof(StackT) == 24);

// The kernel's struct ucontext: its sigset is the kernel's 8 bytes (libc's ucontext_t has 128
// there, of which only these are written).
struct UContext {
    uint64_t flags, link;
    StackT stack;
    SigContext mcontext;
    uint64_t sigmask;
};
static_assert(offsetof(UContext, mcontext) == 40 && offsetof(UContext, sigmask) == 296 && sizeof(UContext) == 304);

// What rsp points to when the handler starts: its return address (the restorer, which calls
// rt_sigreturn), then the context and the siginfo. The FPU image sits above, 64-aligned.
struct RtSigframe {
    uint64_t pretcode;
    UContext uc;
    SigInfo info;
};
static_assert(offsetof(RtSigframe, uc) == 8 && offsetof(RtSigframe, info) == 312 && sizeof(RtSigframe) == 440);

// uc_flags: the sigcontext's ss is real and sigreturn restores it (Linux 4.6+); no UC_FP_XSTATE,
// since the FPU image is FXSAVE's alone.
constexpr uint64_t kUcSigcontextSs = 2, kUcStrictRestoreSs = 4;

constexpr uint64_t kFxsaveSize = 512;
// Bytes 464-511 of an FXSAVE image are the software's (fpx_sw_bytes): FP_XSTATE_MAGIC1 there
// would announce an XSAVE image behind it. A kernel without XSAVE leaves them zero.
constexpr uint64_t kFxSwBytes = 464;
constexpr uint64_t kFxMxcsr = 24, kFxMxcsrMask = 28;

// sigaltstack(2).
constexpr int kSsOnstack = 1, kSsDisable = 2;
constexpr uint32_t kSsAutodisarm = 1u << 31;
constexpr uint64_t kMinSigstksz = 2048;

// struct sigaction's sa_flags (uapi asm/signal.h).
constexpr uint64_t kSaNocldstop = 1, kSaNocldwait = 2, kSaSiginfo = 4, kSaOnstack = 0x08000000,
                   kSaRestart = 0x10000000, kSaNodefer = 0x40000000, kSaResethand = 0x80000000,
                   kSaRestorer = 0x04000000;

}  // namespace pollux::signal
