#include "user/application.h"

#include <elf.h>
#include <linux/errno.h>

#include <cstring>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/gdt.h"
#include "arch/x86_64/interrupt_frame.h"
#include "console/printk.h"
#include "elf/elf_loader.h"
#include "fs/root_fs.h"
#include "kernel/spin_lock.h"
#include "platform/clock.h"
#include "sched/scheduler.h"
#include "user/address_space.h"
#include "user/user_mode.h"
#include "user/vdso.h"

namespace pollux::user {
namespace {

constexpr int kMaxArgs = 64;
// What a process started by a minimal init would see; no way to set more yet.
const char* const kEnvironment[] = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", "TERM=linux"};
constexpr int kEnvCount = sizeof kEnvironment / sizeof kEnvironment[0];

// Builds the stack downward from the top, through copy_in (the pages are the app's).
class StackWriter {
public:
    explicit StackWriter(uint64_t top) : sp_(top) {}
    uint64_t push_bytes(const void* data, size_t len) {
        sp_ -= len;
        ok_ = copy_in(sp_, data, len) && ok_;
        return sp_;
    }
    uint64_t push_string(const char* s) { return push_bytes(s, strlen(s) + 1); }
    void push_word(uint64_t w) { push_bytes(&w, sizeof w); }
    void align(uint64_t a) { sp_ &= ~(a - 1); }
    uint64_t sp() const { return sp_; }
    bool ok() const { return ok_; }

private:
    uint64_t sp_;
    bool ok_ = true;
};

int split_args(char* text, const char* argv[]) {
    int argc = 0;
    for (char* p = text; *p && argc < kMaxArgs;) {
        while (*p == ' ') *p++ = '\0';
        if (!*p) break;
        argv[argc++] = p;
        while (*p && *p != ' ') ++p;
    }
    return argc;
}

// The bytes of the program's interpreter, a regular file of the root tree (the boot archive,
// where qemu/run and qemu/mkimage pack it at its path on the host). Read in place: nothing has
// written to the tree yet, so an archive file's data is the archive's, whole (len == size).
bool load_interpreter(const char* path, elf::LoadedImage& interp) {
    fs::RamFs& tree = fs::root_fs();
    const uint8_t* data = nullptr;
    size_t size = 0;
    const char* problem = nullptr;
    {
        LockGuard guard(tree.mutex());
        fs::Lookup l = tree.lookup(tree.root(), path, strlen(path), true);
        if (l.error == ENOENT)
            problem =
                "no such file in the boot archive (a dynamically linked program needs its ld.so and "
                "libraries packed: qemu/run and qemu/mkimage do that)";
        else if (l.error != 0)
            problem = "its path cannot be resolved";
        else if (!l.node->is_regular() || l.node->is_generated())
            problem = "not a regular file";
        if (problem == nullptr) {
            LockGuard contents(l.node->inode->lock);
            if (l.node->inode->len != l.node->inode->size) {
                problem = "a sparse file";
            } else {
                data = l.node->inode->data;
                size = size_t(l.node->inode->size);
            }
        }
    }
    if (problem != nullptr) {
        printk(KERN_ERR "elf: cannot load the interpreter %s: %s\n", path, problem);
        return false;
    }
    return elf::load_interpreter(path, data, size, interp);
}

}  // namespace

bool start_application(const uint8_t* file, size_t size, const char* args) {
    elf::LoadedImage image;
    if (!elf::load(file, size, image)) return false;
    // A dynamically linked program starts in its interpreter, which finds the program through
    // AT_PHDR and AT_ENTRY and itself through AT_BASE (fs/binfmt_elf.c: elf_entry).
    elf::LoadedImage interp;
    if (image.interpreter != nullptr && !load_interpreter(image.interpreter, interp)) return false;
    uint64_t entry = image.interpreter != nullptr ? interp.entry : image.entry;
    set_brk_start(image.end);
    if (map_anonymous(kStackTop - kStackSize, kStackSize, kProtRead | kProtWrite) < 0) return false;
    uint64_t vdso = map_vdso();

    static char arg_text[1024];
    strncpy(arg_text, args, sizeof arg_text - 1);
    const char* argv[kMaxArgs];
    int argc = split_args(arg_text, argv);
    if (argc == 0) argv[argc++] = "app";

    // Strings first, at the top, in Linux's order: the file name, then the strings argv and
    // envp point to; the platform string and AT_RANDOM's bytes below them.
    StackWriter w(kStackTop);
    w.push_word(0);
    uint64_t execfn = w.push_string(argv[0]);
    uint64_t env_ptrs[kEnvCount];
    for (int i = kEnvCount - 1; i >= 0; --i) env_ptrs[i] = w.push_string(kEnvironment[i]);
    uint64_t arg_ptrs[kMaxArgs];
    for (int i = argc - 1; i >= 0; --i) arg_ptrs[i] = w.push_string(argv[i]);
    uint64_t platform = w.push_string("x86_64");
    uint8_t random[16];
    clock::entropy(random, sizeof random);
    w.align(16);
    uint64_t random_at = w.push_bytes(random, sizeof random);

    const uint64_t auxv[][2] = {
        // First, where Linux's x86_64 puts it (ARCH_DLINFO); AT_IGNORE when there is none.
        {vdso ? uint64_t(AT_SYSINFO_EHDR) : uint64_t(AT_IGNORE), vdso},
        {AT_HWCAP, cpu::cpuid(1).edx},  // Linux's ELF_HWCAP on x86: CPUID.1:EDX
        {AT_PAGESZ, 4096},
        {AT_CLKTCK, 100},  // USER_HZ
        {AT_PHDR, image.phdr},
        {AT_PHENT, image.phent},
        {AT_PHNUM, image.phnum},
        {AT_BASE, interp.base},  // 0 without an interpreter
        {AT_FLAGS, 0},
        {AT_ENTRY, image.entry},
        {AT_UID, 0},
        {AT_EUID, 0},
        {AT_GID, 0},
        {AT_EGID, 0},
        {AT_SECURE, 0},
        {AT_RANDOM, random_at},
        {AT_EXECFN, execfn},
        {AT_PLATFORM, platform},
        {AT_NULL, 0},
    };
    constexpr size_t kAuxWords = sizeof auxv / sizeof(uint64_t);
    // argc, argv[], NULL, envp[], NULL, auxv: rsp must be 16-aligned at argc (x86-64 psABI 3.4.1).
    size_t words = 1 + argc + 1 + kEnvCount + 1 + kAuxWords;
    if (words % 2) w.push_word(0);
    for (int i = int(kAuxWords / 2) - 1; i >= 0; --i) {
        w.push_word(auxv[i][1]);
        w.push_word(auxv[i][0]);
    }
    w.push_word(0);
    for (int i = kEnvCount - 1; i >= 0; --i) w.push_word(env_ptrs[i]);
    w.push_word(0);
    for (int i = argc - 1; i >= 0; --i) w.push_word(arg_ptrs[i]);
    w.push_word(uint64_t(argc));
    if (!w.ok()) {
        printk("app: out of memory for the initial stack\n");
        return false;
    }

    // Every register 0 at the entry point: _start takes rdx as a function for atexit and
    // ignores it when 0 (the psABI's rtld_fini).
    InterruptFrame frame{};
    frame.rip = entry;
    frame.cs = gdt::kUserCode;
    frame.ss = gdt::kUserData;
    frame.rsp = w.sp();
    frame.rflags = 0x202;  // IF, and the always-one bit 1
    if (image.interpreter != nullptr)
        printk(KERN_INFO
               "app: %s loaded (dynamic %s, entry %#lx, interpreter %s at %#lx, its entry %#lx), %d argument%s; "
               "starting it at CPL3\n",
               argv[0], image.base ? "PIE" : "ET_EXEC", image.entry, image.interpreter, interp.base, interp.entry, argc,
               argc == 1 ? "" : "s");
    else
        printk(KERN_INFO "app: %s loaded (%s, entry %#lx), %d argument%s; starting it at CPL3\n", argv[0],
               image.base ? "static-pie" : "ET_EXEC", image.entry, argc, argc == 1 ? "" : "s");
    sched::Thread* main = create_thread(frame, 0, 0);
    if (!main) return false;
    main->name = "main";
    sched::make_runnable(main);
    return true;
}

}  // namespace pollux::user
