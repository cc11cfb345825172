// The first instructions: both boot protocols arrive here in 32-bit protected mode with paging
// off, we build just enough page tables to reach long mode in the higher half, and call
// kernel_entry (boot/kmain.cc), which rebuilds the page tables properly.
//
// PVH: QEMU's -kernel (and Firecracker, cloud-hypervisor) jump to the address in the
// XEN_ELFNOTE_PHYS32_ENTRY note with %ebx = physical address of struct hvm_start_info
// (xen/include/public/arch-x86/hvm/start_info.h).
// Multiboot2: GRUB jumps to the entry-address tag with %eax = 0x36d76289, %ebx = the boot
// information (Multiboot2 spec 3.3, "I386 machine state").
// Everything is linked at KERNEL_VMA + physical; PHYS() turns a link address into the physical
// one the code runs at before paging.

#define KERNEL_VMA 0xffffffff80000000
#define PHYS(x) ((x) - KERNEL_VMA)

#define BOOT_PROTOCOL_PVH 1
#define BOOT_PROTOCOL_MULTIBOOT2 2

#define MB2_HEADER_MAGIC 0xe85250d6      // Multiboot2 spec 3.1.1
#define MB2_BOOTLOADER_MAGIC 0x36d76289  // Multiboot2 spec 3.3

#define MSR_EFER 0xc0000080
#define EFER_LME (1 << 8)
#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define CPUID_EXT_LM (1 << 29)  // CPUID.80000001H:EDX.LM
#define COM1 0x3f8
#define PTE_PRESENT_WRITABLE 0x3
#define PDE_2M_PRESENT_WRITABLE 0x83

#define BOOT_STACK_SIZE (32 * 1024)
#define IST_STACK_SIZE (8 * 1024)

// ---- PVH entry note (Xen public/elfnote.h: XEN_ELFNOTE_PHYS32_ENTRY = 18) ----
    .section .note.pvh, "a", @note
    .p2align 2
    .long 4                       // namesz: "Xen\0"
    .long 8                       // descsz: Linux emits a quad here too; QEMU reads either
    .long 18
    .asciz "Xen"
    .p2align 2
    .quad PHYS(pvh_entry32)
    .p2align 2

// ---- Multiboot2 header (spec 3.1); the ELF entry is a high address, so give a tag ----
    .section .multiboot2, "a"
    .balign 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long 0                                    // architecture: i386 protected mode
    .long mb2_header_end - mb2_header
    .long -(MB2_HEADER_MAGIC + (mb2_header_end - mb2_header))
    .balign 8
    .short 3, 0                                // entry address tag (spec 3.1.6)
    .long 12
    .long PHYS(mb2_entry32)
    .balign 8
    .short 0, 0                                // end tag
    .long 8
mb2_header_end:

    .section .boot.text, "ax"
    .code32
    .global pvh_entry32
pvh_entry32:
    cli
    cld
    rdtsc                                      // first thing: boot time is measured from here
    mov %eax, %edi
    mov %edx, %esi
    mov $BOOT_PROTOCOL_PVH, %ebp
    jmp boot32_common

    .global mb2_entry32
mb2_entry32:
    cli
    cld
    mov $BOOT_PROTOCOL_MULTIBOOT2, %ebp
    cmp $MB2_BOOTLOADER_MAGIC, %eax
    je 1f
    xor %ebp, %ebp                             // unknown loader: kernel_entry says so
1:  rdtsc
    mov %eax, %edi
    mov %edx, %esi

boot32_common:
    // Zero .bss ourselves: a loader need not (and the early page tables live there).
    mov $PHYS(__bss_start), %eax
    mov $PHYS(__bss_end), %edx
1:  cmp %edx, %eax
    jae 2f
    movl $0, (%eax)
    add $4, %eax
    jmp 1b
2:  mov %edi, PHYS(boot_tsc)
    mov %esi, PHYS(boot_tsc) + 4
    mov %ebx, PHYS(boot_info_paddr)
    mov %ebp, PHYS(boot_protocol)
    mov $PHYS(boot_stack_top), %esp

    // A CPU without long mode would triple-fault below and reset without a word: say why.
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    test $CPUID_EXT_LM, %edx
    jz no_long_mode

    // Early tables: the first 1 GiB in 2 MiB pages, both identity-mapped (we run there until
    // the jump) and at KERNEL_VMA (PML4[511], PDPT[510]). Replaced in mm/page_table.cc.
    movl $(PHYS(boot_pdpt_low) + PTE_PRESENT_WRITABLE), PHYS(boot_pml4)
    movl $(PHYS(boot_pdpt_high) + PTE_PRESENT_WRITABLE), PHYS(boot_pml4) + 511 * 8
    movl $(PHYS(boot_pd) + PTE_PRESENT_WRITABLE), PHYS(boot_pdpt_low)
    movl $(PHYS(boot_pd) + PTE_PRESENT_WRITABLE), PHYS(boot_pdpt_high) + 510 * 8
    xor %ecx, %ecx
3:  mov %ecx, %eax
    shl $21, %eax
    or $PDE_2M_PRESENT_WRITABLE, %eax
    mov %eax, PHYS(boot_pd)(, %ecx, 8)
    inc %ecx
    cmp $512, %ecx
    jb 3b

    mov %cr4, %eax
    or $CR4_PAE, %eax
    mov %eax, %cr4
    mov $PHYS(boot_pml4), %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    or $(CR0_PG | CR0_WP | CR0_PE), %eax
    mov %eax, %cr0
    lgdt PHYS(boot_gdt_ptr)
    ljmp $0x08, $PHYS(boot64_low)

no_long_mode:
    mov $PHYS(no_long_mode_message), %esi
1:  movb (%esi), %al
    test %al, %al
    jz 2f
    mov $COM1, %dx
    outb %al, %dx
    inc %esi
    jmp 1b
2:  cli
    hlt
    jmp 2b

    .code64
boot64_low:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    movabs $boot64_high, %rax
    jmp *%rax

boot64_high:
    movabs $boot_stack_top, %rsp
    xor %ebp, %ebp                             // ends the backtrace's rbp chain
    // SSE on before any compiled code: see the SSE note in CMakeLists.txt.
    mov %cr0, %rax
    and $~CR0_EM, %rax
    or $CR0_MP, %rax
    mov %rax, %cr0
    mov %cr4, %rax
    or $(CR4_OSFXSR | CR4_OSXMMEXCPT), %rax
    mov %rax, %cr4
    call kernel_entry
4:  cli
    hlt
    jmp 4b

    .section .rodata
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff                   // 0x08: 64-bit code, DPL 0 (SDM Vol. 3A 3.4.5)
    .quad 0x00cf92000000ffff                   // 0x10: data, DPL 0
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long PHYS(boot_gdt)
no_long_mode_message:
    .asciz "Pollux: this CPU has no 64-bit long mode; stopping.\r\n"

    .section .bss
    .balign 4096
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096
    .global boot_tsc, boot_info_paddr, boot_protocol
boot_tsc:        .quad 0
boot_info_paddr: .quad 0
boot_protocol:   .long 0

// Every stack sits on top of a guard page that mm/page_table.cc leaves unmapped, so an
// overflow faults instead of corrupting its neighbour; the IST stacks take #DF, NMI and #MC,
// which must work even when the faulting stack is the broken one.
    .section .bss.stacks, "aw", @nobits
    .balign 4096
    .global boot_stack_guard, boot_stack_top
    .global ist_df_guard, ist_df_top, ist_nmi_guard, ist_nmi_top, ist_mc_guard, ist_mc_top
boot_stack_guard: .skip 4096
                  .skip BOOT_STACK_SIZE
boot_stack_top:
ist_df_guard:     .skip 4096
                  .skip IST_STACK_SIZE
ist_df_top:
ist_nmi_guard:    .skip 4096
                  .skip IST_STACK_SIZE
ist_nmi_top:
ist_mc_guard:     .skip 4096
                  .skip IST_STACK_SIZE
ist_mc_top:
