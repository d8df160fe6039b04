package dev.iommulab.hw.virtio;

import static dev.iommulab.hw.virtio.VirtqFixture.DATA;
import static dev.iommulab.hw.virtio.VirtqFixture.INDIRECT_AREA;
import static dev.iommulab.hw.virtio.VirtqFixture.MEMORY_BYTES;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every malformed ring and chain the device refuses (research §1.5, QEMU's virtqueue_split_pop() and helpers,
 * virtio 1.x §2.7.5.3.1 for the indirect rules), each built by writing bad bytes into guest memory. The device
 * reports the error with QEMU's text, writes nothing to the used ring, and pops nothing more until reset.
 */
class MalformedChainTest {

    private static final int Q = 8;
    private static final int NEXT = Virtq.DESC_F_NEXT;
    private static final int WRITE = Virtq.DESC_F_WRITE;
    private static final int INDIRECT = Virtq.DESC_F_INDIRECT;

    private final VirtqFixture f = new VirtqFixture(Q);
    private final VirtqueueDevice device = new VirtqueueDevice(f.memory, f.layout, false);

    private void assertRefused(ChainError error, String message) {
        assertRefused(device, f, error, message);
    }

    private static void assertRefused(VirtqueueDevice device, VirtqFixture f, ChainError error, String message) {
        byte[] usedBefore = f.usedRing();

        PopResult result = device.pop();

        assertThat(result).isEqualTo(new PopResult.Malformed(error, message));
        assertThat(f.usedRing()).isEqualTo(usedBefore);
        assertThat(device.broken()).isTrue();
        assertThat(device.error()).isEqualTo(error);
        assertThat(device.pop()).isInstanceOf(PopResult.Broken.class);
    }

    @Test
    void pop_availIdxMovedMoreThanQueueSize_availIdxJump() {
        f.publish(0, 0, Q + 1);

        assertRefused(ChainError.AVAIL_IDX_JUMP, "Guest moved used index from 0 to 9");
    }

    @Test
    void pop_availIdxMovedBackwards_availIdxJump() {
        f.publish(0, 0, 0xffff); // 65535 - 0 = 65535 pending: the driver decremented the index

        assertRefused(ChainError.AVAIL_IDX_JUMP, "Guest moved used index from 0 to 65535");
    }

    @Test
    void pop_queueSizeChainsAlreadyInUse_sizeExceeded() {
        f.rawDesc(0, DATA, 4, 0, 0);
        for (int i = 0; i < Q; i++) {
            f.publish(i, 0, i + 1); // the same head made available eight times
            assertThat(device.pop()).isInstanceOf(PopResult.Popped.class);
        }
        f.publish(0, 0, Q + 1);

        assertRefused(ChainError.SIZE_EXCEEDED, "Virtqueue size exceeded");
        assertThat(device.inUse()).isEqualTo(Q);
    }

    @Test
    void pop_headNotBelowQueueSize_headOutOfRangeAndPositionMovedOn() {
        f.publish(0, Q, 1);

        assertRefused(ChainError.HEAD_OUT_OF_RANGE, "Guest says index 8 is available");
        assertThat(device.lastAvailIdx()).isEqualTo(1); // as QEMU: incremented before the head is checked
    }

    @Test
    void pop_usedRingOutsideMemory_ringNotMappable() {
        VirtqueueLayout layout = new VirtqueueLayout(Q, f.layout.descAddr(), f.layout.availAddr(), MEMORY_BYTES - 8);
        VirtqueueDevice dev = new VirtqueueDevice(f.memory, layout, false);
        f.publish(0, 0, 1);

        PopResult result = dev.pop();

        assertThat(result).isEqualTo(new PopResult.Malformed(ChainError.RING_NOT_MAPPABLE,
                "Region caches not initialized"));
        assertThat(f.memory.read(MEMORY_BYTES - 8, 8)).containsOnly(0);
        assertThat(dev.broken()).isTrue();
    }

    @Test
    void pop_descriptorTableOutsideMemory_descTableNotMappable() {
        VirtqueueLayout layout = new VirtqueueLayout(Q, MEMORY_BYTES - 64, f.layout.availAddr(), f.layout.usedAddr());
        VirtqueueDevice dev = new VirtqueueDevice(f.memory, layout, false);
        f.publish(0, 0, 1);

        assertRefused(dev, f, ChainError.DESC_TABLE_NOT_MAPPABLE, "Cannot map descriptor ring");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 24, 8})
    void pop_indirectLengthZeroOrNotMultipleOf16_indirectBadSize(int len) {
        f.rawDesc(0, INDIRECT_AREA, len, INDIRECT, 0);
        f.publish(0, 0, 1);

        assertRefused(ChainError.INDIRECT_BAD_SIZE, "Invalid size for indirect buffer table");
    }

    @Test
    void pop_indirectTableOutsideMemory_indirectNotMappable() {
        f.rawDesc(0, MEMORY_BYTES - 16, 32, INDIRECT, 0);
        f.publish(0, 0, 1);

        assertRefused(ChainError.INDIRECT_NOT_MAPPABLE, "Cannot map indirect buffer");
    }

    @Test
    void pop_indirectWithNext_indirectWithNext() {
        f.rawDesc(0, DATA, 4, NEXT, 3);
        f.rawDesc(3, INDIRECT_AREA, 16, INDIRECT | NEXT, 4);
        f.rawDesc(INDIRECT_AREA, DATA + 4, 4, 0, 0);
        f.rawDesc(4, DATA + 8, 4, 0, 0);
        f.publish(0, 0, 1);

        assertRefused(ChainError.INDIRECT_WITH_NEXT, "Indirect descriptor 3 has NEXT set");
    }

    @Test
    void pop_indirectInsideIndirectTable_nestedIndirect() {
        f.rawDesc(0, INDIRECT_AREA, 32, INDIRECT, 0);
        f.rawDesc(INDIRECT_AREA, DATA, 4, NEXT, 1);
        f.rawDesc(INDIRECT_AREA + 16, INDIRECT_AREA + 0x100, 16, INDIRECT, 0);
        f.publish(0, 0, 1);

        assertRefused(ChainError.NESTED_INDIRECT, "Indirect descriptor 1 inside an indirect table");
    }

    @Test
    void pop_readableAfterWritable_wrongOrder() {
        f.rawDesc(0, DATA, 4, WRITE | NEXT, 1);
        f.rawDesc(1, DATA + 4, 4, 0, 0);
        f.publish(0, 0, 1);

        assertRefused(ChainError.WRONG_ORDER, "Incorrect order for descriptors");
    }

    @Test
    void pop_readableInIndirectAfterWritableDirect_wrongOrder() {
        f.rawDesc(0, DATA, 4, WRITE | NEXT, 1);
        f.rawDesc(1, INDIRECT_AREA, 16, INDIRECT, 0);
        f.rawDesc(INDIRECT_AREA, DATA + 4, 4, 0, 0);
        f.publish(0, 0, 1);

        assertRefused(ChainError.WRONG_ORDER, "Incorrect order for descriptors");
    }

    @Test
    void pop_zeroLengthBuffer_zeroSizedBuffer() {
        f.rawDesc(0, DATA, 4, NEXT, 1);
        f.rawDesc(1, DATA + 4, 0, WRITE, 0);
        f.publish(0, 0, 1);

        assertRefused(ChainError.ZERO_SIZED_BUFFER, "virtio: zero sized buffers are not allowed");
    }

    /**
     * A buffer QEMU cannot map is a bogus descriptor: one crossing the end of guest memory, one whose address has the
     * top bit set, one of 4 GiB - 1 bytes (the length is unsigned).
     */
    @ParameterizedTest(name = "addr {0} len {1}")
    @CsvSource({"0xffffc, 8", "0x8000000000001000, 8", "0x40000, -1"})
    void pop_unmappableBuffer_bogusDescriptor(String addr, int len) {
        assertThat(MEMORY_BYTES - 4).as("the first address crosses the end of memory").isEqualTo(0xffffcL);
        f.rawDesc(0, Long.parseUnsignedLong(addr.substring(2), 16), len, 0, 0);
        f.publish(0, 0, 1);

        assertRefused(ChainError.BOGUS_DESCRIPTOR, "virtio: bogus descriptor or out of resources");
    }

    @Test
    void pop_chainLoopsInTable_loopedDescriptor() {
        f.rawDesc(2, DATA, 4, NEXT, 5);
        f.rawDesc(5, DATA + 4, 4, NEXT, 2);
        f.publish(0, 2, 1);

        assertRefused(ChainError.LOOPED_DESCRIPTOR, "Looped descriptor");
    }

    @Test
    void pop_chainLoopsInIndirectTable_loopedDescriptor() {
        f.rawDesc(0, INDIRECT_AREA, 48, INDIRECT, 0);
        f.rawDesc(INDIRECT_AREA, DATA, 4, NEXT, 1);
        f.rawDesc(INDIRECT_AREA + 16, DATA, 4, NEXT, 2);
        f.rawDesc(INDIRECT_AREA + 32, DATA, 4, NEXT, 1);
        f.publish(0, 0, 1);

        assertRefused(ChainError.LOOPED_DESCRIPTOR, "Looped descriptor");
    }

    @Test
    void pop_nextNotBelowQueueSize_nextOutOfRange() {
        f.rawDesc(0, DATA, 4, NEXT, Q);
        f.publish(0, 0, 1);

        assertRefused(ChainError.NEXT_OUT_OF_RANGE, "Desc next is 8");
    }

    @Test
    void pop_nextNotBelowIndirectTableSize_nextOutOfRange() {
        f.rawDesc(0, INDIRECT_AREA, 32, INDIRECT, 0);
        f.rawDesc(INDIRECT_AREA, DATA, 4, NEXT, 2);
        f.publish(0, 0, 1);

        assertRefused(ChainError.NEXT_OUT_OF_RANGE, "Desc next is 2");
    }

    @Test
    void push_afterError_nothingWrittenAndResetRestoresService() {
        f.rawDesc(0, DATA, 4, WRITE, 0);
        f.rawDesc(1, DATA, 4, NEXT, Q);
        f.publish(0, 0, 1);
        DescriptorChain good = ((PopResult.Popped) device.pop()).chain();
        f.publish(1, 1, 2);
        assertThat(device.pop()).isInstanceOf(PopResult.Malformed.class);
        byte[] usedBefore = f.usedRing();

        boolean published = device.push(good, 4);
        device.reset();
        VirtqueueDriver<String> driver = VirtqueueDriver.create(f.memory, f.layout, false);
        driver.addSgs(List.of(), List.of(new Segment(DATA, 4)), "again");

        assertThat(published).isFalse();
        assertThat(f.usedRing()).isEqualTo(usedBefore);
        assertThat(device.needsNotification()).isTrue();
        assertThat(device.pop()).isInstanceOf(PopResult.Popped.class);
    }
}
