// Unit tests for named AF_UNIX stream sockets (eventpoll/unix_listen.cc), hosted: names in the
// abstract namespace and, through the hosted platform::unix_mknod, on the host's file system.
// They cover what the conformance suite cannot reach from outside: blocked connect() and
// accept() calls woken by another thread's close or connect, the pair references that keep a
// listener's memory alive under a connect in flight (ASan watches), and the wake-up key a
// listener's waiters get.
#include <gtest/gtest.h>
#include <linux/errno.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstring>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "eventpoll/fd_table.h"
#include "eventpoll/sys.h"
#include "eventpoll/unix_stream.h"
#include "wake_recorder.h"

namespace pollux {
namespace {

using namespace std::chrono_literals;

struct Addr {
    sockaddr_un sun{};
    int len = 0;
};

Addr abstract(const std::string& name) {
    static int counter = 0;
    std::string unique = name + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    Addr a;
    a.sun.sun_family = abi::kAF_UNIX;
    std::memcpy(a.sun.sun_path + 1, unique.data(), unique.size());
    a.len = static_cast<int>(offsetof(sockaddr_un, sun_path) + 1 + unique.size());
    return a;
}

class UnixListenTest : public ::testing::Test {
protected:
    void SetUp() override { unix_register(); }
    void TearDown() override {
        for (int fd : fds_) sys_close(fd);
    }
    int sock(int flags = 0) {
        int fd = static_cast<int>(sys_socket(abi::kAF_UNIX, abi::kSOCK_STREAM | flags, 0));
        EXPECT_GE(fd, 0);
        if (fd >= 0) fds_.push_back(fd);
        return fd;
    }
    int listener(const Addr& a, int backlog) {
        int fd = sock();
        EXPECT_EQ(sys_bind(fd, &a.sun, a.len), 0);
        EXPECT_EQ(sys_listen(fd, backlog), 0);
        return fd;
    }
    void close_fd(int fd) {
        EXPECT_EQ(sys_close(fd), 0);
        std::erase(fds_, fd);
    }
    std::vector<int> fds_;
};

TEST_F(UnixListenTest, SocketTypesAndProtocols) {
    for (int type : {abi::kSOCK_DGRAM, abi::kSOCK_SEQPACKET, abi::kSOCK_RAW}) {
        int fd = static_cast<int>(sys_socket(abi::kAF_UNIX, type, 0));
        ASSERT_GE(fd, 0);
        int got = 0;
        unsigned len = sizeof got;
        EXPECT_EQ(sys_getsockopt(fd, abi::kSOL_SOCKET, abi::kSO_TYPE, &got, &len), 0);
        EXPECT_EQ(got, type == abi::kSOCK_RAW ? abi::kSOCK_DGRAM : type);  // unix_create()
        EXPECT_EQ(sys_close(fd), 0);
    }
    EXPECT_EQ(sys_socket(abi::kAF_UNIX, 4, 0), -ESOCKTNOSUPPORT);  // SOCK_RDM
    EXPECT_EQ(sys_socket(abi::kAF_UNIX, abi::kSOCK_STREAM, 2), -EPROTONOSUPPORT);
}

// A datagram server in Pollux's own eventpoll: a client's sendto wakes its epoll_wait, and
// recvfrom names a bound sender; the server's answer reaches the client by that name.
TEST_F(UnixListenTest, DatagramServerWakesOnSendto) {
    Addr srv_addr = abstract("dgram-srv");
    Addr cli_addr = abstract("dgram-cli");
    int srv = static_cast<int>(sys_socket(abi::kAF_UNIX, abi::kSOCK_DGRAM, 0));
    int cli = static_cast<int>(sys_socket(abi::kAF_UNIX, abi::kSOCK_DGRAM, 0));
    ASSERT_GE(srv, 0);
    ASSERT_GE(cli, 0);
    fds_.push_back(srv);
    fds_.push_back(cli);
    ASSERT_EQ(sys_bind(srv, &srv_addr.sun, srv_addr.len), 0);
    ASSERT_EQ(sys_bind(cli, &cli_addr.sun, cli_addr.len), 0);
    int ep = static_cast<int>(sys_epoll_create1(0));
    ASSERT_GE(ep, 0);
    fds_.push_back(ep);
    abi::EpollEvent e{};
    e.events = abi::kEPOLLIN;
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, srv, &e), 0);
    abi::EpollEvent out[2] = {};
    auto woken = std::async(std::launch::async, [&] { return sys_epoll_wait(ep, out, 2, 2000); });
    EXPECT_EQ(woken.wait_for(30ms), std::future_status::timeout);
    ASSERT_EQ(sys_sendto(cli, "ask", 3, 0, &srv_addr.sun, srv_addr.len), 3);
    ASSERT_EQ(woken.wait_for(2s), std::future_status::ready);
    EXPECT_EQ(woken.get(), 1);
    char buf[8];
    sockaddr_un from{};
    unsigned flen = sizeof from;
    ASSERT_EQ(sys_recvfrom(srv, buf, sizeof buf, 0, &from, &flen), 3);
    ASSERT_EQ(flen, cli_addr.len);
    EXPECT_EQ(sys_sendto(srv, "answer", 6, 0, &from, flen), 6);
    EXPECT_EQ(sys_recvfrom(cli, buf, sizeof buf, 0, nullptr, nullptr), 6);
    // The server goes: a client connected to it is refused on its next send.
    ASSERT_EQ(sys_connect(cli, &srv_addr.sun, srv_addr.len), 0);
    close_fd(srv);
    EXPECT_EQ(sys_sendto(cli, "x", 1, 0, nullptr, 0), -ECONNREFUSED);
    EXPECT_EQ(sys_sendto(cli, "x", 1, 0, nullptr, 0), -ENOTCONN);
}

TEST_F(UnixListenTest, ListenerCloseWakesABlockedConnectWithRefusal) {
    Addr a = abstract("full");
    int l = listener(a, 0);
    int c1 = sock();
    ASSERT_EQ(sys_connect(c1, &a.sun, a.len), 0);  // backlog 0 holds one
    int c2 = sock();
    auto blocked = std::async(std::launch::async, [&] { return sys_connect(c2, &a.sun, a.len); });
    EXPECT_EQ(blocked.wait_for(100ms), std::future_status::timeout);
    close_fd(l);  // the waiter holds a reference: its look at the listener must stay valid
    ASSERT_EQ(blocked.wait_for(2s), std::future_status::ready);
    EXPECT_EQ(blocked.get(), -ECONNREFUSED);
    char byte;
    EXPECT_EQ(sys_read(c1, &byte, 1), -ECONNRESET);  // never accepted
    EXPECT_EQ(sys_read(c1, &byte, 1), 0);
}

TEST_F(UnixListenTest, ConnectWakesABlockedAcceptAndPollers) {
    Addr a = abstract("accept");
    int l = listener(a, 4);
    test::WakeRecorder rec(FdTable::instance().get(l));
    auto accepted = std::async(std::launch::async, [&] { return sys_accept4(l, nullptr, nullptr, 0); });
    EXPECT_EQ(accepted.wait_for(50ms), std::future_status::timeout);
    int c = sock();
    ASSERT_EQ(sys_connect(c, &a.sun, a.len), 0);
    ASSERT_EQ(accepted.wait_for(2s), std::future_status::ready);
    int s = static_cast<int>(accepted.get());
    ASSERT_GE(s, 0);
    fds_.push_back(s);
    ASSERT_FALSE(rec.keys().empty());
    EXPECT_EQ(rec.keys().front(), abi::kEPOLLIN | abi::kEPOLLRDNORM);
    EXPECT_EQ(sys_write(c, "x", 1), 1);
    char byte = 0;
    EXPECT_EQ(sys_read(s, &byte, 1), 1);
    EXPECT_EQ(byte, 'x');
}

// The server loop of an epoll program over named sockets, in Pollux's own eventpoll (what the
// unikernel runs; the conformance scenarios poll instead, since the hosted runtime's epoll
// does not take the host's AF_UNIX descriptors): a blocked epoll_wait wakes for the listener
// when a client connects, for the accepted socket when it sends, and with EPOLLHUP and
// EPOLLRDHUP when it closes; an edge-triggered listener reports each new connection once.
TEST_F(UnixListenTest, EpollWaitsOnListenerAndConnections) {
    Addr a = abstract("epoll");
    int l = listener(a, 4);
    int ep = static_cast<int>(sys_epoll_create1(0));
    ASSERT_GE(ep, 0);
    fds_.push_back(ep);
    abi::EpollEvent e{};
    e.events = abi::kEPOLLIN | abi::kEPOLLET;
    e.data = 1;
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, l, &e), 0);
    abi::EpollEvent out[4] = {};
    // epoll_event is packed, as on x86_64 Linux: its data is read by value, not bound by reference.
    auto data_of = [](const abi::EpollEvent& ev) -> uint64_t { return ev.data; };
    EXPECT_EQ(sys_epoll_wait(ep, out, 4, 0), 0);  // nothing pending: a listener is not writable
    int c = sock();
    auto woken = std::async(std::launch::async, [&] { return sys_epoll_wait(ep, out, 4, 2000); });
    EXPECT_EQ(woken.wait_for(50ms), std::future_status::timeout);
    ASSERT_EQ(sys_connect(c, &a.sun, a.len), 0);
    ASSERT_EQ(woken.wait_for(2s), std::future_status::ready);
    ASSERT_EQ(woken.get(), 1);
    EXPECT_EQ(out[0].events, abi::kEPOLLIN);
    EXPECT_EQ(data_of(out[0]), 1u);
    EXPECT_EQ(sys_epoll_wait(ep, out, 4, 0), 0);  // edge-triggered: once
    int s = static_cast<int>(sys_accept4(l, nullptr, nullptr, 0));
    ASSERT_GE(s, 0);
    fds_.push_back(s);
    e.events = abi::kEPOLLIN | abi::kEPOLLRDHUP;
    e.data = 2;
    ASSERT_EQ(sys_epoll_ctl(ep, abi::kEPOLL_CTL_ADD, s, &e), 0);
    EXPECT_EQ(sys_epoll_wait(ep, out, 4, 0), 0);
    EXPECT_EQ(sys_write(c, "hi", 2), 2);
    ASSERT_EQ(sys_epoll_wait(ep, out, 4, 1000), 1);
    EXPECT_EQ(out[0].events, abi::kEPOLLIN);
    EXPECT_EQ(data_of(out[0]), 2u);
    char buf[4];
    EXPECT_EQ(sys_read(s, buf, sizeof buf), 2);
    close_fd(c);  // unix_release_sock() shuts the survivor down both ways: EPOLLHUP too
    ASSERT_EQ(sys_epoll_wait(ep, out, 4, 1000), 1);
    EXPECT_EQ(out[0].events, abi::kEPOLLIN | abi::kEPOLLHUP | abi::kEPOLLRDHUP);
    EXPECT_EQ(sys_read(s, buf, sizeof buf), 0);
}

TEST_F(UnixListenTest, ClientOutlivesItsAcceptedPeerAndTheListener) {
    Addr a = abstract("life");
    int l = listener(a, 4);
    int c = sock();
    ASSERT_EQ(sys_connect(c, &a.sun, a.len), 0);
    int s = static_cast<int>(sys_accept4(l, nullptr, nullptr, 0));
    ASSERT_GE(s, 0);
    EXPECT_EQ(sys_write(c, "unread", 6), 6);
    close_fd(l);
    EXPECT_EQ(sys_close(s), 0);  // drops unread data: the client learns ECONNRESET
    char byte;
    EXPECT_EQ(sys_read(c, &byte, 1), -ECONNRESET);
    EXPECT_EQ(sys_sendto(c, "x", 1, abi::kMSG_NOSIGNAL, nullptr, 0), -EPIPE);
}

TEST_F(UnixListenTest, HostedPathsAreHostSocketNodes) {
    char dir[] = "/tmp/unix-listen-test-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    std::string path = std::string(dir) + "/s";
    Addr a;
    a.sun.sun_family = abi::kAF_UNIX;
    std::memcpy(a.sun.sun_path, path.c_str(), path.size() + 1);
    a.len = static_cast<int>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    int l = listener(a, 1);
    struct stat st {};
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_TRUE(S_ISSOCK(st.st_mode));
    int c = sock();
    EXPECT_EQ(sys_connect(c, &a.sun, a.len), 0);
    EXPECT_EQ(sys_bind(sock(), &a.sun, a.len), -EADDRINUSE);
    // A second bind: the node's checks first, then EINVAL, and nothing left behind.
    Addr fresh = a;
    std::string fresh_path = path + "2";
    std::memcpy(fresh.sun.sun_path, fresh_path.c_str(), fresh_path.size() + 1);
    fresh.len = a.len + 1;
    EXPECT_EQ(sys_bind(l, &fresh.sun, fresh.len), -EINVAL);
    EXPECT_NE(access(fresh_path.c_str(), F_OK), 0);
    Addr missing = a;
    std::string missing_path = std::string(dir) + "/no/s";
    std::memcpy(missing.sun.sun_path, missing_path.c_str(), missing_path.size() + 1);
    missing.len = static_cast<int>(offsetof(sockaddr_un, sun_path) + missing_path.size() + 1);
    EXPECT_EQ(sys_bind(l, &missing.sun, missing.len), -ENOENT);
    close_fd(l);
    EXPECT_EQ(sys_connect(sock(), &a.sun, a.len), -ECONNREFUSED);  // the node stays, nobody listens
    unlink(path.c_str());
    EXPECT_EQ(sys_connect(sock(), &a.sun, a.len), -ENOENT);
    rmdir(dir);
}

}  // namespace
}  // namespace pollux
