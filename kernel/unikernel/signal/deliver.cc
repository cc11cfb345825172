// Delivery on the way back to user mode, and rt_sigreturn (Linux's arch/x86/kernel/signal.c,
// signal_64.c and fpu/signal.c, for a CPU state of general registers plus an FXSAVE image).
//
// Both kernel entries from CPL3 leave through the same frame (user/syscall_entry.S,
// arch/x86_64/interrupt_entry.S): the InterruptFrame, and the FXSAVE image save_fpu put below
// it, which restore_fpu loads just before iretq. Delivering a signal rewrites both: the user's
// registers and FPU state go into the rt_sigframe on the user stack, the frame then points at
// the handler and the image holds a clean FPU state for it. rt_sigreturn copies them back.
#include <linux/errno.h>

#include <cstddef>
#include <cstring>

#include "arch/x86_64/gdt.h"
#include "console/printk.h"
#include "mm/page_table.h"
#include "sched/irq_guard.h"
#include "sched/scheduler.h"
#include "signal/internal.h"
#include "user/address_space.h"
#include "user/user_mode.h"

namespace pollux::signal {

using namespace detail;

namespace {

static_assert(offsetof(InterruptFrame, cs) == 144, "interrupt_entry.S tests the saved CS at 144");

constexpr uint64_t kRedZone = 128;  // the psABI's: below rsp, the interrupted code's own
// RFLAGS (SDM Vol. 1 3.4.3).
constexpr uint64_t kCf = 1 << 0, kPf = 1 << 2, kAf = 1 << 4, kZf = 1 << 6, kSf = 1 << 7, kTf = 1 << 8,
                   kIf = 1 << 9, kDf = 1 << 10, kOf = 1 << 11, kRf = 1 << 16, kAc = 1 << 18;
constexpr uint64_t kFlagsAlwaysOne = 1 << 1;
// What rt_sigreturn takes from the frame: the arithmetic flags, DF and AC (Linux's FIX_EFLAGS
// without TF and RF: no single-stepping here, #DB would only end the application). IF, IOPL
// and the rest stay the kernel's to set.
constexpr uint64_t kRestorableFlags = kCf | kPf | kAf | kZf | kSf | kDf | kOf | kAc;

// The FPU state a handler starts with (Linux's fpu__clear_user_states): the reset values of
// FCW and MXCSR, everything else zero, all exceptions masked.
void fpu_init(uint8_t* fx) {
    memset(fx, 0, kFxsaveSize);
    uint16_t fcw = 0x37f;
    uint32_t mxcsr = 0x1f80;
    memcpy(fx, &fcw, sizeof fcw);
    memcpy(fx + kFxMxcsr, &mxcsr, sizeof mxcsr);
}

// The MXCSR bits this CPU accepts (SDM Vol. 1 11.6.6): a reserved bit set in an image fxrstor
// loads is a #GP, in the kernel. 0 in the MXCSR_MASK field means the default mask.
uint32_t mxcsr_mask() {
    static uint32_t mask = 0;
    if (!mask) {
        alignas(16) uint8_t image[kFxsaveSize] = {};
        asm volatile("fxsave %0" : "=m"(image));
        memcpy(&mask, image + kFxMxcsrMask, sizeof mask);
        if (!mask) mask = 0xffbf;
    }
    return mask;
}

// The FXSAVE image save_fpu put below the frame (arch/x86_64/frame_macros.S.inc).
uint8_t* fpu_image(InterruptFrame* f) { return reinterpret_cast<uint8_t*>((uint64_t(f) - kFxsaveSize) & ~15ull); }

bool restart_code(uint64_t rax) {
    int64_t r = int64_t(rax);
    return r == -kERestartSys || r == -kERestartNoIntr || r == -kERestartNoHand || r == -kERestartRestartBlock;
}

// Back to the syscall instruction (2 bytes) with the number in rax: the call runs again.
void restart(InterruptFrame* f) {
    f->rax = f->vector;
    f->rip -= 2;
}

// An interrupted syscall about to run a handler (Linux's handle_signal).
void settle_for_handler(InterruptFrame* f, uint64_t sa_flags) {
    switch (int64_t(f->rax)) {
    case -kERestartRestartBlock:
    case -kERestartNoHand: f->rax = uint64_t(-EINTR); break;
    case -kERestartSys:
        if (!(sa_flags & kSaRestart)) {
            f->rax = uint64_t(-EINTR);
            break;
        }
        [[fallthrough]];
    case -kERestartNoIntr: restart(f); break;
    default: break;
    }
}

// No handler ran (arch_do_signal_or_restart's tail): the call is restarted, whatever it was.
void settle_without_handler(InterruptFrame* f) {
    switch (int64_t(f->rax)) {
    case -kERestartNoHand:
    case -kERestartSys:
    case -kERestartNoIntr: restart(f); break;
    // Nothing here asks for a restart block (restart_syscall(2) is not served): EINTR.
    case -kERestartRestartBlock: f->rax = uint64_t(-EINTR); break;
    default: break;
    }
}

// Linux's get_sigframe and __setup_rt_frame. False when the frame cannot be built (no room,
// an unmapped stack, no restorer): the caller turns that into SIGSEGV.
bool setup_frame(sched::Thread* t, InterruptFrame* f, uint8_t* fx, int sig, const SigInfo& info,
                 const PendingFault& fault, const Action& ka, uint64_t saved_mask) {
    // x86_64 has no vDSO trampoline for sigreturn: glibc and musl always pass SA_RESTORER.
    if (!(ka.flags & kSaRestorer) || ka.handler >= mm::kUserTop) return false;
    uint64_t sp = f->rsp - kRedZone;
    bool nested = on_altstack(t, f->rsp);
    bool entering = false;
    if ((ka.flags & kSaOnstack) && altstack_state(t, sp) == 0) {
        sp = t->signals.altstack_sp + t->signals.altstack_size;
        entering = true;
    }
    constexpr uint64_t kNeed = kFxsaveSize + 64 + sizeof(RtSigframe) + 16;
    if (sp < kNeed || sp > mm::kUserTop) return false;
    uint64_t fpstate = (sp - kFxsaveSize) & ~63ull;
    // rsp at the handler's first instruction is 8 mod 16, as after a call: the frame's first
    // word is the return address.
    uint64_t frame = ((fpstate - sizeof(RtSigframe) + 8) & ~15ull) - 8;
    if ((nested || entering) && !(frame > t->signals.altstack_sp)) return false;  // the alternate stack overflowed
    if (!user::accessible(frame, fpstate + kFxsaveSize - frame, user::kProtWrite)) return false;

    RtSigframe fr{};
    fr.pretcode = ka.restorer;
    fr.uc.flags = kUcSigcontextSs | kUcStrictRestoreSs;
    fr.uc.stack = StackT{t->signals.altstack_sp, int32_t(t->signals.altstack_flags), 0, t->signals.altstack_size};
    SigContext& sc = fr.uc.mcontext;
    sc.r8 = f->r8, sc.r9 = f->r9, sc.r10 = f->r10, sc.r11 = f->r11;
    sc.r12 = f->r12, sc.r13 = f->r13, sc.r14 = f->r14, sc.r15 = f->r15;
    sc.rdi = f->rdi, sc.rsi = f->rsi, sc.rbp = f->rbp, sc.rbx = f->rbx;
    sc.rdx = f->rdx, sc.rax = f->rax, sc.rcx = f->rcx, sc.rsp = f->rsp, sc.rip = f->rip;
    sc.eflags = f->rflags;
    sc.cs = uint16_t(f->cs);
    sc.ss = uint16_t(f->ss);
    sc.err = fault.error;
    sc.trapno = fault.trapno;
    sc.oldmask = saved_mask;
    sc.cr2 = fault.trapno == 14 ? fault.addr : 0;
    sc.fpstate = fpstate;
    fr.uc.sigmask = saved_mask;
    fr.info = info;
    memcpy(reinterpret_cast<void*>(frame), &fr, sizeof fr);
    memcpy(reinterpret_cast<void*>(fpstate), fx, kFxSwBytes);
    memset(reinterpret_cast<uint8_t*>(fpstate) + kFxSwBytes, 0, kFxsaveSize - kFxSwBytes);

    // The handler's entry: handler(sig, &info, &uc) with rax 0 (no vector registers used for
    // a variadic call), a clean FPU, and DF clear as every function call expects.
    f->rdi = uint64_t(sig);
    f->rsi = frame + offsetof(RtSigframe, info);
    f->rdx = frame + offsetof(RtSigframe, uc);
    f->rax = 0;
    f->rip = ka.handler;
    f->rsp = frame;
    f->rflags &= ~(kDf | kRf | kTf);
    f->cs = gdt::kUserCode;
    f->ss = gdt::kUserData;
    fpu_init(fx);
    if (t->signals.altstack_flags & kSsAutodisarm) {  // recorded in uc_stack above, restored by rt_sigreturn
        t->signals.altstack_sp = t->signals.altstack_size = 0;
        t->signals.altstack_flags = kSsDisable;
    }
    return true;
}

// Linux's force_sigsegv after a frame that could not be built: SIGSEGV's handler gets a try
// (on its alternate stack, say), unless it is SIGSEGV's own frame that failed.
void frame_failed(sched::Thread* t, InterruptFrame* f, int sig) {
    printk("signal: no room for the frame of signal %d (%s) at rsp %#lx\n", sig, name(sig), f->rsp);
    uint64_t h = actions[kSigSegv].handler;
    if (sig == kSigSegv || h == kSigDfl || h == kSigIgn || (t->signals.mask & bit(kSigSegv)))
        terminate(kSigSegv, "the signal frame did not fit");
    t->signals.fault = PendingFault{kSigSegv, kSiKernel, 0, 0, 0};
    recalc(t);
}

// Linux's exit_to_user_mode_loop with arch_do_signal_or_restart. Interrupts off.
void deliver(sched::Thread* t, InterruptFrame* f, uint8_t* fx, bool syscall) {
    ThreadSignals& s = t->signals;
    for (;;) {
        SigInfo info{};
        PendingFault fault{};
        int sig = 0;
        if (s.fault.sig) {  // the thread's own fault: before anything else
            fault = s.fault;
            s.fault = PendingFault{};
            sig = fault.sig;
            info.signo = sig;
            info.code = fault.code;
            info.fault.addr = fault.addr;
            recalc(t);
        } else {
            sig = dequeue(t, ~s.mask, info);
        }
        if (sig) {
            Action ka = actions[sig];
            if (ka.handler == kSigIgn) continue;
            if (ka.handler == kSigDfl) {
                if (default_ignores(sig)) continue;
                terminate(sig, "its default action");
            }
            if (ka.flags & kSaResethand) actions[sig].handler = kSigDfl;
            if (syscall) {
                settle_for_handler(f, ka.flags);
                syscall = false;
            }
            uint64_t saved = s.restore_mask ? s.saved_mask : s.mask;
            if (!setup_frame(t, f, fx, sig, info, fault, ka, saved)) {
                frame_failed(t, f, sig);
                continue;
            }
            s.restore_mask = false;
            s.mask = (s.mask | ka.mask | ((ka.flags & kSaNodefer) ? 0 : bit(sig))) & ~kUnblockable;
            recalc(t);
            continue;
        }
        if (syscall) {
            settle_without_handler(f);
            syscall = false;
        }
        if (s.restore_mask) {  // no handler recorded it: put the caller's mask back now
            s.restore_mask = false;
            s.mask = s.saved_mask;
            recalc(t);
            continue;
        }
        break;
    }
    recalc(t);  // clears a stale flag: a process signal another thread took first
}

}  // namespace

namespace detail {

int64_t sigreturn(InterruptFrame* f) {
    sched::Thread* t = sched::current();
    f->vector = kNoSyscall;  // whatever rax holds now, it is no syscall's to restart
    uint64_t frame = f->rsp - 8;  // the handler's ret popped pretcode
    RtSigframe fr;
    alignas(16) uint8_t fpu[kFxsaveSize];
    bool ok = f->rsp >= 8 && user::accessible(frame, sizeof fr, user::kProtRead);
    if (ok) {
        memcpy(&fr, reinterpret_cast<const void*>(frame), sizeof fr);
        // iretq to a non-canonical rip faults in the kernel: refuse it here.
        ok = fr.uc.mcontext.rip < mm::kUserTop;
    }
    if (ok && fr.uc.mcontext.fpstate) {
        ok = user::accessible(fr.uc.mcontext.fpstate, kFxsaveSize, user::kProtRead);
        if (ok) {
            memcpy(fpu, reinterpret_cast<const void*>(fr.uc.mcontext.fpstate), kFxsaveSize);
            uint32_t mxcsr;
            memcpy(&mxcsr, fpu + kFxMxcsr, sizeof mxcsr);
            mxcsr &= mxcsr_mask();
            memcpy(fpu + kFxMxcsr, &mxcsr, sizeof mxcsr);
        }
    } else if (ok) {
        fpu_init(fpu);  // no FPU state saved: a clean one, as Linux
    }
    if (!ok) {
        // Linux's signal_fault: SIGSEGV, which a handler may still catch.
        printk("signal: rt_sigreturn with a bad frame at %#lx\n", frame);
        sched::IrqGuard guard;
        uint64_t h = actions[kSigSegv].handler;
        if (h == kSigDfl || h == kSigIgn || (t->signals.mask & bit(kSigSegv)))
            terminate(kSigSegv, "a bad signal frame");
        t->signals.fault = PendingFault{kSigSegv, kSiKernel, 0, 0, 0};
        recalc(t);
        return int64_t(f->rax);
    }
    const SigContext& sc = fr.uc.mcontext;
    f->r8 = sc.r8, f->r9 = sc.r9, f->r10 = sc.r10, f->r11 = sc.r11;
    f->r12 = sc.r12, f->r13 = sc.r13, f->r14 = sc.r14, f->r15 = sc.r15;
    f->rdi = sc.rdi, f->rsi = sc.rsi, f->rbp = sc.rbp, f->rbx = sc.rbx;
    f->rdx = sc.rdx, f->rcx = sc.rcx, f->rsp = sc.rsp, f->rip = sc.rip;
    // Never ring 0, never IOPL or IF off: the selectors are ours, the flags only the harmless.
    f->rflags = kFlagsAlwaysOne | kIf | (sc.eflags & kRestorableFlags);
    f->cs = gdt::kUserCode;
    f->ss = gdt::kUserData;
    memcpy(fpu_image(f), fpu, kFxsaveSize);
    sched::IrqGuard guard;
    t->signals.mask = fr.uc.sigmask & ~kUnblockable;
    recalc(t);
    // Linux's restore_altstack: errors ignored (the interrupted code may run on the stack).
    set_altstack(t, fr.uc.stack, sc.rsp);
    return int64_t(sc.rax);
}

}  // namespace detail

void user_fault(const InterruptFrame& frame, uint64_t cr2) {
    int sig = kSigSegv, code = kSiKernel;
    uint64_t addr = 0;
    bool catchable = true;
    switch (frame.vector) {
    case 0: sig = kSigFpe, code = kFpeIntdiv, addr = frame.rip; break;  // #DE
    case 1: sig = kSigTrap, code = kTrapTrace, addr = frame.rip; break;  // #DB
    case 3: sig = kSigTrap, code = kSiKernel; break;                     // int3 (#BP)
    case 6: sig = kSigIll, code = kIllIllopn, addr = frame.rip; break;   // #UD
    case 12: sig = kSigBus; break;                                       // #SS
    case 14: {  // #PF: ACCERR inside an area the access is not allowed in (PROT_NONE, read-only), MAPERR outside any
        uint64_t start, end;
        int prot;
        code = ((frame.error_code & 1) || user::area_at(cr2, start, end, prot)) ? kSegvAccerr : kSegvMaperr;
        addr = cr2;
        break;
    }
    case 16:  // #MF: the x87's unmasked exceptions (its status word still holds them)
    case 19: {  // #XM: SSE's, from MXCSR
        uint32_t status = 0;
        if (frame.vector == 19) {
            uint32_t mxcsr;
            asm volatile("stmxcsr %0" : "=m"(mxcsr));
            status = mxcsr & ~(mxcsr >> 7) & 0x3f;
        } else {
            uint16_t sw, cw;
            asm volatile("fnstsw %0; fnstcw %1" : "=m"(sw), "=m"(cw));
            status = sw & ~cw & 0x3f;
        }
        sig = kSigFpe;
        addr = frame.rip;
        code = (status & 1) ? kFpeFltinv : (status & 4) ? kFpeFltdiv : (status & 8) ? kFpeFltovf
             : (status & 16) ? kFpeFltund : (status & 32) ? kFpeFltres : 0;
        break;
    }
    case 17: sig = kSigBus, code = kBusAdraln; break;  // #AC
    case 2: case 8: case 18: catchable = false; break;  // NMI, #DF, #MC: not the application's doing
    default: break;                                     // #GP and the rest: SIGSEGV, SI_KERNEL
    }
    sched::Thread* t = sched::current();
    uint64_t h = actions[sig].handler;
    // Linux's force_sig_fault: a blocked or ignored fault signal takes its default action.
    if (!catchable || h == kSigDfl || h == kSigIgn || (t->signals.mask & bit(sig))) user::fatal_exception(frame, sig);
    sched::IrqGuard guard;
    t->signals.fault = PendingFault{sig, code, addr, frame.vector, frame.error_code};
    recalc(t);
}

}  // namespace pollux::signal

// Called by both exits to CPL3 with interrupts off, the saved user registers and their FPU
// image; from_syscall says whether rax holds a syscall's result (which may ask for a restart).
extern "C" void signal_exit_to_user(pollux::InterruptFrame* f, uint8_t* fx, uint64_t from_syscall) {
    using namespace pollux;
    using namespace pollux::signal;
    sched::Thread* t = sched::current();
    if (user::leaving(t)) sched::exit_current();  // exit_group from another thread
    bool syscall = from_syscall && f->vector != detail::kNoSyscall;
    if (t->sigpending || t->signals.restore_mask || (syscall && restart_code(f->rax))) deliver(t, f, fx, syscall);
    sched::returning_to_user();  // the last of the kernel-mode stretch (ru_stime)
}
