// sendfile(2): a file's bytes into a socket (AF_UNIX stream, TCP) or another file, from the
// file position (which moves) or from *offset (which moves instead), a short count at the end
// of the file, a nonblocking socket that fills (a partial count, then EAGAIN), and do_sendfile()'s
// argument checks. Follows fs/read_write.c do_sendfile() and fs/splice.c do_splice_direct().
#include "harness.h"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

using namespace conf;

namespace {

// A file of n bytes (byte i is i * 7 mod 251) in a fresh /tmp directory, removed afterwards.
class data_file {
public:
    explicit data_file(size_t n)
    {
        if (!CHECK(mkdtemp(dir_) != nullptr))
            return;
        path_ = std::string(dir_) + "/data";
        fd_ = ufd(CHECK_OK(open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)));
        bytes_.resize(n);
        for (size_t i = 0; i < n; ++i)
            bytes_[i] = static_cast<char>(i * 7 % 251);
        CHECK_EQ(pwrite(fd_, bytes_.data(), n, 0), ssize_t(n));
    }
    ~data_file()
    {
        fd_.reset();
        if (!path_.empty())
            unlink(path_.c_str());
        for (const std::string& p : extra_)
            unlink(p.c_str());
        rmdir(dir_);
    }
    int fd() const { return fd_.get(); }
    const std::string& path() const { return path_; }
    const std::vector<char>& bytes() const { return bytes_; }
    std::string another(const char* name)
    {
        extra_.push_back(std::string(dir_) + "/" + name);
        return extra_.back();
    }

private:
    char dir_[17] = "/tmp/conf-XXXXXX";
    std::string path_;
    ufd fd_;
    std::vector<char> bytes_;
    std::vector<std::string> extra_;
};

}  // namespace

SCENARIO(sendfile_to_unix_socket_moves_the_file_position)
{
    data_file f(10000);
    auto s = make_socketpair(SOCK_STREAM);
    CHECK_EQ(lseek(f.fd(), 100, SEEK_SET), 100);
    CHECK_EQ(sendfile(s.a, f.fd(), nullptr, 1000), 1000);
    CHECK_EQ(lseek(f.fd(), 0, SEEK_CUR), 1100);
    std::vector<char> got(1000);
    CHECK_EQ(recv_exact(s.b, got.data(), got.size()), 1000);
    CHECK(std::equal(got.begin(), got.end(), f.bytes().begin() + 100));
    // With an offset the file position stays and *offset moves; past the end is a short count.
    off_t off = 9500;
    CHECK_EQ(sendfile(s.a, f.fd(), &off, 4096), 500);
    CHECK_EQ(off, off_t(10000));
    CHECK_EQ(lseek(f.fd(), 0, SEEK_CUR), 1100);
    CHECK_EQ(recv_exact(s.b, got.data(), 500), 500);
    CHECK(std::equal(got.begin(), got.begin() + 500, f.bytes().begin() + 9500));
    CHECK_EQ(sendfile(s.a, f.fd(), &off, 4096), 0);  // at the end
    CHECK_EQ(sendfile(s.a, f.fd(), nullptr, 0), 0);
}

SCENARIO(sendfile_to_tcp_carries_a_large_file)
{
    constexpr size_t kSize = 1 << 20;
    data_file f(kSize);
    auto c = make_tcp_pair(AF_INET);
    REQUIRE(c.a.get() >= 0);
    std::vector<char> got(kSize);
    std::atomic<ssize_t> received{-1};
    bg_thread reader([&] { received = recv_exact(c.b, got.data(), kSize, 10000); });
    off_t off = 0;
    size_t sent = 0;
    while (sent < kSize) {
        ssize_t n = sendfile(c.a, f.fd(), &off, kSize - sent);
        if (!CHECK_GT(n, 0))
            break;
        sent += size_t(n);
    }
    CHECK_EQ(off, off_t(kSize));
    CHECK(reader.join_for(15000));
    CHECK_EQ(received.load(), ssize_t(kSize));
    CHECK(got == f.bytes());
}

SCENARIO(sendfile_nonblocking_socket_fills)
{
    data_file f(4 << 20);
    auto s = make_socketpair(SOCK_STREAM | SOCK_NONBLOCK);
    off_t off = 0;
    // The socket's buffer takes part of it: a short count, the offset moved by exactly that.
    ssize_t first = sendfile(s.a, f.fd(), &off, 4 << 20);
    CHECK_GT(first, 0);
    CHECK_LT(first, ssize_t(4 << 20));
    CHECK_EQ(off, off_t(first));
    CHECK_ERR(sendfile(s.a, f.fd(), &off, 4096), EAGAIN);
    CHECK_EQ(off, off_t(first));
    std::vector<char> got(static_cast<size_t>(first));
    CHECK_EQ(recv_exact(s.b, got.data(), got.size()), first);
    CHECK(std::equal(got.begin(), got.end(), f.bytes().begin()));
}

SCENARIO(sendfile_file_to_file)
{
    data_file f(5000);
    std::string copy = f.another("copy");
    ufd out(CHECK_OK(open(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)));
    off_t off = 1000;
    CHECK_EQ(sendfile(out, f.fd(), &off, 3000), 3000);
    struct stat st{};
    CHECK_OK(fstat(out, &st));
    CHECK_EQ(st.st_size, off_t(3000));
    ufd back(CHECK_OK(open(copy.c_str(), O_RDONLY | O_CLOEXEC)));
    std::vector<char> got(3000);
    CHECK_EQ(read(back, got.data(), got.size()), 3000);
    CHECK(std::equal(got.begin(), got.end(), f.bytes().begin() + 1000));
}

SCENARIO(sendfile_argument_checks)
{
    data_file f(100);
    auto s = make_socketpair(SOCK_STREAM);
    off_t off = 0;
    CHECK_ERR(sendfile(s.a, 9999, &off, 10), EBADF);
    CHECK_ERR(sendfile(9999, f.fd(), &off, 10), EBADF);
    // The input must be open for reading, the output for writing.
    ufd wronly(CHECK_OK(open(f.path().c_str(), O_WRONLY | O_CLOEXEC)));
    CHECK_ERR(sendfile(s.a, wronly, &off, 10), EBADF);
    ufd rdonly(CHECK_OK(open(f.path().c_str(), O_RDONLY | O_CLOEXEC)));
    CHECK_ERR(sendfile(rdonly, f.fd(), &off, 10), EBADF);
    // A negative offset; an input with no position to read at (a pipe: ESPIPE with an offset,
    // EINVAL without).
    off = -1;
    CHECK_ERR(sendfile(s.a, f.fd(), &off, 10), EINVAL);
    auto p = make_pipe();
    off = 0;
    CHECK_ERR(sendfile(s.a, p.a, &off, 10), ESPIPE);
    CHECK_OK(write(p.b, "abc", 3));
    CHECK_ERR(sendfile(s.a, p.a, nullptr, 10), EINVAL);
    // An O_APPEND output.
    std::string path = f.another("append");
    ufd app(CHECK_OK(open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)));
    off = 0;
    CHECK_ERR(sendfile(app, f.fd(), &off, 10), EINVAL);
}
