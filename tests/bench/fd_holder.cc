#include "fd_holder.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace tcpbench::fd_holder {

namespace {

constexpr int kMaxFdsPerMessage = 250;  // the kernel's SCM_MAX_FD is 253
constexpr char kGive = 'g', kRelease = 'r', kDone = 'k';

int channel = -1;  // this process's end of the SEQPACKET pair

[[noreturn]] void holder_main(int sock) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    std::vector<int> held;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
    for (;;) {
        char op = 0;
        iovec iov{&op, 1};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0) _exit(0);  // the benchmark is gone
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
            size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            const auto* fds = reinterpret_cast<const int*>(CMSG_DATA(c));
            held.insert(held.end(), fds, fds + n);
        }
        if (op == kRelease) {
            for (int fd : held) close(fd);
            held.clear();
        }
        char done = kDone;
        if (write(sock, &done, 1) != 1) _exit(1);
    }
}

bool transact(char op, const int* fds, int n) {
    iovec iov{&op, 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)] = {};
    if (n > 0) {
        msg.msg_control = control;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
        cmsghdr* c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int) * n);
        std::memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
    }
    char reply = 0;
    return sendmsg(channel, &msg, MSG_NOSIGNAL) == 1 && read(channel, &reply, 1) == 1 && reply == kDone;
}

}  // namespace

bool start() {
    int pair[2];
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return false;
    pid_t pid = fork();
    if (pid < 0) return false;
    if (pid == 0) {
        close(pair[0]);
        holder_main(pair[1]);
    }
    close(pair[1]);
    channel = pair[0];
    return true;
}

bool give(std::vector<int>& fds) {
    for (size_t i = 0; i < fds.size(); i += kMaxFdsPerMessage) {
        int n = static_cast<int>(std::min<size_t>(kMaxFdsPerMessage, fds.size() - i));
        if (!transact(kGive, fds.data() + i, n)) return false;
    }
    for (int fd : fds) close(fd);
    fds.clear();
    return true;
}

bool release_all() { return transact(kRelease, nullptr, 0); }

}  // namespace tcpbench::fd_holder
