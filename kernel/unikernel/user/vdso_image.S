// The vDSO (vdso/, built and checked by vdso/CMakeLists.txt) as read-only data of the
// kernel: user/vdso.cc copies it into the application's pages. POLLUX_VDSO_IMAGE is its path.
    .section .rodata.vdso, "a"
    .balign 64
    .globl vdso_image_start, vdso_image_end
vdso_image_start:
    .incbin POLLUX_VDSO_IMAGE
vdso_image_end:
