// Named AF_UNIX stream sockets, their connections: listen(2) (EINVAL unbound), connect(2)
// (ENOENT, ECONNREFUSED, EISCONN only after the listener's checks, a full backlog: EAGAIN or a
// wait), accept4(2), poll(2) masks and wake-ups, unlink(2) of a listener's name, and what a
// listener's close or shutdown does to connections it never accepted. Follows
// net/unix/af_unix.c (unix_listen(), unix_stream_connect(), unix_recvq_full(), unix_accept(),
// unix_poll(), unix_release_sock()) and unix(7). Each scenario works in a fresh
// mkdtemp("/tmp/...") directory and removes it again.
#include "unix_named.h"

using namespace conf;
using namespace conf::unix_named;

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

SCENARIO(unix_named_unlink_keeps_listener)
{
    sock_dir dir;
    std::string path = dir.next();
    unix_addr a = path_addr(path);
    ufd l(listening_at(a));
    REQUIRE(l.valid());
    ufd c1(connected_to(a));
    CHECK_EQ(write(c1, "hi", 2), 2);  // queued for the end accept() will hand out
    CHECK_EQ(unlink(path.c_str()), 0);
    ufd c2(CHECK_OK(unix_socket()));
    CHECK_ERR(connect(c2, a.sa(), a.len), ENOENT);
    ufd s1(CHECK_OK(accept(l, nullptr, nullptr)));
    CHECK_EQ(name_of(s1, false), expected_name(a));  // the name it had, still
    CHECK_EQ(name_of(l, false), expected_name(a));
    char buf[2] = {};
    CHECK_EQ(recv_exact(s1, buf, 2), 2);
    CHECK_EQ(std::string(buf, 2), "hi");
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
