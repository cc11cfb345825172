// A dynamically linked C program (gcc's default PIE against the shared glibc, or musl-gcc's
// against musl, started by its PT_INTERP, ld.so): checks what the kernel gives ld.so and what
// ld.so then built, and the calls such programs make at start-up, on Linux and in the
// unikernel alike; exits with status 7 when every check passed (1 otherwise).
#define _GNU_SOURCE
#define CHECK_NAME "dynamic"
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"

extern void _start(void);

// Called through a file mapping of this program's own text (mapped_text below).
__attribute__((noinline)) int answer(int x) { return x * 6; }

struct seen {
    int objects, libc, interpreter_at_base;
    uintptr_t program_phdr;
    const ElfW(Phdr) * text;  // the program's executable PT_LOAD that holds answer()
    uintptr_t program_base;
};

static int each_object(struct dl_phdr_info* info, size_t size, void* data) {
    (void)size;
    struct seen* s = data;
    if (s->objects++ == 0) {  // the program comes first
        s->program_phdr = (uintptr_t)info->dlpi_phdr;
        s->program_base = info->dlpi_addr;
        for (int i = 0; i < info->dlpi_phnum; ++i) {
            const ElfW(Phdr)* p = &info->dlpi_phdr[i];
            uintptr_t at = (uintptr_t)answer - info->dlpi_addr;
            if (p->p_type == PT_LOAD && (p->p_flags & PF_X) && at >= p->p_vaddr && at < p->p_vaddr + p->p_filesz)
                s->text = p;
        }
    }
#ifdef __GLIBC__
    if (strstr(info->dlpi_name, "libc.so.6")) ++s->libc;
    if (strstr(info->dlpi_name, "ld-linux-x86-64.so.2") && info->dlpi_addr == getauxval(AT_BASE))
        ++s->interpreter_at_base;
#else
    // musl's ld.so is its libc, one object.
    if (strstr(info->dlpi_name, "ld-musl-x86_64.so.1") && info->dlpi_addr == getauxval(AT_BASE)) {
        ++s->libc;
        ++s->interpreter_at_base;
    }
#endif
    return 0;
}

// MAP_FIXED over the middle page of an earlier mapping (as ld.so maps a library's span, then
// each segment over it), from a file, PROT_READ|PROT_EXEC: the code there runs, the pages on
// either side keep their own rights and contents.
static void mapped_text(const struct seen* s) {
    CHECK(s->text != NULL);
    if (s->text == NULL) return;
    long page = sysconf(_SC_PAGESIZE);
    uintptr_t offset = s->text->p_offset + ((uintptr_t)answer - s->program_base - s->text->p_vaddr);
    int fd = open("/proc/self/exe", O_RDONLY);
    CHECK(fd >= 0);
    char* area = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(area != MAP_FAILED);
    if (fd < 0 || area == MAP_FAILED) return;
    memset(area, 'a', 3 * page);
    char* text = mmap(area + page, page, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_FIXED, fd,
                      (off_t)(offset & ~(uintptr_t)(page - 1)));
    CHECK(text == area + page);
    if (text == area + page) {
        int (*copy)(int) = (int (*)(int))(text + (offset & (uintptr_t)(page - 1)));
        CHECK(copy(7) == 42);
    }
    // W^X: Pollux refuses a writable and executable mapping, of a file too, where Linux allows it.
    struct utsname u;
    CHECK(uname(&u) == 0);
    int pollux = strstr(u.release, "pollux") != NULL;
    void* wx = mmap(NULL, page, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE, fd, 0);
    CHECK(pollux ? wx == MAP_FAILED && errno == EACCES : wx != MAP_FAILED);
    if (wx != MAP_FAILED) munmap(wx, page);
    int rwx = mprotect(text, page, PROT_READ | PROT_WRITE | PROT_EXEC);
    CHECK(pollux ? rwx == -1 && errno == EACCES : rwx == 0);
    CHECK(mprotect(text, page, PROT_READ | PROT_EXEC) == 0);
    CHECK(area[0] == 'a' && area[page - 1] == 'a' && area[2 * page] == 'a' && area[3 * page - 1] == 'a');
    area[0] = 'b';
    area[2 * page] = 'c';  // still writable
    CHECK(area[0] == 'b' && area[2 * page] == 'c');
    CHECK(munmap(area, 3 * page) == 0);
    close(fd);
}

static void* thread_name(void* out) {
    prctl(PR_GET_NAME, (char*)out);
    return NULL;
}

// prctl(2), which programs call at start-up (Redis: PR_SET_NAME through pthread_setname_np,
// PR_SET_THP_DISABLE), with Linux's answers: a name cut to 15 bytes and inherited by a new
// thread, EINVAL for an unknown option or a bad argument, EFAULT for a bad pointer.
static void prctl_checks(void) {
    char name[16] = {0};
    CHECK(prctl(PR_SET_NAME, "a-name-longer-than-fifteen") == 0);
    CHECK(prctl(PR_GET_NAME, name) == 0 && strcmp(name, "a-name-longer-t") == 0);
    char in_thread[16] = {0};
    pthread_t t;
    CHECK(pthread_create(&t, NULL, thread_name, in_thread) == 0 && pthread_join(t, NULL) == 0);
    CHECK(strcmp(in_thread, "a-name-longer-t") == 0);
    CHECK(prctl(PR_GET_NAME, (char*)8) == -1 && errno == EFAULT);
    CHECK(prctl(PR_GET_DUMPABLE) == 1);
    CHECK(prctl(PR_SET_DUMPABLE, 2) == -1 && errno == EINVAL);
    CHECK(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0 && prctl(PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1);
    CHECK(prctl(PR_SET_THP_DISABLE, 1, 1, 0, 0) == -1 && errno == EINVAL);
    CHECK(prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0) == -1 && errno == EINVAL);
    CHECK(prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0);
    CHECK(prctl(PR_SET_PDEATHSIG, 65) == -1 && errno == EINVAL);
    int signal = -1;
    CHECK(prctl(PR_SET_PDEATHSIG, 9) == 0 && prctl(PR_GET_PDEATHSIG, &signal) == 0 && signal == 9);
    CHECK(prctl(0x7fff0000) == -1 && errno == EINVAL);
}

// membarrier(2), which musl's dynamic linker calls when a thread is created: the private
// expedited barrier once registered, EINVAL for flags or an unknown command.
// The commands of <linux/membarrier.h>, which musl-gcc's include path does not have.
enum { kQuery = 0, kGlobal = 1, kPrivateExpedited = 8, kRegisterPrivateExpedited = 16 };

static void membarrier_checks(void) {
    long offered = syscall(SYS_membarrier, kQuery, 0, 0);
    CHECK(offered > 0 && (offered & kPrivateExpedited) && (offered & kGlobal));
    CHECK(syscall(SYS_membarrier, kRegisterPrivateExpedited, 0, 0) == 0);
    CHECK(syscall(SYS_membarrier, kPrivateExpedited, 0, 0) == 0);
    CHECK(syscall(SYS_membarrier, kGlobal, 0, 0) == 0);
    CHECK(syscall(SYS_membarrier, kPrivateExpedited, 1, 0) == -1 && errno == EINVAL);
    CHECK(syscall(SYS_membarrier, 1 << 30, 0, 0) == -1 && errno == EINVAL);
}

int main(int argc, char** argv) {
    printf("hello from a dynamically linked %s program, pid %d\n",
#ifdef __GLIBC__
           "glibc",
#else
           "musl",
#endif
           (int)getpid());
    for (int i = 0; i < argc; ++i) printf("argv[%d] = %s\n", i, argv[i]);
    // The kernel's auxv for an interpreter (fs/binfmt_elf.c): the program's headers and entry,
    // the interpreter's base.
    CHECK(getauxval(AT_BASE) != 0);
    CHECK(getauxval(AT_ENTRY) == (uintptr_t)_start);
    CHECK(getauxval(AT_PHENT) == sizeof(ElfW(Phdr)));
    CHECK(getauxval(AT_PAGESZ) == 4096);
    CHECK(getauxval(AT_RANDOM) != 0);
    struct seen s = {0};
    dl_iterate_phdr(each_object, &s);
    CHECK(s.objects >= 2);  // the program, libc.so.6 and ld.so (musl: one), and the vDSO
    CHECK(s.libc == 1);
    CHECK(s.interpreter_at_base == 1);
    CHECK(s.program_phdr == getauxval(AT_PHDR));
    CHECK(getauxval(AT_PHNUM) > 0);
    char* block = malloc(1 << 20);  // glibc's malloc in libc.so.6: mmap for a block this size
    CHECK(block != NULL);
    if (block) memset(block, 1, 1 << 20);
    free(block);
    mapped_text(&s);
    prctl_checks();
    membarrier_checks();
    return check_summary() == 0 ? 7 : 1;
}
