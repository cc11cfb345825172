// The console as file descriptors 0-2, as a process started on a serial terminal sees them:
// writes go to COM1, reads see end of file (no input path yet), and each is a character
// device and a terminal (isatty is true, so stdio line-buffers stdout as it would on ttyS0,
// and the app's output interleaves with the kernel's in the order it happened).
#include <asm/stat.h>
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <linux/errno.h>
#include <linux/fcntl.h>

#include <cstring>

#include "console/serial.h"
#include "syscall/syscall.h"
#include "user/address_space.h"

namespace pollux::sys {
namespace {

constexpr uint64_t kConsoleFds = 3;
constexpr uint64_t kTtyS0Rdev = (4 << 8) | 64;  // major 4, minor 64 (Documentation/admin-guide/devices.txt)

bool user_ok(uint64_t addr, uint64_t len, int prot) {
    return len == 0 || user::accessible(addr, len, prot);
}

int64_t console_write(uint64_t buf, uint64_t len) {
    if (!user_ok(buf, len, user::kProtRead)) return -EFAULT;
    console::serial_write(reinterpret_cast<const char*>(buf), len);
    return int64_t(len);
}

void fill_console_stat(struct stat& st) {
    memset(&st, 0, sizeof st);
    st.st_dev = 5;  // devtmpfs-like
    st.st_ino = 1;
    st.st_mode = 020620;  // S_IFCHR | rw--w----
    st.st_nlink = 1;
    st.st_rdev = kTtyS0Rdev;
    st.st_blksize = 1024;
}

}  // namespace

int64_t sys_read(const Args& a) {
    if (a.a0 >= kConsoleFds) return -EBADF;
    return 0;
}

int64_t sys_write(const Args& a) {
    if (a.a0 == 0 || a.a0 >= kConsoleFds) return -EBADF;
    return console_write(a.a1, a.a2);
}

int64_t sys_writev(const Args& a) {
    struct Iovec {
        uint64_t base, len;
    };
    if (a.a0 == 0 || a.a0 >= kConsoleFds) return -EBADF;
    if (a.a2 > 1024) return -EINVAL;  // UIO_MAXIOV
    if (!user_ok(a.a1, a.a2 * sizeof(Iovec), user::kProtRead)) return -EFAULT;
    auto* iov = reinterpret_cast<const Iovec*>(a.a1);
    int64_t total = 0;
    for (uint64_t i = 0; i < a.a2; ++i) {
        int64_t n = console_write(iov[i].base, iov[i].len);
        if (n < 0) return total ? total : n;
        total += n;
    }
    return total;
}

int64_t sys_close(const Args& a) { return a.a0 < kConsoleFds ? 0 : -EBADF; }

int64_t sys_ioctl(const Args& a) {
    if (a.a0 >= kConsoleFds) return -EBADF;
    if (a.a1 == TCGETS) {
        if (!user_ok(a.a2, sizeof(termios), user::kProtWrite)) return -EFAULT;
        // A serial console after `stty sane`: 38400 8N1, canonical mode with echo.
        termios t{};
        t.c_iflag = ICRNL | IXON;
        t.c_oflag = OPOST | ONLCR;
        t.c_cflag = B38400 | CS8 | CREAD | HUPCL | CLOCAL;
        t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN | ECHOCTL | ECHOKE;
        memcpy(reinterpret_cast<void*>(a.a2), &t, sizeof t);
        return 0;
    }
    if (a.a1 == TIOCGWINSZ) {
        struct Winsize {
            uint16_t rows, cols, xpixel, ypixel;
        } ws{24, 80, 0, 0};
        if (!user_ok(a.a2, sizeof ws, user::kProtWrite)) return -EFAULT;
        memcpy(reinterpret_cast<void*>(a.a2), &ws, sizeof ws);
        return 0;
    }
    return -ENOTTY;
}

int64_t sys_fstat(const Args& a) {
    if (a.a0 >= kConsoleFds) return -EBADF;
    if (!user_ok(a.a1, sizeof(struct stat), user::kProtWrite)) return -EFAULT;
    fill_console_stat(*reinterpret_cast<struct stat*>(a.a1));
    return 0;
}

int64_t sys_newfstatat(const Args& a) {
    // Only fstat's spelling, newfstatat(fd, "", buf, AT_EMPTY_PATH): there is no file system.
    if (!user_ok(a.a1, 1, user::kProtRead)) return -EFAULT;
    if (*reinterpret_cast<const char*>(a.a1) != '\0') return -ENOENT;
    if (!(a.a3 & AT_EMPTY_PATH)) return -ENOENT;
    Args b{a.a0, a.a2, 0, 0, 0, 0, a.frame};
    return sys_fstat(b);
}

}  // namespace pollux::sys
