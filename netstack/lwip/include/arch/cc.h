/* lwIP's compiler and platform definitions for Pollux. */
#ifndef POLLUX_LWIP_ARCH_CC_H
#define POLLUX_LWIP_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

#define LWIP_ERRNO_STDINCLUDE 1
/* lwIP's own isdigit & co.: glibc's <ctype.h> macros index a locale table the unikernel has
 * no libc to provide. */
#define LWIP_NO_CTYPE_H 1
#define LWIP_TIMEVAL_PRIVATE 0
#define BYTE_ORDER LITTLE_ENDIAN
/* A freestanding build's <limits.h> (the unikernel's) stops at the compiler's own limits, so
 * lwIP would typedef its own ssize_t over the libc headers' one. */
#ifndef SSIZE_MAX
#define SSIZE_MAX __LONG_MAX__
#endif

#ifdef __cplusplus
extern "C" {
#endif
void pollux_lwip_diag(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void pollux_lwip_assert_failed(const char* msg, const char* file, int line) __attribute__((noreturn));
unsigned int pollux_lwip_rand(void);
void pollux_lwip_assert_locked(void);
#ifdef __cplusplus
}
#endif

#define LWIP_PLATFORM_DIAG(x) do { pollux_lwip_diag x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) pollux_lwip_assert_failed(x, __FILE__, __LINE__)

#endif
