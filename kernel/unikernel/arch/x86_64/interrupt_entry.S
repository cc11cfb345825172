// One 16-byte stub per vector (idt.cc computes stub addresses as isr_stubs + 16 * vector),
// each pushing a zero error code where the CPU pushes none (SDM Vol. 3A table 6-1: 8, 10-14,
// 17, 21, 29, 30 push one), then the vector; interrupt_common saves the rest of the
// interrupted context and calls interrupt_dispatch(InterruptFrame*).

#include "arch/x86_64/frame_macros.S.inc"

    .section .text
    .p2align 4
    .global isr_stubs
isr_stubs:
    .set vector, 0
    .rept 256
    .p2align 4
    .if !((vector == 8) || (vector >= 10 && vector <= 14) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30))
    pushq $0
    .endif
    pushq $vector
    jmp interrupt_common
    .set vector, vector + 1
    .endr

interrupt_common:
    push_gprs
    mov %rsp, %rdi
    save_fpu
    cld
    call interrupt_dispatch
    // Back to user mode (the saved CS's RPL is 3): deliver its signals first, as the syscall
    // exit does (user/syscall_entry.S). 144 is InterruptFrame::cs's offset.
    testb $3, 144(%rbx)
    jz 1f
    mov %rbx, %rdi
    mov %rsp, %rsi
    xor %edx, %edx
    call signal_exit_to_user
1:  restore_fpu
    pop_gprs
    add $16, %rsp                              // vector and error code
    iretq
