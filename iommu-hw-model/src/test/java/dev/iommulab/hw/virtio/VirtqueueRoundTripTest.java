package dev.iommulab.hw.virtio;

import static dev.iommulab.hw.virtio.VirtqFixture.DATA;
import static dev.iommulab.hw.virtio.VirtqFixture.INDIRECT_AREA;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Requests through the guest driver (Linux's virtqueue_add_sgs()/virtqueue_get_buf()) and the device (QEMU's
 * virtqueue_split_pop()/virtqueue_fill()/virtqueue_flush()), checked on the bytes of the rings (virtio 1.x §2.7).
 */
class VirtqueueRoundTripTest {

    private static final int Q = 8;

    private final VirtqFixture f = new VirtqFixture(Q);
    private final VirtqueueDriver<String> driver = VirtqueueDriver.create(f.memory, f.layout, false);
    private final VirtqueueDevice device = new VirtqueueDevice(f.memory, f.layout, false);

    private DescriptorChain popChain() {
        PopResult r = device.pop();
        assertThat(r).isInstanceOf(PopResult.Popped.class);
        return ((PopResult.Popped) r).chain();
    }

    @Test
    void addSgs_directChain_writesDescriptorsAvailRingAndIdx() {
        int head = driver.addSgs(List.of(new Segment(DATA, 16)), List.of(new Segment(DATA + 0x100, 32)), "req")
                .orElseThrow();

        assertThat(head).isZero();
        assertThat(Descriptor.read(f.memory, f.layout.desc(0))).isEqualTo(new Descriptor(DATA, 16, 1, 1));
        assertThat(Descriptor.read(f.memory, f.layout.desc(1))).isEqualTo(new Descriptor(DATA + 0x100, 32, 2, 2));
        assertThat(f.u16(f.layout.availAddr() + 4)).isZero();
        assertThat(f.availIdx()).isEqualTo(1);
        assertThat(driver.numFree()).isEqualTo(Q - 2);
    }

    @Test
    void roundTrip_requestAndResponse_deviceSeesBytesDriverGetsTokenAndLength() {
        f.memory.write(DATA, new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
        driver.addSgs(List.of(new Segment(DATA, 8), new Segment(DATA + 8, 4)),
                List.of(new Segment(DATA + 0x100, 2), new Segment(DATA + 0x200, 8)), "map");

        DescriptorChain chain = popChain();
        byte[] request = chain.gather(f.memory, 64);
        int written = chain.scatter(f.memory, new byte[] {(byte) 0xa0, (byte) 0xa1, (byte) 0xa2, (byte) 0xa3});
        boolean published = device.push(chain, written);

        assertThat(chain.head()).isZero();
        assertThat(chain.readable()).containsExactly(new Segment(DATA, 8), new Segment(DATA + 8, 4));
        assertThat(chain.writable()).containsExactly(new Segment(DATA + 0x100, 2), new Segment(DATA + 0x200, 8));
        assertThat(request).containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12);
        assertThat(f.memory.read(DATA + 0x100, 2)).containsExactly(0xa0, 0xa1);
        assertThat(f.memory.read(DATA + 0x200, 3)).containsExactly(0xa2, 0xa3, 0);
        assertThat(published).isTrue();
        assertThat(f.usedElem(0)).containsExactly(0, 4);
        assertThat(f.usedIdx()).isEqualTo(1);
        assertThat(driver.getBuf()).contains(new VirtqueueDriver.UsedBuffer<>("map", 4));
        assertThat(driver.numFree()).isEqualTo(Q);
        assertThat(driver.getBuf()).isEmpty();
        assertThat(device.pop()).isInstanceOf(PopResult.Empty.class);
    }

    @Test
    void getBuf_completedOutOfOrder_freesEachChainAndReusesDescriptors() {
        driver.addSgs(List.of(new Segment(DATA, 4)), List.of(new Segment(DATA + 4, 4)), "a");
        driver.addSgs(List.of(new Segment(DATA + 8, 4)), List.of(), "b");
        DescriptorChain a = popChain();
        DescriptorChain b = popChain();
        device.push(b, 0);
        device.push(a, 4);

        assertThat(driver.getBuf().orElseThrow().token()).isEqualTo("b");
        assertThat(driver.getBuf().orElseThrow().token()).isEqualTo("a");
        assertThat(driver.numFree()).isEqualTo(Q);
        int head = driver.addSgs(List.of(new Segment(DATA, 1)), List.of(), "c").orElseThrow();
        assertThat(head).isEqualTo(a.head()); // the last freed chain is the free list's head
        assertThat(b.head()).isEqualTo(2);
    }

    @Test
    void addSgs_tooFewFreeDescriptors_refusedAndNothingPublished() {
        List<Segment> five = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            five.add(new Segment(DATA + 16L * i, 16));
        }
        driver.addSgs(five, List.of(), "first");

        assertThat(driver.addSgs(five, List.of(), "second")).isEmpty();
        assertThat(f.availIdx()).isEqualTo(1);
        assertThat(driver.numFree()).isEqualTo(3);
        assertThat(driver.addSgs(five.subList(0, 3), List.of(), "third")).isPresent();
        assertThat(driver.numFree()).isZero();
    }

    @Test
    void addSgs_withIndirect_oneRingDescriptorPointsAtTable() {
        VirtqueueDriver<String> indirect = VirtqueueDriver.<String>create(f.memory, f.layout, false)
                .withIndirect(INDIRECT_AREA, 4);

        int head = indirect.addSgs(List.of(new Segment(DATA, 12)),
                List.of(new Segment(DATA + 0x100, 64), new Segment(DATA + 0x200, 1)), "probe").orElseThrow();
        DescriptorChain chain = popChain();

        long table = INDIRECT_AREA; // head 0's table
        assertThat(Descriptor.read(f.memory, f.layout.desc(head))).isEqualTo(new Descriptor(table, 48, 4, 1));
        assertThat(Descriptor.read(f.memory, table)).isEqualTo(new Descriptor(DATA, 12, 1, 1));
        assertThat(Descriptor.read(f.memory, table + 16)).isEqualTo(new Descriptor(DATA + 0x100, 64, 3, 2));
        assertThat(Descriptor.read(f.memory, table + 32)).isEqualTo(new Descriptor(DATA + 0x200, 1, 2, 3));
        assertThat(indirect.numFree()).isEqualTo(Q - 1);
        assertThat(chain).isEqualTo(new DescriptorChain(0, List.of(new Segment(DATA, 12)),
                List.of(new Segment(DATA + 0x100, 64), new Segment(DATA + 0x200, 1))));
        device.push(chain, 65);
        assertThat(indirect.getBuf()).contains(new VirtqueueDriver.UsedBuffer<>("probe", 65));
        assertThat(indirect.numFree()).isEqualTo(Q);
    }

    /** §2.7.5.3.2: the device must accept direct descriptors followed by one indirect; WRITE on it is ignored. */
    @Test
    void pop_directDescriptorsThenIndirect_segmentsOfBothInOrder() {
        long table = INDIRECT_AREA;
        f.rawDesc(0, DATA, 8, Virtq.DESC_F_NEXT, 5);
        f.rawDesc(5, table, 32, Virtq.DESC_F_INDIRECT | Virtq.DESC_F_WRITE, 0);
        f.rawDesc(table, DATA + 8, 4, Virtq.DESC_F_NEXT, 1);
        f.rawDesc(table + 16, DATA + 0x100, 16, Virtq.DESC_F_WRITE, 0);
        f.publish(0, 0, 1);

        DescriptorChain chain = popChain();

        assertThat(chain.readable()).containsExactly(new Segment(DATA, 8), new Segment(DATA + 8, 4));
        assertThat(chain.writable()).containsExactly(new Segment(DATA + 0x100, 16));
        assertThat(chain.readableBytes()).isEqualTo(12);
        assertThat(chain.writableBytes()).isEqualTo(16);
    }

    /**
     * Free-running 16-bit indices (§2.7.6, §2.7.8): both sides wrap past 65535, with a batch of 1 to 4 chains (one
     * indirect descriptor each, all four slots in flight) straddling the wrap, completed in reverse order.
     */
    @Test
    void roundTrips_pastIndex65535_indicesWrapAndEveryTokenReturns() {
        VirtqFixture small = new VirtqFixture(4);
        VirtqueueDriver<Integer> d = VirtqueueDriver.<Integer>create(small.memory, small.layout, false)
                .withIndirect(INDIRECT_AREA, 2);
        VirtqueueDevice dev = new VirtqueueDevice(small.memory, small.layout, false);
        int added = 0;
        int returned = 0;
        boolean batchAcrossWrap = false;
        List<DescriptorChain> popped = new ArrayList<>();
        while (added < 65536 + 7) {
            int batch = 1 + (added / 5) % 4;
            batchAcrossWrap |= added <= 65535 && added + batch > 65536;
            for (int i = 0; i < batch; i++) {
                d.addSgs(List.of(new Segment(DATA, 1)), List.of(new Segment(DATA + 8, 4)), added++).orElseThrow();
            }
            for (int i = 0; i < batch; i++) {
                popped.add(((PopResult.Popped) dev.pop()).chain());
            }
            for (int i = popped.size() - 1; i >= 0; i--) {
                dev.push(popped.get(i), i);
            }
            popped.clear();
            for (int i = 0; i < batch; i++) {
                VirtqueueDriver.UsedBuffer<Integer> used = d.getBuf().orElseThrow();
                assertThat(used.token()).isEqualTo(added - 1 - i);
                assertThat(used.len()).isEqualTo(batch - 1 - i);
                returned++;
            }
        }

        int wrapped = added & 0xffff;
        assertThat(batchAcrossWrap).isTrue();
        assertThat(returned).isEqualTo(added);
        assertThat(small.availIdx()).isEqualTo(wrapped);
        assertThat(small.usedIdx()).isEqualTo(wrapped);
        assertThat(dev.lastAvailIdx()).isEqualTo(wrapped);
        assertThat(dev.usedIdx()).isEqualTo(wrapped);
        assertThat(d.lastUsedIdx()).isEqualTo(wrapped);
        assertThat(d.numFree()).isEqualTo(4);
        assertThat(dev.pop()).isInstanceOf(PopResult.Empty.class);
    }
}
