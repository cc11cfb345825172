// switch_context(uint64_t* save_rsp, uint64_t load_rsp): saves the callee-saved registers and
// the FPU/SSE image on the current stack, stores its pointer at *save_rsp, and resumes the
// thread whose stack load_rsp points to. The FPU image is saved because an application thread
// may block inside a syscall, which Linux promises preserves every register but rax, rcx and r11.
// Interrupts are off across the switch (the caller holds an IrqGuard or is an interrupt).
//
// A stack that was never run is built by sched/scheduler.cc in this same layout, returning
// into thread_trampoline with rbx = entry, r12 = argument.

    .section .text
    .global switch_context
switch_context:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rax
    sub $512, %rsp
    and $-16, %rsp
    fxsave (%rsp)
    push %rax
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    fxrstor 8(%rsp)
    mov (%rsp), %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

    .global thread_trampoline
thread_trampoline:
    xor %ebp, %ebp                             // ends the backtrace here
    sti                                        // the switch ran with interrupts off
    mov %r12, %rdi
    call *%rbx
    call thread_entry_returned
    ud2
