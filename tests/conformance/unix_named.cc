// Named AF_UNIX stream sockets, their names: bind(2) on a path (an S_IFSOCK node, mode
// 0777 & ~umask; EADDRINUSE, EINVAL for a second bind, ENOENT/ENOTDIR, the NUL rules of
// unix_mkname_bsd()) and in the abstract namespace (the length is part of the name; freed on
// close), autobind, and getsockname/getpeername lengths. Follows net/unix/af_unix.c
// (unix_bind(), unix_bind_bsd(), unix_bind_abstract(), unix_autobind(), unix_getname()) and
// unix(7). Connections are unix_named_connect.cc's.
#include "unix_named.h"

using namespace conf;
using namespace conf::unix_named;

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
