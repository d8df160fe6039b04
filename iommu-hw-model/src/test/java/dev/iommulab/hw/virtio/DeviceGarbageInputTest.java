package dev.iommulab.hw.virtio;

import static dev.iommulab.hw.virtio.VirtqFixture.INDIRECT_AREA;
import static dev.iommulab.hw.virtio.VirtqFixture.MEMORY_BYTES;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.sim.SimRandom;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * DESIGN.md §6 for the virtqueue device: random bytes in the descriptor table, the available ring and an indirect
 * area never make it throw; every chain it accepts lies in memory with no empty segment, and once it refuses one
 * it stays broken until reset.
 */
class DeviceGarbageInputTest {

    private static final int Q = 16;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})
    void pop_randomRingBytes_neverThrowsAndReportsOrAccepts(long seed) {
        SimRandom rnd = new SimRandom(seed);
        VirtqFixture f = new VirtqFixture(Q);
        VirtqueueDevice device = new VirtqueueDevice(f.memory, f.layout, (seed & 1) == 1);
        List<DescriptorChain> inUse = new ArrayList<>();
        int accepted = 0;
        int refused = 0;

        for (int step = 0; step < 3000; step++) {
            String at = "seed " + seed + " step " + step;
            corrupt(f, rnd);
            PopResult r = device.pop();
            if (r instanceof PopResult.Popped p) {
                DescriptorChain c = p.chain();
                assertThat(c.head()).as(at).isBetween(0, Q - 1);
                assertThat(c.readable()).as(at).allSatisfy(s -> assertThat(
                        s.len() > 0 && f.memory.contains(s.addr(), s.len())).isTrue());
                assertThat(c.writable()).as(at).allSatisfy(s -> assertThat(
                        s.len() > 0 && f.memory.contains(s.addr(), s.len())).isTrue());
                inUse.add(c);
                accepted++;
            } else if (r instanceof PopResult.Malformed m) {
                assertThat(device.pop()).as(at).isInstanceOf(PopResult.Broken.class);
                assertThat(m.error()).as(at).isEqualTo(device.error());
                refused++;
                device.reset();
                f.u16(f.layout.availIdx(), 0); // the driver sets the queue up again
                inUse.clear();
            }
            if (!inUse.isEmpty() && rnd.nextBoolean()) {
                DescriptorChain c = inUse.remove(rnd.nextInt(inUse.size()));
                assertThat(device.push(c, rnd.nextLong(c.writableBytes() + 1))).as(at).isTrue();
            }
        }

        assertThat(accepted).as("seed " + seed).isPositive();
        assertThat(refused).as("seed " + seed).isPositive();
    }

    /** Mostly plausible values (small indices, addresses in memory, common flags), sometimes anything at all. */
    private static void corrupt(VirtqFixture f, SimRandom rnd) {
        boolean wild = rnd.nextInt(16) == 0;
        switch (rnd.nextInt(4)) {
            case 0 -> {
                int slot = rnd.nextInt(Q);
                if (wild) {
                    f.rawDesc(slot, rnd.nextLong(Long.MAX_VALUE), rnd.nextInt(Integer.MAX_VALUE),
                            rnd.nextInt(0x10000), rnd.nextInt(0x10000));
                } else if (rnd.nextInt(8) == 0) {
                    f.rawDesc(slot, INDIRECT_AREA + 16L * rnd.nextInt(64), 16 * (1 + rnd.nextInt(4)),
                            Virtq.DESC_F_INDIRECT, 0);
                } else {
                    f.rawDesc(slot, rnd.nextLong(MEMORY_BYTES - 64), 1 + rnd.nextInt(64), rnd.nextInt(4),
                            rnd.nextInt(Q));
                }
            }
            case 1 -> f.rawDesc(INDIRECT_AREA + 16L * rnd.nextInt(64), rnd.nextLong(MEMORY_BYTES - 64),
                    1 + rnd.nextInt(64), rnd.nextInt(wild ? 8 : 4), rnd.nextInt(6));
            case 2 -> f.u16(f.layout.availRing(rnd.nextInt(Q)), wild ? rnd.nextInt(0x10000) : rnd.nextInt(Q));
            default -> f.u16(f.layout.availIdx(), wild ? rnd.nextInt(0x10000)
                    : (f.availIdx() + rnd.nextInt(3)) & 0xffff);
        }
    }
}
