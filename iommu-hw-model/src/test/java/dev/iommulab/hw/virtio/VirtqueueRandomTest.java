package dev.iommulab.hw.virtio;

import static dev.iommulab.hw.virtio.VirtqFixture.DATA;
import static dev.iommulab.hw.virtio.VirtqFixture.INDIRECT_AREA;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.sim.SimRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Seeded random interleavings of add, kick, pop, push (in any order) and get against a plain model: the device
 * pops chains in the order they were added with their segments, the driver gets back (token, length) in the order
 * the device pushed them, and the free descriptors are the queue size less what outstanding chains hold (one for
 * an indirect chain). Queue size 8, indirect tables for chains of 2 or 3 segments, event index on odd seeds.
 */
class VirtqueueRandomTest {

    private static final int Q = 8;
    private static final int INDIRECT_MAX = 3;

    /** A chain the driver added: its token, segments and how many ring descriptors it holds. */
    private record Request(int token, List<Segment> out, List<Segment> in, int descriptors) {
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8, 0x5eed, 0xdecaf})
    void interleavedOperations_anyOrder_matchModel(long seed) {
        SimRandom rnd = new SimRandom(seed);
        VirtqFixture f = new VirtqFixture(Q);
        boolean eventIdx = (seed & 1) == 1;
        VirtqueueDriver<Integer> driver = VirtqueueDriver.<Integer>create(f.memory, f.layout, eventIdx)
                .withIndirect(INDIRECT_AREA, INDIRECT_MAX);
        VirtqueueDevice device = new VirtqueueDevice(f.memory, f.layout, eventIdx);
        Deque<Request> available = new ArrayDeque<>();
        List<Request> inDevice = new ArrayList<>();
        List<DescriptorChain> chains = new ArrayList<>();
        Deque<long[]> used = new ArrayDeque<>();
        int outstandingDescriptors = 0;
        int nextToken = 0;
        int completed = 0;
        String where = "seed " + seed;

        for (int step = 0; step < 4000; step++) {
            String at = where + " step " + step;
            switch (rnd.nextInt(5)) {
                case 0 -> {
                    Request r = randomRequest(rnd, nextToken);
                    OptionalInt head = driver.addSgs(r.out(), r.in(), r.token());
                    boolean fits = Q - outstandingDescriptors >= r.descriptors();
                    assertThat(head.isPresent()).as(at).isEqualTo(fits);
                    if (fits) {
                        available.add(r);
                        outstandingDescriptors += r.descriptors();
                        nextToken++;
                    }
                }
                case 1 -> driver.kickPrepare();
                case 2 -> {
                    PopResult result = device.pop();
                    Request expected = available.poll();
                    if (expected == null) {
                        assertThat(result).as(at).isInstanceOf(PopResult.Empty.class);
                    } else {
                        DescriptorChain chain = ((PopResult.Popped) result).chain();
                        assertThat(chain.readable()).as(at).isEqualTo(expected.out());
                        assertThat(chain.writable()).as(at).isEqualTo(expected.in());
                        inDevice.add(expected);
                        chains.add(chain);
                    }
                }
                case 3 -> {
                    if (!chains.isEmpty()) {
                        int pick = rnd.nextInt(chains.size());
                        DescriptorChain chain = chains.remove(pick);
                        Request r = inDevice.remove(pick);
                        long written = rnd.nextLong(chain.writableBytes() + 1);
                        assertThat(device.push(chain, written)).as(at).isTrue();
                        used.add(new long[] {r.token(), written, r.descriptors()});
                        device.needsNotification();
                    }
                }
                default -> {
                    long[] expected = used.poll();
                    var got = driver.getBuf();
                    if (expected == null) {
                        assertThat(got).as(at).isEmpty();
                    } else {
                        assertThat(got).as(at).contains(
                                new VirtqueueDriver.UsedBuffer<>((int) expected[0], expected[1]));
                        outstandingDescriptors -= (int) expected[2];
                        completed++;
                    }
                }
            }
            assertThat(driver.numFree()).as(at).isEqualTo(Q - outstandingDescriptors);
            assertThat(device.inUse()).as(at).isEqualTo(chains.size());
        }

        assertThat(device.broken()).as(where).isFalse();
        assertThat(driver.broken()).as(where).isFalse();
        assertThat(f.availIdx()).as(where).isEqualTo(nextToken & 0xffff);
        assertThat(f.usedIdx()).as(where).isEqualTo((completed + used.size()) & 0xffff);
        assertThat(completed).as(where).isGreaterThan(200);
    }

    /** 1 to 4 segments, readable then writable, lengths 1..64 in the data area. */
    private static Request randomRequest(SimRandom rnd, int token) {
        int total = 1 + rnd.nextInt(4);
        int readable = rnd.nextInt(total + 1);
        List<Segment> out = new ArrayList<>();
        List<Segment> in = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            Segment s = new Segment(DATA + 64L * rnd.nextInt(1024), 1 + rnd.nextInt(64));
            (i < readable ? out : in).add(s);
        }
        int descriptors = total > 1 && total <= INDIRECT_MAX ? 1 : total;
        return new Request(token, out, in, descriptors);
    }
}
