// The stack core: lwIP initialisation, its timer on the kernel timer service, the stack lock,
// and the net-rx context that polls scheduled NAPI contexts.
#include "netstack/stack.h"

#include <atomic>

#include "drivers/napi.h"
#include "eventpoll/busy_poll.h"
#include "kernel/parker.h"
#include "kernel/platform.h"
#include "kernel/spin_lock.h"
#include "kernel/timer.h"
#include "kstd/list.h"
#include "lwip/init.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"

namespace pollux::net {

Mutex stack_lock;
unsigned current_rx_napi_id = 0;

namespace {

constexpr int kNapiBudget = 64;     // NAPI_POLL_WEIGHT
constexpr int kSoftirqBudget = 300;  // netdev_budget: frames one unlock may process

std::atomic<int> init_state{0};  // 0 none, 1 running, 2 done
void (*platform_bringup)() = nullptr;
uint64_t lwip_deadline GUARDED_BY(stack_lock) = 0;  // when the lwIP timer is armed for; 0: not

void lwip_timer_fired(Timer&);
Timer lwip_timer(lwip_timer_fired);

void lwip_timer_fired(Timer&) {
    StackGuard guard;
    lwip_deadline = 0;
    sys_check_timeouts();
}

// Arms the kernel timer for lwIP's next timeout if that is earlier than what is armed.
void rearm_lwip_timer() REQUIRES(stack_lock) {
    u32_t sleep_ms = sys_timeouts_sleeptime();
    if (sleep_ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE) return;
    uint64_t deadline = platform::monotonic_ns() + uint64_t{sleep_ms} * 1000000u;
    if (lwip_deadline != 0 && lwip_deadline <= deadline) return;
    lwip_deadline = deadline;
    timer_arm(lwip_timer, deadline);
}

// The net-rx context: a kernel thread that polls the contexts drivers schedule.
SpinLock runner_lock;
kstd::ListNode runner_queue GUARDED_BY(runner_lock);
Parker runner_parker;
std::atomic<uint64_t> napi_polls{0}, busy_rounds{0}, softirq_polls{0};

// The thread inside a StackGuard (0: none), and whether it scheduled a context meanwhile.
// Only the holder sets softirq_pending, or (unikernel) an interrupt handler running on top of
// it, which is why it is atomic and ~StackGuard re-checks it after giving up ownership.
std::atomic<uintptr_t> stack_owner{0};
std::atomic<bool> softirq_pending{false};

bool in_stack() { return stack_owner.load() == platform::thread_self(); }

void runner_enqueue(Napi& napi) {
    {
        LockGuard guard(runner_lock);
        kstd::list_add_tail(&napi.runner_link, &runner_queue);
    }
    // Linux raises NET_RX_SOFTIRQ and runs it when the raising code re-enables bottom halves.
    // So here: a thread that schedules a context while it holds the stack (a transmit on the
    // wire, a reply sent from inside a poll) polls it itself when it unlocks, and the net-rx
    // thread is not woken for it. Everyone else (a device's irq thread) wakes net-rx.
    if (in_stack()) {
        softirq_pending = true;
        return;
    }
    runner_parker.unpark();
}

Napi* runner_dequeue() {
    LockGuard guard(runner_lock);
    if (runner_queue.empty()) return nullptr;
    kstd::ListNode* first = runner_queue.next;
    kstd::list_del_init(first);
    return kstd::container_of(first, &Napi::runner_link);
}

void net_rx_thread(void*) {
    for (;;) {
        Napi* napi = runner_dequeue();
        if (napi == nullptr) {
            runner_parker.park(0);
            continue;
        }
        int done;
        {
            StackGuard guard;
            done = napi->poll(kNapiBudget);
        }
        napi->polls.fetch_add(1, std::memory_order_relaxed);
        napi_polls.fetch_add(1, std::memory_order_relaxed);
        // A full budget means more is waiting: go to the back, so that other contexts and the
        // application's threads (waiting for stack_lock) get their turn.
        if (done >= kNapiBudget) runner_enqueue(*napi);
    }
}

// The unlocking thread's share of the runner's work (do_softirq), bounded by kSoftirqBudget;
// whatever is left goes to the net-rx thread.
void run_softirq() REQUIRES(stack_lock) {
    softirq_pending = false;
    for (int left = kSoftirqBudget; left > 0;) {
        Napi* napi = runner_dequeue();
        if (napi == nullptr) break;
        int done = napi->poll(kNapiBudget);
        napi->polls.fetch_add(1, std::memory_order_relaxed);
        softirq_polls.fetch_add(1, std::memory_order_relaxed);
        left -= done > 0 ? done : 1;
        if (done >= kNapiBudget) {
            LockGuard guard(runner_lock);
            kstd::list_add_tail(&napi->runner_link, &runner_queue);
        }
    }
    softirq_pending = false;
    bool left_over;
    {
        LockGuard guard(runner_lock);
        left_over = !runner_queue.empty();
    }
    if (left_over) runner_parker.unpark();
}

}  // namespace

StackGuard::StackGuard() {
    stack_lock.lock();
    stack_owner.store(platform::thread_self());
}

StackGuard::~StackGuard() {
    for (;;) {
        if (softirq_pending.load()) run_softirq();
        // Packets a host sent to itself wait on the loopback queue until someone polls it.
        netif_poll_all();
        rearm_lwip_timer();
        stack_owner.store(0);
        // A context scheduled between the check above and the store would wait for a poll
        // nobody makes: take it back and run it. One scheduled after the store woke net-rx.
        if (!softirq_pending.load()) break;
        stack_owner.store(platform::thread_self());
    }
    stack_lock.unlock();
}

void stack_init() {
    if (init_state.load(std::memory_order_acquire) == 2) return;
    int expected = 0;
    if (!init_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
        while (init_state.load(std::memory_order_acquire) != 2) platform::yield();
        return;
    }
    {
        StackGuard guard;
        lwip_init();
    }
    napi_set_runner(runner_enqueue);
    set_busy_poll_hook(stack_busy_poll);
    platform::spawn_kernel_thread(net_rx_thread, nullptr, "pollux-net-rx");
    init_state.store(2, std::memory_order_release);
    if (platform_bringup != nullptr) platform_bringup();
}

void stack_set_bringup(void (*bringup)()) { platform_bringup = bringup; }

StackCounters stack_counters() {
    StackCounters c;
    c.napi_polls = napi_polls.load(std::memory_order_relaxed);
    c.busy_poll_rounds = busy_rounds.load(std::memory_order_relaxed);
    c.softirq_polls = softirq_polls.load(std::memory_order_relaxed);
    return c;
}

bool stack_busy_poll(unsigned napi_id, int budget) {
    Napi* napi = napi_by_id(napi_id);
    if (napi == nullptr || !napi->claim()) return false;
    int done;
    {
        StackGuard guard;
        done = napi->poll(budget);
    }
    busy_rounds.fetch_add(1, std::memory_order_relaxed);
    if (done >= budget) napi->handoff();
    return true;
}

bool tcp_fin_unacked(const tcp_pcb& pcb) {
    return pcb.state == FIN_WAIT_1 || pcb.state == CLOSING || pcb.state == LAST_ACK;
}

int tcp_fins_in_flight() {
    StackGuard guard;
    int n = 0;
    for (tcp_pcb* p = tcp_active_pcbs; p != nullptr; p = p->next) n += tcp_fin_unacked(*p);
    return n;
}

}  // namespace pollux::net
