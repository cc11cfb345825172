// The `syscall` instruction's landing point (IA32_LSTAR) and the way back to CPL3.
//
// No swapgs: there is one CPU, so the kernel stack pointer and the user stack scratch slot are
// plain globals, and the kernel never uses GS. SMP will need swapgs and a GS-based per-CPU
// block here; that is the only place that changes. IA32_FMASK clears IF, so nothing can
// interrupt us before the stack is ours.
//
// The frame built here has the layout of an interrupt's (arch/x86_64/interrupt_frame.h, with
// the syscall number in `vector`), so a syscall and an interrupt leave user mode through the
// same iretq, a clone child starts from a copied frame, and the fault report reads the same.
// iretq rather than sysretq: it restores every register from the frame and has no
// non-canonical-RIP hazard (SDM Vol. 2B SYSRET, the #GP taken at CPL0).

#include "arch/x86_64/frame_macros.S.inc"

    .section .bss
    .p2align 3
    .global syscall_kernel_rsp
syscall_kernel_rsp: .quad 0
syscall_user_rsp:   .quad 0

    .section .text
    .global syscall_entry
syscall_entry:
    mov %rsp, syscall_user_rsp(%rip)
    mov syscall_kernel_rsp(%rip), %rsp
    pushq $0x23                                // user SS (gdt.h kUserData)
    pushq syscall_user_rsp(%rip)
    push %r11                                  // RFLAGS, as the CPU saved it
    pushq $0x2b                                // user CS (gdt.h kUserCode)
    push %rcx                                  // RIP after the syscall instruction
    pushq $0                                   // error code
    push %rax                                  // "vector": the syscall number
    push_gprs
    mov %rsp, %rdi
    save_fpu
    sti
    cld
    call syscall_dispatch
    cli
    // Signals are delivered on the way out (signal/deliver.cc): it may rewrite the frame and
    // the FPU image (%rbx and %rsp still point to them) before they are loaded.
    mov %rbx, %rdi
    mov %rsp, %rsi
    mov $1, %edx                               // rax holds a syscall's result
    call signal_exit_to_user
    restore_fpu
    .global return_to_user
return_to_user:
    pop_gprs
    add $16, %rsp
    iretq

// enter_user(InterruptFrame* frame): leaves for CPL3 through the frame (a new thread's first
// entry, at the top of its kernel stack). Does not return.
    .global enter_user
enter_user:
    cli
    mov %rdi, %rsp
    jmp return_to_user
