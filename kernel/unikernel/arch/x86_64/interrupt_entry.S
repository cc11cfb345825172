// One 16-byte stub per vector (idt.cc computes stub addresses as isr_stubs + 16 * vector),
// each pushing a zero error code where the CPU pushes none (SDM Vol. 3A table 6-1: 8, 10-14,
// 17, 21, 29, 30 push one), then the vector; interrupt_common saves the rest of the
// interrupted context and calls interrupt_dispatch(InterruptFrame*).

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
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    // The kernel is built with SSE allowed, so a handler may clobber XMM registers the
    // interrupted code was using: save the FPU/SSE image (512 bytes, 16-aligned) around it.
    mov %rsp, %rbx
    sub $512, %rsp
    and $-16, %rsp
    fxsave (%rsp)
    cld
    call interrupt_dispatch
    fxrstor (%rsp)
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                              // vector and error code
    iretq
