package dev.iommulab.hw.virtio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.iommulab.hw.mem.PhysicalMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** virtio 1.x §2.7 Split Virtqueues: the sizes and alignment of the three parts and the descriptor's bytes. */
class VirtqueueLayoutTest {

    /** research §1.1: Q=256 (QEMU's virtio-iommu default) gives 4096, 518 and 2054 bytes. */
    @Test
    void contiguous_size256_partsOfSpecSizesAtTheirAlignment() {
        VirtqueueLayout l = VirtqueueLayout.contiguous(256, 0x1001);

        assertThat(VirtqueueLayout.descTableBytes(256)).isEqualTo(4096);
        assertThat(VirtqueueLayout.availRingBytes(256)).isEqualTo(518);
        assertThat(VirtqueueLayout.usedRingBytes(256)).isEqualTo(2054);
        assertThat(l.descAddr()).isEqualTo(0x1010);
        assertThat(l.availAddr()).isEqualTo(0x2010);
        assertThat(l.usedAddr()).isEqualTo(0x2010 + 520); // 518 rounded up to 4
        assertThat(l.aligned()).isTrue();
        assertThat(l.usedEvent()).isEqualTo(l.availAddr() + 4 + 512);
        assertThat(l.availEvent()).isEqualTo(l.usedAddr() + 4 + 2048);
        assertThat(l.end()).isEqualTo(l.usedAddr() + 2054);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 100, 65536, -8})
    void constructor_sizeNotPowerOfTwoUpTo32768_rejected(int size) {
        assertThatThrownBy(() -> new VirtqueueLayout(size, 0, 0x1000, 0x2000))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void constructor_size32768_accepted() {
        assertThat(new VirtqueueLayout(32768, 0, 0x8_0000, 0x9_0000).size()).isEqualTo(32768);
    }

    @Test
    void usedElem_indexPastSize_wrapsToSlot() {
        VirtqueueLayout l = new VirtqueueLayout(8, 0, 0x1000, 0x2000);

        assertThat(l.usedElem(65535)).isEqualTo(0x2000 + 4 + 8 * 7);
        assertThat(l.availRing(65536 + 3)).isEqualTo(0x1000 + 4 + 2 * 3);
    }

    @Test
    void aligned_usedRingAtTwoModFour_false() {
        assertThat(new VirtqueueLayout(8, 0, 0x1000, 0x2002).aligned()).isFalse();
        assertThat(new VirtqueueLayout(8, 8, 0x1000, 0x2000).aligned()).isFalse();
        assertThat(new VirtqueueLayout(8, 0, 0x1001, 0x2000).aligned()).isFalse();
    }

    @Test
    void descriptorWrite_fields_littleEndianAtSpecOffsets() {
        PhysicalMemory memory = new PhysicalMemory(0x1000);

        new Descriptor(0x1122_3344_5566_7788L, 0xaabb_ccddL, 0x0007, 0x1234).write(memory, 0x100);

        assertThat(memory.read(0x100, 16)).containsExactly(0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
                0xdd, 0xcc, 0xbb, 0xaa, 0x07, 0x00, 0x34, 0x12);
        assertThat(Descriptor.read(memory, 0x100)).isEqualTo(new Descriptor(0x1122_3344_5566_7788L, 0xaabb_ccddL,
                7, 0x1234));
    }
}
