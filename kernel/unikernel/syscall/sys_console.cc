// The console as file descriptors 0-2, as a process started on a serial terminal sees them:
// one open file description on all three, writes go to COM1, reads see end of file (there is
// no input path), and it is a character device and a terminal (isatty is true, so stdio
// line-buffers stdout as it would on ttyS0, and the app's output interleaves with the
// kernel's in the order it happened). fstat() of any descriptor lives here too.
#include <asm/ioctls.h>
#include <asm/stat.h>
#include <asm/termbits.h>
#include <linux/errno.h>

#include <cstring>
#include <new>

#include "console/serial.h"
#include "eventpoll/fd_table.h"
#include "eventpoll/file.h"
#include "eventpoll/sys.h"
#include "syscall/sys_fs.h"
#include "syscall/syscall.h"
#include "user/address_space.h"

namespace pollux::sys {
namespace {

constexpr uint64_t kTtyS0Rdev = (4 << 8) | 64;  // major 4, minor 64 (Documentation/admin-guide/devices.txt)

bool user_ok(uint64_t addr, uint64_t len, int prot) { return len == 0 || user::accessible(addr, len, prot); }

class ConsoleFile final : public File {
public:
    ConsoleFile() : File(FileKind::other, FMODE_READ | FMODE_WRITE, abi::kO_RDWR) {}
    // Like /dev/null: never blocks either way.
    PollMask poll(PollTable*) override {
        return abi::kEPOLLIN | abi::kEPOLLRDNORM | abi::kEPOLLOUT | abi::kEPOLLWRNORM;
    }
    bool can_read() const override { return true; }
    bool can_write() const override { return true; }
    kstd::Result<size_t> read(IoIter&, bool) override { return size_t{0}; }
    kstd::Result<size_t> write(IoIter& from, bool) override {
        size_t total = 0;
        char chunk[256];
        for (;;) {
            size_t n = from.copy_in(chunk, sizeof chunk);
            if (n == 0) break;
            console::serial_write(chunk, n);
            total += n;
        }
        if (total == 0 && from.faulted()) return kstd::err(EFAULT);
        return total;
    }
    kstd::Result<long> ioctl(unsigned long cmd, uintptr_t arg) override {
        if (cmd == TCGETS) {
            if (!user_ok(arg, sizeof(termios), user::kProtWrite)) return kstd::err(EFAULT);
            // A serial console after `stty sane`: 38400 8N1, canonical mode with echo.
            termios t{};
            t.c_iflag = ICRNL | IXON;
            t.c_oflag = OPOST | ONLCR;
            t.c_cflag = B38400 | CS8 | CREAD | HUPCL | CLOCAL;
            t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | IEXTEN | ECHOCTL | ECHOKE;
            memcpy(reinterpret_cast<void*>(arg), &t, sizeof t);
            return 0L;
        }
        if (cmd == TIOCGWINSZ) {
            struct Winsize {
                uint16_t rows, cols, xpixel, ypixel;
            } ws{24, 80, 0, 0};
            if (!user_ok(arg, sizeof ws, user::kProtWrite)) return kstd::err(EFAULT);
            memcpy(reinterpret_cast<void*>(arg), &ws, sizeof ws);
            return 0L;
        }
        return kstd::err(ENOTTY);
    }
};

}  // namespace

// What Linux's fstat reports for each kind of file: the tree's files are the tree's (sys_fs.cc),
// the console is ttyS0, sockets live on sockfs, pipes on pipefs, the rest are anonymous inodes
// (mode 0600 and no type).
void fill_stat(File& file, struct stat& st) {
    if (fill_node_stat(file, st)) return;
    memset(&st, 0, sizeof st);
    st.st_nlink = 1;
    st.st_blksize = 4096;
    st.st_ino = file.ino();
    switch (file.kind()) {
    case FileKind::inet:
    case FileKind::unix_stream:
        st.st_mode = 0140777;  // S_IFSOCK
        st.st_dev = 8;
        break;
    case FileKind::pipe:
        st.st_mode = 010600;  // S_IFIFO
        st.st_dev = 13;
        break;
    case FileKind::other:
        st.st_dev = 5;
        st.st_mode = 020620;  // S_IFCHR | rw--w----
        st.st_rdev = kTtyS0Rdev;
        st.st_blksize = 1024;
        break;
    default:
        st.st_mode = 0600;
        st.st_dev = 14;
        break;
    }
}

void install_console_fds() {
    auto* console = new (std::nothrow) ConsoleFile;
    if (console == nullptr) return;
    for (int fd = 0; fd < 3; ++fd) {
        if (fd > 0) console->get();
        (void)FdTable::instance().install_at(fd, FileRef(console), false);
    }
}

int64_t sys_ioctl(const Args& a) { return pollux::sys_ioctl(int(a.a0), a.a1, a.a2); }

int64_t sys_fstat(const Args& a) {
    FileRef file = FdTable::instance().get(int(a.a0));
    if (!file) return -EBADF;
    if (!user_ok(a.a1, sizeof(struct stat), user::kProtWrite)) return -EFAULT;
    fill_stat(*file, *reinterpret_cast<struct stat*>(a.a1));
    return 0;
}

}  // namespace pollux::sys
