// EPIOCSPARAMS / EPIOCGPARAMS, the busy-poll tuning ioctls on an epoll fd
// (Linux 6.9+). Defaults read back as zero; set values round-trip; the
// validation order is copy-in (EFAULT), __pad != 0, busy_poll_usecs >
// S32_MAX, prefer_busy_poll > 1 (all EINVAL), and busy_poll_budget >
// NAPI_POLL_WEIGHT (64) needs CAP_NET_ADMIN (the suite runs as root, so it is
// accepted). Other fds answer ENOTTY, while an epoll fd answers an unknown
// ioctl with EINVAL. Follows fs/eventpoll.c:
// ep_eventpoll_ioctl() and include/uapi/linux/eventpoll.h.
#include "harness.h"

#include <sys/eventfd.h>

#include <cstdint>

using namespace conf;

namespace {

struct epoll_params_abi {
    uint32_t busy_poll_usecs;
    uint16_t busy_poll_budget;
    uint8_t prefer_busy_poll;
    uint8_t pad;
};
static_assert(sizeof(epoll_params_abi) == 8);

// The uapi header on this system may predate these, so spell them out.
constexpr unsigned long kEpiocsparams = _IOW(0x8A, 0x01, epoll_params_abi);
constexpr unsigned long kEpiocgparams = _IOR(0x8A, 0x02, epoll_params_abi);

epoll_params_abi params(uint32_t usecs, uint16_t budget, uint8_t prefer, uint8_t pad = 0)
{
    return {usecs, budget, prefer, pad};
}

bool get_params(int ep, epoll_params_abi* p)
{
    *p = params(0xdead, 0xbeef, 0xaa, 0x55);
    return CHECK_EQ(ioctl(ep, kEpiocgparams, p), 0);
}

}  // namespace

SCENARIO(epoll_params_ioctl_numbers)
{
    CHECK_EQ(kEpiocsparams, 0x40088a01ul);
    CHECK_EQ(kEpiocgparams, 0x80088a02ul);
}

SCENARIO(epoll_params_defaults_zero)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_params_abi p;
    if (get_params(ep, &p)) {
        CHECK_EQ(p.busy_poll_usecs, 0u);
        CHECK_EQ(p.busy_poll_budget, 0u);
        CHECK_EQ(p.prefer_busy_poll, 0u);
        CHECK_EQ(p.pad, 0u);
    }
}

SCENARIO(epoll_params_round_trip)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_params_abi set = params(250, 32, 1);
    CHECK_EQ(ioctl(ep, kEpiocsparams, &set), 0);
    epoll_params_abi p;
    if (get_params(ep, &p)) {
        CHECK_EQ(p.busy_poll_usecs, 250u);
        CHECK_EQ(p.busy_poll_budget, 32u);
        CHECK_EQ(p.prefer_busy_poll, 1u);
        CHECK_EQ(p.pad, 0u);
    }
    // Limits inclusive.
    set = params(INT32_MAX, 64, 0);
    CHECK_EQ(ioctl(ep, kEpiocsparams, &set), 0);
    if (get_params(ep, &p)) {
        CHECK_EQ(p.busy_poll_usecs, static_cast<uint32_t>(INT32_MAX));
        CHECK_EQ(p.busy_poll_budget, 64u);
        CHECK_EQ(p.prefer_busy_poll, 0u);
    }
    // Parameters are per epoll instance.
    ufd ep2(CHECK_OK(epoll_create1(0)));
    if (get_params(ep2, &p))
        CHECK_EQ(p.busy_poll_usecs, 0u);
}

SCENARIO(epoll_params_invalid_einval)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_params_abi bad_pad = params(1, 1, 0, 1);
    CHECK_ERR(ioctl(ep, kEpiocsparams, &bad_pad), EINVAL);
    epoll_params_abi bad_usecs = params(uint32_t{INT32_MAX} + 1, 1, 0);
    CHECK_ERR(ioctl(ep, kEpiocsparams, &bad_usecs), EINVAL);
    epoll_params_abi max_usecs = params(UINT32_MAX, 1, 0);
    CHECK_ERR(ioctl(ep, kEpiocsparams, &max_usecs), EINVAL);
    epoll_params_abi bad_prefer = params(1, 1, 2);
    CHECK_ERR(ioctl(ep, kEpiocsparams, &bad_prefer), EINVAL);
    epoll_params_abi bad_prefer2 = params(1, 1, 255);
    CHECK_ERR(ioctl(ep, kEpiocsparams, &bad_prefer2), EINVAL);
}

SCENARIO(epoll_params_failed_set_changes_nothing)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    epoll_params_abi good = params(10, 8, 1);
    CHECK_EQ(ioctl(ep, kEpiocsparams, &good), 0);
    epoll_params_abi bad = params(20, 16, 3);
    CHECK_ERR(ioctl(ep, kEpiocsparams, &bad), EINVAL);
    epoll_params_abi p;
    if (get_params(ep, &p)) {
        CHECK_EQ(p.busy_poll_usecs, 10u);
        CHECK_EQ(p.busy_poll_budget, 8u);
        CHECK_EQ(p.prefer_busy_poll, 1u);
    }
}

SCENARIO(epoll_params_budget_above_64_as_root)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    REQUIRE(geteuid() == 0);
    epoll_params_abi big = params(5, 65, 0);
    CHECK_EQ(ioctl(ep, kEpiocsparams, &big), 0);
    big = params(5, UINT16_MAX, 0);
    CHECK_EQ(ioctl(ep, kEpiocsparams, &big), 0);
    epoll_params_abi p;
    if (get_params(ep, &p))
        CHECK_EQ(p.busy_poll_budget, static_cast<uint16_t>(UINT16_MAX));
}

SCENARIO(epoll_params_error_order)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    // pad is checked first, then usecs, then prefer: all EINVAL, so the
    // observable order is only that an invalid field beats a privileged
    // budget (which would be EPERM without CAP_NET_ADMIN).
    epoll_params_abi all_bad = params(UINT32_MAX, 1000, 9, 7);
    CHECK_ERR(ioctl(ep, kEpiocsparams, &all_bad), EINVAL);
}

SCENARIO(epoll_params_null_argument_efault)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    CHECK_ERR(ioctl(ep, kEpiocsparams, hide<void*>(nullptr)), EFAULT);
    CHECK_ERR(ioctl(ep, kEpiocgparams, hide<void*>(nullptr)), EFAULT);
}

SCENARIO(epoll_params_on_non_epoll_enotty)
{
    auto p = make_pipe();
    ufd efd(CHECK_OK(eventfd(0, 0)));
    auto s = make_socketpair();
    epoll_params_abi v = params(1, 1, 0);
    for (int fd : {p.a.get(), p.b.get(), efd.get(), s.a.get()}) {
        CHECK_ERR(ioctl(fd, kEpiocsparams, &v), ENOTTY);
        CHECK_ERR(ioctl(fd, kEpiocgparams, &v), ENOTTY);
    }
    // Not even the NULL pointer is looked at by a file that lacks the ioctl.
    CHECK_ERR(ioctl(efd, kEpiocgparams, hide<void*>(nullptr)), ENOTTY);
    CHECK_ERR(ioctl(-1, kEpiocgparams, &v), EBADF);
}

SCENARIO(epoll_unknown_ioctl_einval)
{
    ufd ep(CHECK_OK(epoll_create1(0)));
    int n = 0;
    // ep_eventpoll_ioctl() answers unknown commands with EINVAL, unlike the
    // usual ENOTTY (ENOIOCTLCMD) of files that have no such ioctl.
    CHECK_ERR(ioctl(ep, FIONREAD, &n), EINVAL);
    CHECK_ERR(ioctl(ep, _IOR(0x8A, 0x03, epoll_params_abi), &n), EINVAL);
    CHECK_ERR(ioctl(ep, 0x12345678, &n), EINVAL);
    // FIONBIO and FIOCLEX are generic and work on any fd, epoll included.
    int on = 1;
    CHECK_EQ(ioctl(ep, FIONBIO, &on), 0);
    CHECK_EQ(fcntl(ep, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
    CHECK_EQ(ioctl(ep, FIOCLEX), 0);
    CHECK_EQ(fcntl(ep, F_GETFD), FD_CLOEXEC);
    CHECK_EQ(ioctl(ep, FIONCLEX), 0);
    CHECK_EQ(fcntl(ep, F_GETFD), 0);
}
