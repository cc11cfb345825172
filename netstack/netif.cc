// Netif glue: a NetDevice as an lwIP netif. Received frames stay in the driver's buffers (a
// pbuf_custom built in the RxBuf's stack_private room); sent pbuf chains go to the driver as
// scatter-gather lists, unflattened.
#include "netstack/netif.h"

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <new>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/dhcp.h"
#include "netif/ethernet.h"
#include "netstack/stack.h"
#include "pollux_lwip_hooks.h"

namespace pollux::net {

namespace {

constexpr int kMaxIfaces = 32;  // tests add links (two each) that are never removed
constexpr int kMaxTxSegs = 32;

struct RxPbuf {
    pbuf_custom custom;
};
static_assert(sizeof(RxPbuf) <= sizeof(RxBuf::stack_private));
static_assert(alignof(RxPbuf) <= 16);

class Iface final : public RxSink {
public:
    explicit Iface(NetDevice& dev) : dev(dev) {}
    void receive(RxBuf* buf) override;

    NetDevice& dev;
    struct netif nif {};
    Iface* wire_peer = nullptr;
    IfaceCounters counters;
};

Iface* ifaces[kMaxIfaces];  // guarded by stack_lock

void free_rx_pbuf(pbuf* p) {
    auto* custom = reinterpret_cast<pbuf_custom*>(p);
    auto* storage = reinterpret_cast<unsigned char*>(custom);
    auto* buf = reinterpret_cast<RxBuf*>(storage - offsetof(RxBuf, stack_private));
    buf->release(buf);
}

void Iface::receive(RxBuf* buf) {
    if (buf->len > 0xffff) {  // no pbuf holds it; no link we drive sends it
        ++counters.rx_dropped;
        buf->release(buf);
        return;
    }
    pbuf* p;
    if (buf->copy_now) {  // the driver's pool runs low: RxBuf::copy_now
        p = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(buf->len), PBUF_RAM);
        if (p != nullptr) pbuf_take(p, buf->data, static_cast<u16_t>(buf->len));
        buf->release(buf);
        if (p == nullptr) {
            ++counters.rx_dropped;
            return;
        }
        ++counters.rx_copied;
    } else {
        auto* rx = new (buf->stack_private) RxPbuf;
        rx->custom.custom_free_function = free_rx_pbuf;
        p = pbuf_alloced_custom(PBUF_RAW, static_cast<u16_t>(buf->len), PBUF_REF, &rx->custom, buf->data,
                                static_cast<u16_t>(buf->len));
    }
    ++counters.rx_frames;
    stack_lock_held();  // drivers deliver from NAPI polls, which run under the lock
    current_rx_napi_id = buf->napi_id;
    if (nif.input(p, &nif) != ERR_OK) {
        ++counters.rx_dropped;
        pbuf_free(p);
    }
    current_rx_napi_id = 0;
}

err_t link_output(struct netif* nif, pbuf* p) {
    if (p == nullptr) return ERR_ARG;
    Iface& iface = *static_cast<Iface*>(nif->state);
    TxSeg segs[kMaxTxSegs];
    int n = 0;
    for (pbuf* q = p; q != nullptr && n < kMaxTxSegs; q = q->next) {
        if (q->len == 0) continue;
        segs[n++] = TxSeg{q->payload, q->len};
    }
    TxFrame frame{segs, n, p->tot_len};
    if (n == kMaxTxSegs) {
        // A chain longer than any device's descriptor list: flatten it once.
        pbuf* flat = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
        if (flat == nullptr) {
            ++iface.counters.tx_dropped;
            return ERR_MEM;
        }
        segs[0] = TxSeg{flat->payload, flat->len};
        frame = TxFrame{segs, 1, flat->len};
        int sent = iface.dev.transmit(&frame, 1);
        pbuf_free(flat);
        ++(sent == 1 ? iface.counters.tx_frames : iface.counters.tx_dropped);
        return ERR_OK;
    }
    int sent = iface.dev.transmit(&frame, 1);
    ++(sent == 1 ? iface.counters.tx_frames : iface.counters.tx_dropped);
    return ERR_OK;  // a full ring is loss on the link, which TCP repairs: not an error to report
}

err_t iface_init(struct netif* nif) {
    Iface& iface = *static_cast<Iface*>(nif->state);
    auto mac = iface.dev.mac();
    nif->hwaddr_len = ETH_HWADDR_LEN;
    std::memcpy(nif->hwaddr, mac.data(), ETH_HWADDR_LEN);
    nif->mtu = iface.dev.mtu();
    nif->mtu6 = iface.dev.mtu();
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_MLD6;
    nif->name[0] = 'e';
    nif->name[1] = 'n';
    nif->output = etharp_output;
    nif->output_ip6 = ethip6_output;
    nif->linkoutput = link_output;
    uint16_t checksums = NETIF_CHECKSUM_ENABLE_ALL;
    uint32_t features = iface.dev.features();
    if (features & kFeatTxChecksum)
        checksums &= ~(NETIF_CHECKSUM_GEN_IP | NETIF_CHECKSUM_GEN_UDP | NETIF_CHECKSUM_GEN_TCP);
    if (features & kFeatRxChecksum)
        checksums &= ~(NETIF_CHECKSUM_CHECK_IP | NETIF_CHECKSUM_CHECK_UDP | NETIF_CHECKSUM_CHECK_TCP);
    NETIF_SET_CHECKSUM_CTRL(nif, checksums);
    return ERR_OK;
}

Iface* iface_by_index(int ifindex) REQUIRES(stack_lock) {
    for (Iface* iface : ifaces) {
        if (iface != nullptr && netif_get_index(&iface->nif) == ifindex) return iface;
    }
    return nullptr;
}

}  // namespace

kstd::Result<int> stack_add_device(NetDevice& dev, const IfaceConfig& cfg) {
    stack_init();
    StackGuard guard;
    int slot = 0;
    while (slot < kMaxIfaces && ifaces[slot] != nullptr) ++slot;
    if (slot == kMaxIfaces) return kstd::err(ENOSPC);
    auto* iface = new (std::nothrow) Iface(dev);
    if (iface == nullptr) return kstd::err(ENOMEM);
    ip4_addr_t addr, mask, gw;
    addr.addr = cfg.v4_addr;
    mask.addr = cfg.v4_netmask;
    gw.addr = cfg.v4_gw;
    if (netif_add(&iface->nif, &addr, &mask, &gw, iface, iface_init, ethernet_input) == nullptr) {
        delete iface;
        return kstd::err(EINVAL);
    }
    ifaces[slot] = iface;
    netif_create_ip6_linklocal_address(&iface->nif, 1);
    for (int i = 0; i < cfg.n_v6; ++i) {
        ip6_addr_t a;
        std::memcpy(&a.addr, cfg.v6[i].addr, 16);
        ip6_addr_clear_zone(&a);
        s8_t index = -1;
        if (netif_add_ip6_address(&iface->nif, &a, &index) == ERR_OK && index >= 0)
            netif_ip6_addr_set_state(&iface->nif, index, IP6_ADDR_PREFERRED);
    }
    if (cfg.make_default) netif_set_default(&iface->nif);
    netif_set_link_up(&iface->nif);
    netif_set_up(&iface->nif);
    if (cfg.dhcp) dhcp_start(&iface->nif);
    dev.attach(iface);
    return static_cast<int>(netif_get_index(&iface->nif));
}

void stack_pair_wire(int ifindex_a, int ifindex_b) {
    StackGuard guard;
    Iface* a = iface_by_index(ifindex_a);
    Iface* b = iface_by_index(ifindex_b);
    if (a == nullptr || b == nullptr) return;
    a->wire_peer = b;
    b->wire_peer = a;
}

namespace {

IfaceConfig wire_host(int link, int host, bool make_default) {
    IfaceConfig cfg;
    cfg.has_v4 = true;
    cfg.v4_addr = lwip_htonl((10u << 24) | (static_cast<uint32_t>(link & 0xff) << 8) | static_cast<uint32_t>(host));
    cfg.v4_netmask = lwip_htonl(0xffffff00u);
    cfg.n_v6 = 1;
    cfg.v6[0].addr[0] = 0xfd;
    cfg.v6[0].addr[3] = static_cast<uint8_t>(link);  // fd00:<link>::<host>
    cfg.v6[0].addr[2] = static_cast<uint8_t>(link >> 8);
    cfg.v6[0].addr[15] = static_cast<uint8_t>(host);
    cfg.v6[0].prefix = 64;
    cfg.make_default = make_default;
    return cfg;
}

}  // namespace

kstd::Result<void> stack_add_wire_hosts(NetDevice& end0, NetDevice& end1, int link, bool make_default) {
    kstd::Result<int> a = stack_add_device(end0, wire_host(link, 1, make_default));
    if (!a.ok()) return a.error();
    kstd::Result<int> b = stack_add_device(end1, wire_host(link, 2, false));
    if (!b.ok()) return b.error();
    stack_pair_wire(a.value(), b.value());
    return {};
}

IfaceCounters iface_counters(int ifindex) {
    StackGuard guard;
    Iface* iface = iface_by_index(ifindex);
    return iface != nullptr ? iface->counters : IfaceCounters{};
}

void for_each_iface(void (*fn)(void* ctx, const IfaceReport& r), void* ctx) {
    StackGuard guard;
    int n = 0;
    for (Iface* iface : ifaces) {
        if (iface == nullptr) continue;
        IfaceReport r;
        std::snprintf(r.name, sizeof(r.name), "eth%d", n++);
        r.dev = iface->dev.counters();
        r.glue = iface->counters;
        fn(ctx, r);
    }
}

}  // namespace pollux::net

using pollux::net::Iface;
using pollux::net::ifaces;

// A destination that is one of a wired host's own addresses leaves through the other end of
// its wire: that host is "across the link" from every socket not bound to it. A socket bound to
// the host's own address is on that host, and its packets to itself stay local (loopback).
extern "C" struct netif* pollux_lwip_route4(const ip4_addr_t* src, const ip4_addr_t* dest) {
    for (Iface* iface : ifaces) {
        if (iface == nullptr || iface->wire_peer == nullptr) continue;
        const ip4_addr_t* own = netif_ip4_addr(&iface->nif);
        if (!ip4_addr_cmp(dest, own)) continue;
        if (src != nullptr && ip4_addr_cmp(src, own)) return nullptr;
        if (netif_is_up(&iface->wire_peer->nif)) return &iface->wire_peer->nif;
    }
    return nullptr;
}

extern "C" struct netif* pollux_lwip_route6(const ip6_addr_t* src, const ip6_addr_t* dest) {
    for (Iface* iface : ifaces) {
        if (iface == nullptr || iface->wire_peer == nullptr) continue;
        if (netif_get_ip6_addr_match(&iface->nif, dest) < 0) continue;
        if (src != nullptr && netif_get_ip6_addr_match(&iface->nif, src) >= 0) return nullptr;
        if (netif_is_up(&iface->wire_peer->nif)) return &iface->wire_peer->nif;
    }
    return nullptr;
}
