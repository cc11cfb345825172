// A program whose shared library is found through its DT_RUNPATH "$ORIGIN/../lib": built as
// both (ORIGIN_LIBRARY: the library). On the host the pair sits in apps/origin/{bin,lib}; in
// the guest the program is /bin/NAME, so qemu/dynlibs packs the library at /lib/, where the
// guest's ld.so looks. Exits 9 when the library answered.
#ifdef ORIGIN_LIBRARY
int origin_answer(void) { return 42; }
#else
#include <stdio.h>

int origin_answer(void);

int main(void) {
    printf("origin: the library answered %d\n", origin_answer());
    return origin_answer() == 42 ? 9 : 1;
}
#endif
