// Named AF_UNIX stream sockets: bind(2) on a path (an S_IFSOCK node, mode 0777 & ~umask;
// EADDRINUSE, EINVAL for a second bind, ENOENT/ENOTDIR) and in the abstract namespace (freed on
// close), autobind, listen(2) (EINVAL unbound), connect(2) (ENOENT, ECONNREFUSED, EISCONN, a
// full backlog: EAGAIN or a wait), accept4(2), poll(2) masks and wake-ups, getsockname/getpeername lengths, unlink(2) of a
// listener's name, and what a listener's close does to connections it never accepted.
// Follows net/unix/af_unix.c (unix_bind(), unix_mkname_bsd(), unix_listen(),
// unix_stream_connect(), unix_recvq_full(), unix_accept(), unix_getname(),
// unix_release_sock()) and unix(7). Each scenario works in a fresh mkdtemp("/tmp/...")
// directory and removes it again.
#include "harness.h"

#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

using namespace conf;

namespace {

constexpr socklen_t kFamilyLen = offsetof(sockaddr_un, sun_path);

// A fresh directory for one scenario's names, removed (with the names left in it) afterwards.
class sock_dir {
public:
    sock_dir() { path_ = CHECK(mkdtemp(name_) != nullptr) ? name_ : "/nonexistent"; }
    ~sock_dir()
    {
        for (int i = 0; i < made_; ++i) unlink(path(i).c_str());
        rmdir(name_);
    }
    sock_dir(const sock_dir&) = delete;
    sock_dir& operator=(const sock_dir&) = delete;
    // A new name in the directory (not created).
    std::string next() { return path(made_++); }

private:
    std::string path(int i) const { return path_ + "/s" + std::to_string(i); }
    char name_[32] = "/tmp/conf-unix-XXXXXX";
    std::string path_;
    int made_ = 0;
};

struct unix_addr {
    sockaddr_un sun{};
    socklen_t len = 0;
    const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&sun); }
};

// A path with its NUL counted, as most programs pass it.
unix_addr path_addr(const std::string& path)
{
    unix_addr a;
    a.sun.sun_family = AF_UNIX;
    std::memcpy(a.sun.sun_path, path.c_str(), path.size() + 1);
    a.len = static_cast<socklen_t>(kFamilyLen + path.size() + 1);
    return a;
}

// An abstract name, unique to this process: exactly addrlen bytes, a leading NUL.
unix_addr abstract_addr(const char* tag)
{
    static int counter = 0;
    std::string name = std::string("conf-unix-") + tag + "-" + std::to_string(getpid()) + "-" +
                       std::to_string(counter++);
    unix_addr a;
    a.sun.sun_family = AF_UNIX;
    std::memcpy(a.sun.sun_path + 1, name.data(), name.size());
    a.len = static_cast<socklen_t>(kFamilyLen + 1 + name.size());
    return a;
}

int unix_socket(int flags = 0) { return socket(AF_UNIX, SOCK_STREAM | flags, 0); }

// A listening socket bound to addr, or -1 (recorded as a failure).
int listening_at(const unix_addr& a, int backlog = 8)
{
    int fd = CHECK_OK(unix_socket());
    if (!CHECK_EQ(bind(fd, a.sa(), a.len), 0) || !CHECK_EQ(listen(fd, backlog), 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

int connected_to(const unix_addr& a, int flags = 0)
{
    int fd = CHECK_OK(unix_socket(flags));
    CHECK_EQ(connect(fd, a.sa(), a.len), 0);
    return fd;
}

// getsockname/getpeername: the length the call reported and the bytes, as "len:path" (an
// abstract name's leading NUL shown as '@').
std::string name_of(int fd, bool peer)
{
    sockaddr_un sun{};
    socklen_t len = sizeof(sun);
    int r = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&sun), &len)
                 : getsockname(fd, reinterpret_cast<sockaddr*>(&sun), &len);
    if (r < 0) return std::string("error ") + errno_name(errno);
    std::string out = std::to_string(len) + ":";
    if (sun.sun_family != AF_UNIX) return out + "family " + std::to_string(sun.sun_family);
    for (socklen_t i = kFamilyLen; i < len && i < sizeof(sun); ++i) out += sun.sun_path[i - kFamilyLen] == 0 ? '@' : sun.sun_path[i - kFamilyLen];
    return out;
}

std::string expected_name(const unix_addr& a)
{
    std::string out = std::to_string(a.len) + ":";
    for (socklen_t i = kFamilyLen; i < a.len; ++i) out += a.sun.sun_path[i - kFamilyLen] == 0 ? '@' : a.sun.sun_path[i - kFamilyLen];
    return out;
}

short poll_mask(int fd)
{
    pollfd p{fd, POLLIN | POLLPRI | POLLOUT | POLLRDHUP, 0};
    return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

}  // namespace

SCENARIO(unix_named_bind_makes_socket_node)
{
    sock_dir dir;
    std::string path = dir.next();
    unix_addr a = path_addr(path);
    mode_t old = umask(027);
    ufd s(CHECK_OK(unix_socket()));
    CHECK_EQ(name_of(s, false), "2:");  // unbound: just the family
    CHECK_EQ(bind(s, a.sa(), a.len), 0);
    umask(old);
    struct stat st{};
    REQUIRE(CHECK_EQ(stat(path.c_str(), &st), 0));
    CHECK(S_ISSOCK(st.st_mode));
    CHECK_EQ(st.st_mode & 07777, 0750u);
    CHECK_EQ(name_of(s, false), expected_name(a));
    CHECK_ERR(getpeername(s, nullptr, hide<socklen_t*>(nullptr)), ENOTCONN);
    CHECK_ERR(open(path.c_str(), O_RDWR), ENXIO);

    ufd other(CHECK_OK(unix_socket()));
    CHECK_ERR(bind(other, a.sa(), a.len), EADDRINUSE);  // the node exists, bound or not
    CHECK_EQ(name_of(other, false), "2:");
    // A second bind: a name that exists is EADDRINUSE, a fresh one EINVAL and left unmade.
    std::string fresh = dir.next();
    unix_addr b = path_addr(fresh);
    CHECK_ERR(bind(s, a.sa(), a.len), EADDRINUSE);
    CHECK_ERR(bind(s, b.sa(), b.len), EINVAL);
    CHECK_ERR(stat(fresh.c_str(), &st), ENOENT);
    CHECK_EQ(name_of(s, false), expected_name(a));
}

SCENARIO(unix_named_bind_errors)
{
    sock_dir dir;
    ufd s(CHECK_OK(unix_socket()));
    std::string file = dir.next();
    ufd f(CHECK_OK(open(file.c_str(), O_CREAT | O_WRONLY, 0600)));
    unix_addr a = path_addr(dir.next() + "/missing/x");
    CHECK_ERR(bind(s, a.sa(), a.len), ENOENT);
    a = path_addr(file + "/x");
    CHECK_ERR(bind(s, a.sa(), a.len), ENOTDIR);
    a = path_addr(file);
    CHECK_ERR(bind(s, a.sa(), a.len), EADDRINUSE);  // a regular file has the name
    a = path_addr(dir.next());
    CHECK_ERR(bind(s, a.sa(), 1), EINVAL);
    CHECK_ERR(bind(s, a.sa(), sizeof(sockaddr_un) + 1), EINVAL);
    a.sun.sun_family = AF_INET;
    CHECK_ERR(bind(s, a.sa(), a.len), EINVAL);
    CHECK_EQ(name_of(s, false), "2:");
}

SCENARIO(unix_named_path_length_rules)
{
    sock_dir dir;
    // No NUL inside addrlen: the name ends at addrlen; getsockname counts a NUL.
    std::string path = dir.next();
    unix_addr a = path_addr(path);
    a.len -= 1;
    ufd s(CHECK_OK(unix_socket()));
    CHECK_EQ(bind(s, a.sa(), a.len), 0);
    CHECK_EQ(name_of(s, false), expected_name(path_addr(path)));
    // A NUL inside addrlen ends the name; what follows is ignored.
    std::string path2 = dir.next();
    unix_addr b = path_addr(path2);
    std::memcpy(b.sun.sun_path + path2.size() + 1, "junk", 4);
    b.len += 4;
    ufd t(CHECK_OK(unix_socket()));
    CHECK_EQ(bind(t, b.sa(), b.len), 0);
    CHECK_EQ(name_of(t, false), expected_name(path_addr(path2)));
    struct stat st{};
    CHECK_EQ(stat(path2.c_str(), &st), 0);
}

SCENARIO(unix_named_connect_errors)
{
    sock_dir dir;
    ufd c(CHECK_OK(unix_socket()));
    unix_addr missing = path_addr(dir.next());
    CHECK_ERR(connect(c, missing.sa(), missing.len), ENOENT);
    unix_addr nodir = path_addr(dir.next() + "/x");
    CHECK_ERR(connect(c, nodir.sa(), nodir.len), ENOENT);
    std::string file = dir.next();
    ufd f(CHECK_OK(open(file.c_str(), O_CREAT | O_WRONLY, 0600)));
    unix_addr regular = path_addr(file);
    CHECK_ERR(connect(c, regular.sa(), regular.len), ECONNREFUSED);
    unix_addr under_file = path_addr(file + "/x");
    CHECK_ERR(connect(c, under_file.sa(), under_file.len), ENOTDIR);
    // Bound but not listening, and a node whose socket is gone.
    unix_addr bound = path_addr(dir.next());
    ufd s(CHECK_OK(unix_socket()));
    CHECK_EQ(bind(s, bound.sa(), bound.len), 0);
    CHECK_ERR(connect(c, bound.sa(), bound.len), ECONNREFUSED);
    s.close();
    CHECK_ERR(connect(c, bound.sa(), bound.len), ECONNREFUSED);
    unix_addr abstract = abstract_addr("none");
    CHECK_ERR(connect(c, abstract.sa(), abstract.len), ECONNREFUSED);
    missing.sun.sun_family = AF_INET;
    CHECK_ERR(connect(c, missing.sa(), missing.len), EINVAL);
    // listen() needs a name; an unconnected socket reads EINVAL, writes ENOTCONN.
    CHECK_ERR(listen(c, 1), EINVAL);
    char byte = 0;
    CHECK_ERR(read(c, &byte, 1), EINVAL);
    CHECK_ERR(send(c, &byte, 1, MSG_NOSIGNAL), ENOTCONN);
    CHECK_ERR(accept(c, nullptr, nullptr), EINVAL);
    CHECK_EQ(poll_mask(c), POLLOUT | POLLHUP);
    CHECK_EQ(shutdown(c, SHUT_RDWR), 0);
}

SCENARIO(unix_named_connect_accept_names)
{
    sock_dir dir;
    unix_addr a = path_addr(dir.next());
    ufd l(listening_at(a));
    REQUIRE(l.valid());
    CHECK_EQ(poll_mask(l), 0);  // a listener is never writable (unix_writable())
    CHECK_EQ(set_nonblocking(l, true), 0);
    CHECK_ERR(accept(l, nullptr, nullptr), EAGAIN);
    ufd c(connected_to(a));
    CHECK_EQ(poll_mask(l), POLLIN);
    CHECK_EQ(poll_mask(c), POLLOUT);  // connected at once, before any accept
    sockaddr_un peer{};
    socklen_t peer_len = sizeof(peer);
    ufd s(CHECK_OK(accept4(l, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_NONBLOCK | SOCK_CLOEXEC)));
    CHECK_EQ(peer_len, kFamilyLen);
    CHECK_EQ(fcntl(s, F_GETFL), O_RDWR | O_NONBLOCK);
    CHECK_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(poll_mask(l), 0);
    CHECK_EQ(name_of(s, false), expected_name(a));  // the listener's name
    CHECK_EQ(name_of(s, true), "2:");               // an unbound client
    CHECK_EQ(name_of(c, false), "2:");
    CHECK_EQ(name_of(c, true), expected_name(a));
    CHECK_EQ(send(c, "ping", 4, 0), 4);
    char buf[8] = {};
    CHECK_EQ(recv_exact(s, buf, 4), 4);
    CHECK_EQ(std::string(buf, 4), "ping");
    CHECK_EQ(write(s, "pong!", 5), 5);
    CHECK_EQ(recv_exact(c, buf, 5), 5);
    CHECK_EQ(std::string(buf, 5), "pong!");
    // Connected: EISCONN, but only once the name was found; no listen, no accept.
    CHECK_ERR(connect(c, a.sa(), a.len), EISCONN);
    unix_addr missing = path_addr(dir.next());
    CHECK_ERR(connect(c, missing.sa(), missing.len), ENOENT);
    CHECK_ERR(connect(s, a.sa(), a.len), EISCONN);
    CHECK_ERR(connect(l, a.sa(), a.len), EINVAL);
    CHECK_ERR(listen(c, 1), EINVAL);
    CHECK_ERR(accept(s, nullptr, nullptr), EINVAL);
    CHECK_ERR(sendto(c, "x", 1, MSG_NOSIGNAL, a.sa(), a.len), EISCONN);
}

// poll(), not epoll: the hosted runtime serves AF_UNIX from the host, whose descriptors cannot
// join its eventpolls; unix_poll() answers both the same.
SCENARIO(unix_named_client_name_and_wakeups)
{
    sock_dir dir;
    unix_addr a = path_addr(dir.next());
    unix_addr mine = path_addr(dir.next());
    ufd l(listening_at(a));
    REQUIRE(l.valid());
    ufd c(CHECK_OK(unix_socket()));
    CHECK_EQ(bind(c, mine.sa(), mine.len), 0);
    int cfd = c.get();
    int connected = -2;
    {
        // A waiting poll() is woken by the connection.
        bg_thread t([&] {
            sleep_ms(50);
            connected = connect(cfd, a.sa(), a.len);
        });
        pollfd p{l, POLLIN | POLLOUT, 0};
        CHECK_EQ(poll(&p, 1, 2000), 1);
        CHECK_EQ(p.revents, POLLIN);
        CHECK(t.join_for(2000));
    }
    CHECK_EQ(connected, 0);
    ufd s(CHECK_OK(accept(l, nullptr, nullptr)));
    CHECK_EQ(name_of(s, true), expected_name(mine));
    CHECK_EQ(name_of(c, false), expected_name(mine));
    // Over an accepted connection, shutdown and close look as on a socketpair.
    {
        bg_thread t([&] {
            sleep_ms(50);
            shutdown(cfd, SHUT_WR);
        });
        pollfd p{s, POLLIN | POLLOUT | POLLRDHUP, 0};
        CHECK_EQ(poll(&p, 1, 2000), 1);
        CHECK(t.join_for(2000));
    }
    CHECK_EQ(poll_mask(s), POLLIN | POLLOUT | POLLRDHUP);
    char byte = 0;
    CHECK_EQ(read(s, &byte, 1), 0);
    c.close();
    CHECK_EQ(poll_mask(s), POLLIN | POLLOUT | POLLHUP | POLLRDHUP);
    CHECK_ERR(send(s, "x", 1, MSG_NOSIGNAL), EPIPE);
}

SCENARIO(unix_named_abstract_names)
{
    unix_addr a = abstract_addr("l");
    ufd l(listening_at(a));
    REQUIRE(l.valid());
    CHECK_EQ(name_of(l, false), expected_name(a));
    ufd other(CHECK_OK(unix_socket()));
    CHECK_ERR(bind(other, a.sa(), a.len), EADDRINUSE);
    // The length is part of the name: one byte more is another name.
    unix_addr longer = a;
    longer.len += 1;
    CHECK_EQ(bind(other, longer.sa(), longer.len), 0);
    CHECK_EQ(name_of(other, false), expected_name(longer));
    unix_addr b = abstract_addr("second");
    CHECK_ERR(bind(other, b.sa(), b.len), EINVAL);  // bound already
    CHECK_ERR(connect(other, longer.sa(), longer.len), ECONNREFUSED);  // bound, not listening
    ufd c(connected_to(a));
    ufd s(CHECK_OK(accept(l, nullptr, nullptr)));
    CHECK_EQ(name_of(s, false), expected_name(a));
    CHECK_EQ(name_of(c, true), expected_name(a));
    CHECK_EQ(write(c, "abc", 3), 3);
    char buf[4] = {};
    CHECK_EQ(recv_exact(s, buf, 3), 3);
    // Closing the listener frees the name; the connection it made stays.
    l.close();
    ufd again(CHECK_OK(unix_socket()));
    CHECK_EQ(bind(again, a.sa(), a.len), 0);
    CHECK_EQ(write(s, "de", 2), 2);
    CHECK_EQ(recv_exact(c, buf, 2), 2);
    // The new owner of the name does not listen: that answer comes before EISCONN.
    CHECK_ERR(connect(c, a.sa(), a.len), ECONNREFUSED);
}

SCENARIO(unix_named_autobind)
{
    ufd s(CHECK_OK(unix_socket()));
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    CHECK_EQ(bind(s, reinterpret_cast<sockaddr*>(&sun), kFamilyLen), 0);
    std::string name = name_of(s, false);
    CHECK_EQ(name.size(), 8u);  // "8:@" and five hex digits
    CHECK_EQ(name.substr(0, 3), "8:@");
    CHECK_EQ(name.find_first_not_of("0123456789abcdef", 3), std::string::npos);
    CHECK_EQ(bind(s, reinterpret_cast<sockaddr*>(&sun), kFamilyLen), 0);  // bound: nothing
    CHECK_EQ(name_of(s, false), name);
    CHECK_EQ(listen(s, 1), 0);
    unix_addr a;
    a.len = kFamilyLen + 6;
    std::memcpy(&a.sun, &sun, sizeof(sun));
    sockaddr_un got{};
    socklen_t len = sizeof(got);
    CHECK_EQ(getsockname(s, reinterpret_cast<sockaddr*>(&got), &len), 0);
    std::memcpy(&a.sun, &got, sizeof(got));
    ufd c(connected_to(a));
    CHECK_EQ(name_of(c, true), name);
}

SCENARIO(unix_named_unlink_keeps_listener)
{
    sock_dir dir;
    std::string path = dir.next();
    unix_addr a = path_addr(path);
    ufd l(listening_at(a));
    REQUIRE(l.valid());
    ufd c1(connected_to(a));
    CHECK_EQ(unlink(path.c_str()), 0);
    ufd c2(CHECK_OK(unix_socket()));
    CHECK_ERR(connect(c2, a.sa(), a.len), ENOENT);
    ufd s1(CHECK_OK(accept(l, nullptr, nullptr)));
    CHECK_EQ(name_of(s1, false), expected_name(a));  // the name it had, still
    CHECK_EQ(name_of(l, false), expected_name(a));
    CHECK_EQ(write(c1, "hi", 2), 2);
    char buf[2] = {};
    CHECK_EQ(recv_exact(s1, buf, 2), 2);
    // The name is free again: a new listener there takes the new connections.
    ufd l2(listening_at(a));
    REQUIRE(l2.valid());
    CHECK_EQ(connect(c2, a.sa(), a.len), 0);
    CHECK_EQ(set_nonblocking(l, true), 0);
    CHECK_ERR(accept(l, nullptr, nullptr), EAGAIN);
    ufd s2(CHECK_OK(accept(l2, nullptr, nullptr)));
    CHECK_EQ(write(s2, "x", 1), 1);
    CHECK_EQ(recv_exact(c2, buf, 1), 1);
}

SCENARIO(unix_named_backlog_full)
{
    sock_dir dir;
    unix_addr a = path_addr(dir.next());
    ufd l(listening_at(a, 1));
    REQUIRE(l.valid());
    // unix_recvq_full() is "more than the backlog": backlog 1 holds two.
    ufd c1(connected_to(a, SOCK_NONBLOCK));
    ufd c2(connected_to(a, SOCK_NONBLOCK));
    ufd c3(CHECK_OK(unix_socket(SOCK_NONBLOCK)));
    CHECK_ERR(connect(c3, a.sa(), a.len), EAGAIN);
    CHECK_EQ(poll_mask(c3), POLLOUT | POLLHUP);  // still unconnected
    // A blocking connect waits until an accept makes room.
    ufd c4(CHECK_OK(unix_socket()));
    int result = -2;
    int c4fd = c4.get();
    {
        bg_thread t([&] { result = connect(c4fd, a.sa(), a.len); });
        sleep_ms(100);
        CHECK(!t.done());
        ufd s1(CHECK_OK(accept(l, nullptr, nullptr)));
        CHECK(t.join_for(2000));
    }
    CHECK_EQ(result, 0);
    // A bigger backlog lets the nonblocking one in too.
    CHECK_EQ(listen(l, 2), 0);
    CHECK_EQ(connect(c3, a.sa(), a.len), 0);
    ufd c5(CHECK_OK(unix_socket(SOCK_NONBLOCK)));
    CHECK_ERR(connect(c5, a.sa(), a.len), EAGAIN);
}

SCENARIO(unix_named_listener_close_resets_pending)
{
    sock_dir dir;
    unix_addr a = path_addr(dir.next());
    ufd l(listening_at(a));
    REQUIRE(l.valid());
    ufd kept(connected_to(a, SOCK_NONBLOCK));
    ufd accepted(CHECK_OK(accept(l, nullptr, nullptr)));
    CHECK_EQ(write(kept, "kept", 4), 4);
    ufd quiet(connected_to(a, SOCK_NONBLOCK));
    ufd talker(connected_to(a, SOCK_NONBLOCK));
    CHECK_EQ(write(talker, "lost", 4), 4);
    l.close();
    // Each connection never accepted is reset, whether it sent or not; the accepted one is
    // untouched.
    for (int fd : {quiet.get(), talker.get()}) {
        CHECK_EQ(poll_mask(fd), POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
        char byte = 0;
        CHECK_ERR(read(fd, &byte, 1), ECONNRESET);
        CHECK_EQ(read(fd, &byte, 1), 0);
        CHECK_ERR(send(fd, "x", 1, MSG_NOSIGNAL), EPIPE);
    }
    CHECK_EQ(poll_mask(kept), POLLOUT);
    char buf[4] = {};
    CHECK_EQ(recv_exact(accepted, buf, 4), 4);
    CHECK_EQ(std::string(buf, 4), "kept");
    CHECK_ERR(connect(quiet, a.sa(), a.len), ECONNREFUSED);  // refused before EISCONN
    ufd late(CHECK_OK(unix_socket()));
    CHECK_ERR(connect(late, a.sa(), a.len), ECONNREFUSED);
}

SCENARIO(unix_named_listener_shutdown_refuses)
{
    sock_dir dir;
    unix_addr a = path_addr(dir.next());
    ufd l(listening_at(a));
    REQUIRE(l.valid());
    CHECK_EQ(shutdown(l, SHUT_RD), 0);
    ufd c(CHECK_OK(unix_socket()));
    CHECK_ERR(connect(c, a.sa(), a.len), ECONNREFUSED);
    CHECK_ERR(accept(l, nullptr, nullptr), EINVAL);
}
