// Helpers shared by the named AF_UNIX scenarios (unix_named.cc, unix_named_connect.cc): a
// fresh directory per scenario for path names, addresses as programs build them, and names as
// getsockname/getpeername report them.
#pragma once

#include "harness.h"

#include <poll.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>
#include <string>

namespace conf::unix_named {
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
inline unix_addr path_addr(const std::string& path)
{
    unix_addr a;
    a.sun.sun_family = AF_UNIX;
    std::memcpy(a.sun.sun_path, path.c_str(), path.size() + 1);
    a.len = static_cast<socklen_t>(kFamilyLen + path.size() + 1);
    return a;
}

// An abstract name, unique to this process: exactly addrlen bytes, a leading NUL.
inline unix_addr abstract_addr(const char* tag)
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

inline int unix_socket(int flags = 0) { return socket(AF_UNIX, SOCK_STREAM | flags, 0); }

// A listening socket bound to addr, or -1 (recorded as a failure).
inline int listening_at(const unix_addr& a, int backlog = 8)
{
    int fd = CHECK_OK(unix_socket());
    if (!CHECK_EQ(bind(fd, a.sa(), a.len), 0) || !CHECK_EQ(listen(fd, backlog), 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

inline int connected_to(const unix_addr& a, int flags = 0)
{
    int fd = CHECK_OK(unix_socket(flags));
    CHECK_EQ(connect(fd, a.sa(), a.len), 0);
    return fd;
}

// getsockname/getpeername: the length the call reported and the bytes, as "len:path" (an
// abstract name's leading NUL shown as '@').
inline std::string name_of(int fd, bool peer)
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

inline std::string expected_name(const unix_addr& a)
{
    std::string out = std::to_string(a.len) + ":";
    for (socklen_t i = kFamilyLen; i < a.len; ++i) out += a.sun.sun_path[i - kFamilyLen] == 0 ? '@' : a.sun.sun_path[i - kFamilyLen];
    return out;
}

inline short poll_mask(int fd)
{
    pollfd p{fd, POLLIN | POLLPRI | POLLOUT | POLLRDHUP, 0};
    return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}


}  // namespace conf::unix_named
