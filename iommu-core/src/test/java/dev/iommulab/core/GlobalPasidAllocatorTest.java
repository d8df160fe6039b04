package dev.iommulab.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.EndpointConfig;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import org.junit.jupiter.api.Test;

/** iommu_alloc_global_pasid() / iommu_free_global_pasid(): one system-wide IDA over [1, max_pasids - 1]. */
class GlobalPasidAllocatorTest {

    private final EventLoop loop = new EventLoop(1);
    private final IommuCore core = new IommuCore();
    private final RecordingOps ops = new RecordingOps();
    private final GlobalPasidAllocator pasids = new GlobalPasidAllocator();

    private Device probe(int rid, int pasidBits) {
        EndpointConfig config = new EndpointConfig("dev" + rid, rid, DeviceProfile.ACCELERATOR, true, true, pasidBits,
                32, 16, 4);
        return core.probeDevice(new PcieEndpoint(config, loop, TimingModel.ESTIMATES), ops);
    }

    /**
     * iommu_alloc_global_pasid() starts at IOMMU_FIRST_GLOBAL_PASID (1) and counts up. Reference §1.7,
     * §4.1 step 2.
     */
    @Test
    void alloc_freshSpace_returnsOneThenTwoThenThree() {
        Device dev = probe(0x100, 8);

        assertThat(pasids.alloc(dev)).isEqualTo(1);
        assertThat(pasids.alloc(dev)).isEqualTo(2);
        assertThat(pasids.alloc(dev)).isEqualTo(3);
        assertThat(pasids.isAllocated(0)).isFalse();
        assertThat(pasids.isAllocated(3)).isTrue();
    }

    /**
     * The IDA hands out the lowest free id: after iommu_free_global_pasid(2) the next alloc returns 2.
     * Reference §4.1 step 2, §8 item 29.
     */
    @Test
    void alloc_afterFreeInTheMiddle_reusesLowestFree() {
        Device dev = probe(0x100, 8);
        pasids.alloc(dev);
        pasids.alloc(dev);
        pasids.alloc(dev);

        pasids.free(2);

        assertThat(pasids.isAllocated(2)).isFalse();
        assertThat(pasids.alloc(dev)).isEqualTo(2);
        assertThat(pasids.alloc(dev)).isEqualTo(4);
    }

    /**
     * A device without PASID support (max_pasids 0) gets IOMMU_PASID_INVALID, i.e. -ENOSPC, and nothing is
     * allocated. Reference §8 item 28, §4.1 step 2.
     */
    @Test
    void alloc_deviceWithoutPasidSupport_throwsEnospc() {
        Device dev = probe(0x100, 0);

        KernelException e = catchThrowableOfType(KernelException.class, () -> pasids.alloc(dev));

        assertThat(e.errno()).isEqualTo(Errno.ENOSPC);
        assertThat(pasids.isAllocated(1)).isFalse();
    }

    /**
     * The range is [1, max_pasids - 1]: a 4-PASID device gets 1..3, then -ENOSPC without taking 4; the space
     * is global, so a small device fails once others used its range. Reference §8 item 28, §4.1 step 2.
     */
    @Test
    void alloc_rangeExhausted_throwsEnospcAndAllocatesNothing() {
        Device small = probe(0x100, 2);
        Device big = probe(0x200, 8);
        assertThat(pasids.alloc(small)).isEqualTo(1);
        assertThat(pasids.alloc(big)).isEqualTo(2);
        assertThat(pasids.alloc(small)).isEqualTo(3);

        KernelException e = catchThrowableOfType(KernelException.class, () -> pasids.alloc(small));

        assertThat(e.errno()).isEqualTo(Errno.ENOSPC);
        assertThat(pasids.isAllocated(4)).isFalse();
        assertThat(pasids.alloc(big)).isEqualTo(4);
    }

    /**
     * iommu_free_global_pasid() of a PASID that is not allocated (or IOMMU_NO_PASID) is refused with -EINVAL.
     * Reference §1.7, DESIGN §6.
     */
    @Test
    void free_notAllocated_throwsEinval() {
        Device dev = probe(0x100, 8);
        pasids.alloc(dev);

        assertThat(catchThrowableOfType(KernelException.class, () -> pasids.free(2)).errno())
                .isEqualTo(Errno.EINVAL);
        assertThat(catchThrowableOfType(KernelException.class, () -> pasids.free(IommuCore.IOMMU_NO_PASID))
                .errno()).isEqualTo(Errno.EINVAL);
        assertThat(pasids.isAllocated(1)).isTrue();
    }
}
