#include "fs/devices.h"

#include <linux/errno.h>

#include <new>

#include "fs/node_file.h"
#include "kernel/spin_lock.h"
#include "kernel/platform.h"

namespace pollux::fs {
namespace {

// Documentation/admin-guide/devices.txt: the memory devices are major 1.
constexpr uint32_t kMemMajor = 1;
constexpr uint32_t kNull = 3, kZero = 5, kRandom = 8, kUrandom = 9;

// drivers/char/mem.c and random.c: no poll operation (epoll_ctl gives EPERM, poll() sees them
// ready), reads of null end at once, zero and the random devices fill the buffer, every
// write is taken whole, and a seek leaves the position at 0.
class DeviceFile final : public NodeFile {
public:
    DeviceFile(RamFs& fs, Node* node, uint8_t mode, int flags) : NodeFile(FileKind::device, mode, flags, fs, node) {}
    bool can_read() const override { return true; }
    bool can_write() const override { return true; }
    kstd::Result<size_t> read(IoIter& to, bool) override {
        uint32_t minor = node_->inode->rdev & 0xff;
        if (minor == kNull) return size_t{0};
        size_t total = 0;
        char chunk[256];
        while (to.remaining() > 0) {
            size_t n = to.remaining() < sizeof chunk ? to.remaining() : sizeof chunk;
            if (minor == kZero) {
                __builtin_memset(chunk, 0, n);
            } else {
                platform::entropy(chunk, n);
            }
            size_t copied = to.copy_out(chunk, n);
            total += copied;
            if (copied < n) break;
        }
        if (total == 0 && to.faulted()) return kstd::err(EFAULT);
        return total;
    }
    // write_null(): the count, without reading the buffer (an unmapped one is no fault).
    kstd::Result<size_t> write(IoIter& from, bool) override { return from.remaining(); }
    kstd::Result<size_t> write_at(IoIter& from, int64_t) override { return from.remaining(); }
    kstd::Result<int64_t> llseek(int64_t, int) override { return int64_t{0}; }
};

}  // namespace

bool mount_dev(RamFs& fs) {
    Node* root = fs.root();
    Node* dev = nullptr;
    {
        LockGuard guard(fs.mutex());
        dev = root->child("dev", 3);
    }
    if (dev == nullptr) dev = fs.make_dir(root, "dev", 0755, kDevDev);
    if (dev == nullptr || !dev->is_dir()) return false;
    const struct {
        const char* name;
        uint32_t minor;
    } nodes[] = {{"null", kNull}, {"zero", kZero}, {"random", kRandom}, {"urandom", kUrandom}};
    for (const auto& n : nodes) {
        bool exists = false;
        {
            LockGuard guard(fs.mutex());
            exists = dev->child(n.name, __builtin_strlen(n.name)) != nullptr;
        }
        if (exists) continue;  // the archive's own wins
        if (fs.make_chardev(dev, n.name, kMemMajor, n.minor, kDevDev) == nullptr) return false;
    }
    return true;
}

kstd::Result<File*> open_device(RamFs& fs, Node* node, uint8_t mode, int flags) {
    File* f = new (std::nothrow) DeviceFile(fs, node, mode, flags);
    if (f == nullptr) return kstd::err(ENOMEM);
    fs.pin(node);
    return f;
}

}  // namespace pollux::fs
