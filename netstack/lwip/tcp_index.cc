// The connection index lwIP's TCP lacks (patches/lwip/0003-tcp-pcb-index.patch calls it):
// lwIP finds the pcb of every incoming segment, checks a bind and picks an ephemeral port by
// walking its singly linked pcb lists, so each costs O(connections) and opening N connections
// O(N^2). Linux keeps an established hash (inet_ehash) and per-port bind buckets; this is the
// same idea: active and TIME-WAIT pcbs hashed by 4-tuple, and every pcb chained under its
// local port. lwIP's lists stay; TCP_REG/TCP_RMV keep all in step.
//
// It also keeps the timer list (patches/lwip/0011): the active pcbs that lwIP's TCP timers visit
// every 100 and 200 ms. lwIP visited every active pcb, so 100 000 idle connections cost 15 % of
// a core doing nothing; a pcb now joins the list when it becomes active or has something a
// timer may have to handle (lwIP's TCP_TIMER_ARM calls), and tcp_slowtmr drops it once
// tcp_timer_idle says no timer has, as Linux arms its per-socket timers only when needed.
// Patch 0012 keeps the TIME-WAIT list newest first and tcp_slowtmr expires it from its
// tail (tcp_index_tw_oldest), stopping at the first pcb not yet due, rather than visiting
// every one of a busy server's tens of thousands of TIME-WAIT pcbs five times a second.
// Everything here runs under stack_lock, inside lwIP.
#include <cstddef>
#include <cstdint>
#include <new>

#include "kernel/platform.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "netstack/tcp_index.h"
#include "tuple_hash.h"

namespace pollux::net {
namespace {

enum ListId : u8_t { not_listed = 0, listen_list, bound_list, active_list, time_wait_list };

ListId list_id(tcp_pcb* const* pcbs) {
    if (pcbs == &tcp_active_pcbs) return active_list;
    if (pcbs == &tcp_tw_pcbs) return time_wait_list;
    if (pcbs == &tcp_bound_pcbs) return bound_list;
    return listen_list;  // lwIP has no fifth list
}

bool hashed(ListId id) { return id == active_list || id == time_wait_list; }

// Every pcb on any list, chained under its local port: a bind checks only its port's pcbs, and
// a port is free when its chain is empty. One head per port, as Linux's bind hash on a large
// machine (512 KiB, untouched pages cost nothing hosted).
tcp_pcb* port_heads[65536];

void port_link(tcp_pcb* pcb) {
    tcp_pcb** head = &port_heads[pcb->local_port];
    pcb->port_next = *head;
    if (*head != nullptr) (*head)->port_pprev = &pcb->port_next;
    pcb->port_pprev = head;
    *head = pcb;
}

void port_unlink(tcp_pcb* pcb) {
    *pcb->port_pprev = pcb->port_next;
    if (pcb->port_next != nullptr) pcb->port_next->port_pprev = pcb->port_pprev;
    pcb->port_next = nullptr;
    pcb->port_pprev = nullptr;
}

constexpr size_t min_buckets = 256;

struct Table {
    tcp_pcb** buckets = nullptr;
    size_t mask = 0;
    size_t count = 0;
    uint64_t key = 0;
};
Table table;

// Once, before the first hash: a key that changed later would move hashed pcbs.
void seed_key() {
    while (table.key == 0) platform::entropy(&table.key, sizeof(table.key));
}

size_t bucket_of(const ip_addr_t* lip, u16_t lport, const ip_addr_t* rip, u16_t rport) {
    return tuple_hash(table.key, lip, lport, rip, rport) & table.mask;
}

size_t bucket_of(const tcp_pcb* pcb) {
    return bucket_of(&pcb->local_ip, pcb->local_port, &pcb->remote_ip, pcb->remote_port);
}

void link(tcp_pcb* pcb) {
    tcp_pcb** head = &table.buckets[bucket_of(pcb)];
    pcb->index_next = *head;
    if (*head != nullptr) (*head)->index_pprev = &pcb->index_next;
    pcb->index_pprev = head;
    *head = pcb;
}

// Keeps the load factor between 1/4 and 1: chains stay short as connections grow, and the
// table shrinks back when they go (churn leaves memory where it started). A failed allocation
// keeps the old table: longer chains, still correct.
void resize(size_t n) {
    auto* fresh = new (std::nothrow) tcp_pcb* [n] {};
    if (fresh == nullptr) return;
    tcp_pcb** old = table.buckets;
    size_t old_n = old != nullptr ? table.mask + 1 : 0;
    table.buckets = fresh;
    table.mask = n - 1;
    for (size_t b = 0; b < old_n; ++b) {
        for (tcp_pcb* p = old[b]; p != nullptr;) {
            tcp_pcb* next = p->index_next;
            link(p);
            p = next;
        }
    }
    delete[] old;
}

void insert(tcp_pcb* pcb) {
    if (table.buckets == nullptr) {
        seed_key();
        resize(min_buckets);
        if (table.buckets == nullptr) return;  // not indexed: tcp_index_check reports it
    }
    if (table.count + 1 > table.mask + 1) resize((table.mask + 1) * 2);
    link(pcb);
    ++table.count;
}

void erase(tcp_pcb* pcb) {
    if (pcb->index_pprev == nullptr) return;
    *pcb->index_pprev = pcb->index_next;
    if (pcb->index_next != nullptr) pcb->index_next->index_pprev = pcb->index_pprev;
    pcb->index_next = nullptr;
    pcb->index_pprev = nullptr;
    --table.count;
    size_t n = table.mask + 1;
    if (n > min_buckets && table.count < n / 4) resize(n / 2);
}

#if LWIP_TCP_TIMER_LIST
// The TIME-WAIT list's last pcb, whose 2 MSL started first (tcp_slowtmr expires from here).
tcp_pcb* tw_tail = nullptr;

// The pcb whose next field pprev points at, or null for the list's head pointer.
tcp_pcb* owner_of(tcp_pcb** pprev, tcp_pcb* const* head) {
    if (pprev == head) return nullptr;
    return reinterpret_cast<tcp_pcb*>(reinterpret_cast<char*>(pprev) - offsetof(tcp_pcb, next));
}
#endif

void forget(ListId id, tcp_pcb* pcb) {
#if LWIP_TCP_TIMER_LIST
    if (id == active_list) tcp_timer_disarm(pcb);
    if (id == time_wait_list && pcb == tw_tail) tw_tail = owner_of(pcb->list_pprev, &tcp_tw_pcbs);
#endif
    pcb->index_list = not_listed;
    port_unlink(pcb);
    if (hashed(id)) {
        erase(pcb);
        pcb->list_pprev = nullptr;
    }
}

bool same_tuple(const tcp_pcb* p, const ip_addr_t* lip, u16_t lport, const ip_addr_t* rip, u16_t rport) {
    return p->local_port == lport && p->remote_port == rport && ip_addr_cmp(&p->remote_ip, rip) &&
           ip_addr_cmp(&p->local_ip, lip);
}

}  // namespace

TcpIndexStats tcp_index_stats() {
    TcpIndexStats s;
    s.connections = table.count;
#if LWIP_TCP_TIMER_LIST
    for (tcp_pcb* p = tcp_timer_pcbs; p != nullptr; p = p->tmr_next) ++s.timer_armed;
#else
    for (tcp_pcb* p = tcp_active_pcbs; p != nullptr; p = p->next) ++s.timer_armed;
#endif
    s.buckets = table.buckets != nullptr ? table.mask + 1 : 0;
    for (tcp_pcb* p = tcp_tw_pcbs; p != nullptr; p = p->next) ++s.time_wait;
    for (size_t b = 0; b < s.buckets; ++b) {
        size_t len = 0;
        for (tcp_pcb* p = table.buckets[b]; p != nullptr; p = p->index_next) ++len;
        if (len > s.longest_chain) s.longest_chain = len;
    }
    return s;
}

const char* tcp_index_check() {
    size_t listed = 0, hashed_listed = 0;
    for (tcp_pcb* const* list : tcp_pcb_lists) {
        ListId id = list_id(list);
        for (tcp_pcb* p = *list; p != nullptr; p = p->next) {
            if (p->index_list != id) return "a pcb's recorded list is not the list holding it";
            if (p->port_pprev == nullptr || *p->port_pprev != p) return "a pcb is not linked under its port";
            ++listed;
            if (!hashed(id)) continue;
            ++hashed_listed;
            if (p->list_pprev == nullptr || *p->list_pprev != p) return "a pcb's list back pointer is wrong";
            if (p->index_pprev == nullptr || *p->index_pprev != p) return "a listed pcb is not linked in the hash";
            bool found = false;
            for (tcp_pcb* q = table.buckets[bucket_of(p)]; q != nullptr; q = q->index_next) found |= q == p;
            if (!found) return "a pcb is in the wrong hash bucket";
        }
    }
    if (hashed_listed != table.count) return "the hash holds pcbs that no list holds";
    size_t chained = 0;
    for (size_t port = 0; port < 65536; ++port) {
        for (tcp_pcb* p = port_heads[port]; p != nullptr; p = p->port_next) {
            if (p->local_port != port) return "a pcb is chained under another port";
            ++chained;
        }
    }
    if (chained != listed) return "the port chains hold pcbs that no list holds";
#if LWIP_TCP_TIMER_LIST
    for (tcp_pcb* p = tcp_timer_pcbs; p != nullptr; p = p->tmr_next) {
        if (p->index_list != active_list) return "a pcb on the timer list is not active";
        if (p->tmr_pprev == nullptr || *p->tmr_pprev != p) return "a timer list back pointer is wrong";
    }
    tcp_pcb* last = nullptr;
    for (tcp_pcb* p = tcp_tw_pcbs; p != nullptr; last = p, p = p->next) {
        if (last != nullptr && static_cast<int32_t>(last->tmr - p->tmr) < 0) {
            return "the TIME-WAIT list is not newest first";
        }
    }
    if (last != tw_tail) return "the TIME-WAIT list's recorded tail is not its last pcb";
#endif
    return nullptr;
}

}  // namespace pollux::net

using namespace pollux::net;

extern "C" {

#if LWIP_TCP_TIMER_LIST
tcp_pcb* tcp_timer_pcbs = nullptr;

// Only active pcbs: lwIP also sends for pcbs on no list (a RST, a failed connect's SYN).
void tcp_timer_arm(tcp_pcb* pcb) {
    if (pcb->tmr_pprev != nullptr || pcb->index_list != active_list) return;
    pcb->tmr_next = tcp_timer_pcbs;
    if (tcp_timer_pcbs != nullptr) tcp_timer_pcbs->tmr_pprev = &pcb->tmr_next;
    pcb->tmr_pprev = &tcp_timer_pcbs;
    tcp_timer_pcbs = pcb;
}

tcp_pcb* tcp_index_tw_oldest(void) { return tw_tail; }

void tcp_timer_disarm(tcp_pcb* pcb) {
    if (pcb->tmr_pprev == nullptr) return;
    *pcb->tmr_pprev = pcb->tmr_next;
    if (pcb->tmr_next != nullptr) pcb->tmr_next->tmr_pprev = pcb->tmr_pprev;
    pcb->tmr_next = nullptr;
    pcb->tmr_pprev = nullptr;
}
#endif

void tcp_index_add(tcp_pcb** pcbs, tcp_pcb* pcb) {
    ListId id = list_id(pcbs);
    pcb->index_list = id;
    port_link(pcb);
    if (!hashed(id)) return;
    // TCP_REG pushed it at the head: it and the old head get their back pointers.
    pcb->list_pprev = pcbs;
    if (pcb->next != nullptr) pcb->next->list_pprev = &pcb->next;
    insert(pcb);
#if LWIP_TCP_TIMER_LIST
    if (id == active_list) tcp_timer_arm(pcb);
    if (id == time_wait_list && pcb->next == nullptr) tw_tail = pcb;
#endif
}

int tcp_index_unlink(tcp_pcb** pcbs, tcp_pcb* pcb) {
    ListId id = list_id(pcbs);
    if (!hashed(id) || pcb->index_list != id) return 0;
    *pcb->list_pprev = pcb->next;
    if (pcb->next != nullptr) pcb->next->list_pprev = pcb->list_pprev;
    forget(id, pcb);
    return 1;
}

// TCP_RMV runs for pcbs that are not on the list too (closing a pcb whose connect failed after
// it got an ephemeral port "removes" it from the bound list): only a real member counts.
void tcp_index_remove(tcp_pcb** pcbs, tcp_pcb* pcb) {
    ListId id = list_id(pcbs);
    if (pcb->index_list != id) return;
    // tcp_slowtmr unlinked it through its own predecessor; the successor's back pointer still
    // names this pcb's next field.
    if (hashed(id) && pcb->next != nullptr) pcb->next->list_pprev = pcb->list_pprev;
    forget(id, pcb);
}

tcp_pcb* tcp_index_demux(const ip_addr_t* local_ip, u16_t local_port, const ip_addr_t* remote_ip, u16_t remote_port,
                         u8_t netif_idx, int time_wait) {
    if (table.count == 0) return nullptr;
    for (tcp_pcb* p = table.buckets[bucket_of(local_ip, local_port, remote_ip, remote_port)]; p != nullptr;
         p = p->index_next) {
        if ((p->state == TIME_WAIT) != (time_wait != 0)) continue;
        if (p->netif_idx != NETIF_NO_INDEX && p->netif_idx != netif_idx) continue;
        if (same_tuple(p, local_ip, local_port, remote_ip, remote_port)) return p;
    }
    return nullptr;
}

tcp_pcb* tcp_index_find(const ip_addr_t* local_ip, u16_t local_port, const ip_addr_t* remote_ip, u16_t remote_port) {
    if (table.count == 0) return nullptr;
    for (tcp_pcb* p = table.buckets[bucket_of(local_ip, local_port, remote_ip, remote_port)]; p != nullptr;
         p = p->index_next) {
        if (same_tuple(p, local_ip, local_port, remote_ip, remote_port)) return p;
    }
    return nullptr;
}

tcp_pcb* tcp_index_port_first(u16_t port) { return port_heads[port]; }

u32_t tcp_index_flow_hash(const ip_addr_t* local_ip, u16_t local_port, const ip_addr_t* remote_ip, u16_t remote_port) {
    seed_key();
    return static_cast<u32_t>(tuple_hash(table.key, local_ip, local_port, remote_ip, remote_port) >> 32);
}

}  // extern "C"
