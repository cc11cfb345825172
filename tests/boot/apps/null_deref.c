// Dereferences NULL: the kernel reports the fault and ends the app as SIGSEGV would.
#include <stdio.h>

int main(void) {
    printf("about to dereference NULL\n");
    fflush(stdout);
    volatile int* p = 0;
    return *p;
}
