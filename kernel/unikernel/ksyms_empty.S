// Pass 1 of the link has no symbols yet; gen_ksyms.py writes pass 2's table in the same shape.
    .section .ksyms, "a"
    .balign 8
    .global ksyms_count, ksyms_addrs, ksyms_name_offsets, ksyms_names
ksyms_count:        .quad 0
ksyms_addrs:
ksyms_name_offsets:
ksyms_names:        .byte 0
