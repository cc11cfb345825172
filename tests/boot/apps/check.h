// The checks of the boot tests' C programs, which run on Linux and in the unikernel alike:
// each CHECK counts, and a failed one prints a line starting "FAIL" (the tests reject it) with
// the program, function, line, condition and errno. The program says what it is first, and
// ends with check_summary()'s line and status:
//     #define CHECK_NAME "memory"
//     #include "check.h"
//     ... return check_summary();
#pragma once

#include <errno.h>
#include <stdio.h>
#include <string.h>

#ifndef CHECK_NAME
#error "define CHECK_NAME before including check.h"
#endif

static int checks, failures;

#define CHECK(cond)                                                                                  \
    do {                                                                                             \
        ++checks;                                                                                    \
        if (!(cond)) {                                                                               \
            int saved_errno_ = errno;                                                                \
            ++failures;                                                                              \
            printf("FAIL %s: %s:%d: %s (errno %d %s)\n", CHECK_NAME, __func__, __LINE__, #cond,      \
                   saved_errno_, strerror(saved_errno_));                                            \
        }                                                                                            \
    } while (0)

// "NAME: all N checks passed" and 0, or "NAME: F of N checks failed" and 1.
static inline int check_summary(void) {
    if (failures) {
        printf("%s: %d of %d checks failed\n", CHECK_NAME, failures, checks);
        return 1;
    }
    printf("%s: all %d checks passed\n", CHECK_NAME, checks);
    return 0;
}
