// The split ring's driver side against a fake device: chains and the free list, index
// wrap-around, and notification suppression in both directions with and without EVENT_IDX.
#include "drivers/virtio/virtqueue.h"

#include <gtest/gtest.h>

#include "fake_device.h"

namespace pollux::virtio {
namespace {

using testing::Chain;
using testing::FakeDevice;
using testing::HeapDma;

static_assert(sizeof(VirtqDesc) == 16 && sizeof(VirtqUsedElem) == 8 && sizeof(VirtioNetHdr) == 12);
static_assert(kFeatVersion1 == 32 && kFeatRingEventIdx == 29 && kNetFeatMrgRxbuf == 15 && kNetFeatMac == 5);

TEST(Need, EventIdxArithmeticWraps) {
    EXPECT_TRUE(need_event(0, 1, 0));
    EXPECT_FALSE(need_event(1, 1, 0));  // asked about the step to 2
    EXPECT_TRUE(need_event(5, 10, 3));
    EXPECT_FALSE(need_event(10, 10, 3));
    EXPECT_TRUE(need_event(0xffff, 2, 0xfffe));  // across the wrap
    EXPECT_FALSE(need_event(3, 2, 0xfffe));
}

TEST(Virtqueue, ChainsComeBackWithTheirTokensAndFreeTheirDescriptors) {
    HeapDma dma;
    Virtqueue q;
    ASSERT_TRUE(q.init(dma, 1, 8, false));
    FakeDevice dev;
    dev.attach(q, false);
    uint64_t a = 0x1000, b = 0x2000, c = 0x3000;
    Virtqueue::Buffer chain[3] = {{a, 12, false}, {b, 100, false}, {c, 64, true}};
    int token1 = 0, token2 = 0;
    ASSERT_TRUE(q.add(chain, 3, &token1));
    ASSERT_TRUE(q.add(chain, 3, &token2));
    EXPECT_EQ(q.free_descriptors(), 2);
    EXPECT_FALSE(q.add(chain, 3, &token1));  // no room: nothing changes
    EXPECT_EQ(q.free_descriptors(), 2);

    Chain got;
    ASSERT_TRUE(dev.take(&got));
    ASSERT_EQ(got.descs.size(), 3u);
    EXPECT_EQ(got.descs[0].addr, a);
    EXPECT_EQ(got.descs[1].len, 100u);
    EXPECT_EQ(got.descs[2].flags, kDescWrite);
    EXPECT_EQ(got.descs[0].flags, kDescNext);
    dev.complete(got.head, 64);
    uint32_t len = 0;
    EXPECT_EQ(q.pop_used(&len), &token1);
    EXPECT_EQ(len, 64u);
    EXPECT_EQ(q.pop_used(&len), nullptr);
    EXPECT_EQ(q.free_descriptors(), 5);
    ASSERT_TRUE(dev.take(&got));
    dev.complete(got.head, 0);
    EXPECT_EQ(q.pop_used(nullptr), &token2);
    EXPECT_EQ(q.free_descriptors(), 8);
}

// 70 000 single and chained buffers through a ring of 4: both 16-bit indices wrap.
TEST(Virtqueue, IndicesWrapAround) {
    HeapDma dma;
    Virtqueue q;
    ASSERT_TRUE(q.init(dma, 0, 4, true));
    FakeDevice dev;
    dev.attach(q, true);
    int tokens[4];
    for (int i = 0; i < 70000; ++i) {
        int n = 1 + i % 3;
        Virtqueue::Buffer bufs[3] = {{uint64_t(i), 1, false}, {2, 2, false}, {3, 3, true}};
        ASSERT_TRUE(q.add(bufs, n, &tokens[i % 4])) << i;
        Chain got;
        ASSERT_TRUE(dev.take(&got));
        ASSERT_EQ(int(got.descs.size()), n);
        ASSERT_EQ(got.descs[0].addr, uint64_t(i));
        dev.complete(got.head, uint32_t(i));
        uint32_t len = 0;
        ASSERT_EQ(q.pop_used(&len), &tokens[i % 4]);
        ASSERT_EQ(len, uint32_t(i));
        ASSERT_EQ(q.free_descriptors(), 4);
    }
}

TEST(Virtqueue, KickOnlyWhenTheDeviceAskedUnderEventIdx) {
    HeapDma dma;
    Virtqueue q;
    ASSERT_TRUE(q.init(dma, 1, 16, true));
    FakeDevice dev;
    dev.attach(q, true);
    int t;
    Virtqueue::Buffer b{0x1000, 60, false};
    EXPECT_FALSE(q.kick_prepare());  // nothing added
    dev.want_kick();                  // avail_event = 0: the step 0 -> 1
    ASSERT_TRUE(q.add(&b, 1, &t));
    ASSERT_TRUE(q.add(&b, 1, &t));
    EXPECT_TRUE(q.kick_prepare());  // one kick for the batch
    ASSERT_TRUE(q.add(&b, 1, &t));
    EXPECT_FALSE(q.kick_prepare());  // the device is busy and did not ask again
    Chain c;
    while (dev.take(&c)) dev.complete(c.head, 0);
    dev.want_kick();  // the device drained the ring and goes to sleep: wants the next one
    ASSERT_TRUE(q.add(&b, 1, &t));
    EXPECT_TRUE(q.kick_prepare());
}

TEST(Virtqueue, KickFollowsNoNotifyWithoutEventIdx) {
    HeapDma dma;
    Virtqueue q;
    ASSERT_TRUE(q.init(dma, 1, 16, false));
    FakeDevice dev;
    dev.attach(q, false);
    int t;
    Virtqueue::Buffer b{0x1000, 60, false};
    ASSERT_TRUE(q.add(&b, 1, &t));
    EXPECT_TRUE(q.kick_prepare());
    dev.set_no_notify(true);
    ASSERT_TRUE(q.add(&b, 1, &t));
    EXPECT_FALSE(q.kick_prepare());
}

// The NAPI race: the device completes an entry after the driver's last look but before it
// sees the re-enable. It owes no interrupt for it, so enable_interrupts() must report it.
void interrupt_suppression(bool event_idx) {
    HeapDma dma;
    Virtqueue q;
    ASSERT_TRUE(q.init(dma, 0, 8, event_idx));
    FakeDevice dev;
    dev.attach(q, event_idx);
    int tokens[8];
    Virtqueue::Buffer b{0x1000, 2048, true};
    for (int& t : tokens) ASSERT_TRUE(q.add(&b, 1, &t));
    Chain c;

    EXPECT_FALSE(q.enable_interrupts());
    ASSERT_TRUE(dev.take(&c));
    EXPECT_TRUE(dev.complete(c.head, 60));  // armed: the first completion interrupts
    q.disable_interrupts();                 // the handler masks
    ASSERT_TRUE(dev.take(&c));
    EXPECT_FALSE(dev.complete(c.head, 60));  // masked: no interrupt while the poll runs
    EXPECT_NE(q.pop_used(nullptr), nullptr);
    EXPECT_NE(q.pop_used(nullptr), nullptr);
    EXPECT_FALSE(q.enable_interrupts());  // drained: re-armed, nothing pending
    ASSERT_TRUE(dev.take(&c));
    EXPECT_TRUE(dev.complete(c.head, 60));  // and the next one interrupts again

    // The slip: poll drains, the device completes one more while still masked, then the poll
    // re-enables. No interrupt is coming for it; enable_interrupts() says to poll again.
    q.disable_interrupts();
    EXPECT_NE(q.pop_used(nullptr), nullptr);
    ASSERT_TRUE(dev.take(&c));
    EXPECT_FALSE(dev.complete(c.head, 60));
    EXPECT_TRUE(q.enable_interrupts());
    EXPECT_NE(q.pop_used(nullptr), nullptr);
    EXPECT_FALSE(q.enable_interrupts());
}

TEST(Virtqueue, InterruptSuppressionAndTheRaceCheckWithEventIdx) { interrupt_suppression(true); }
TEST(Virtqueue, InterruptSuppressionAndTheRaceCheckWithFlags) { interrupt_suppression(false); }

TEST(Virtqueue, RejectsBadSizes) {
    HeapDma dma;
    Virtqueue q;
    EXPECT_FALSE(q.init(dma, 0, 0, false));
    EXPECT_FALSE(q.init(dma, 0, 6, false));
    EXPECT_TRUE(q.init(dma, 0, 256, false));
    EXPECT_EQ(q.used_address() % 4096, 0u);
}

}  // namespace
}  // namespace pollux::virtio
