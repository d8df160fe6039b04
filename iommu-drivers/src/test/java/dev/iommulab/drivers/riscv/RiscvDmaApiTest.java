package dev.iommulab.drivers.riscv;

import static dev.iommulab.core.dma.DmaDirection.DMA_TO_DEVICE;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.Device;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.dma.DmaFlush;
import dev.iommulab.core.dma.IommuDma;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * The DMA API over the RISC-V driver and IOMMU model. Mainline's riscv_iommu_capable() does not claim
 * IOMMU_CAP_DEFERRED_FLUSH, so iommu_dma_init_domain() turns a DMA_FQ domain into DMA: under {@code dma.flush:
 * lazy} the RISC-V IOMMU is as strict as under {@code strict}, and there is no stale window after an unmap.
 */
class RiscvDmaApiTest {

    private static final int NIC = 0x0400;
    private static final long BUF = 0x0600_0000L;

    private final RiscvIommuFixture f = new RiscvIommuFixture();
    private final PcieEndpoint nicEp = f.probePlain("nic0", NIC, DeviceProfile.NIC, 0);
    private final Device nic = f.core.devices().get(1);

    private long dataPage(int fill) {
        byte[] bytes = new byte[4096];
        Arrays.fill(bytes, (byte) fill);
        f.memory.write(BUF, bytes);
        return BUF;
    }

    /**
     * Lazy asked, strict given: the domain falls back to DMA; the mapped buffer is read through the Sv57 table and
     * the first DMA after the unmap faults (the unmap sent IOTINVAL.VMA) with no flush-queue timer pending.
     */
    @Test
    void dmaUnmapSingle_lazyPolicy_fallsBackToStrictAndFaultsAtOnce() {
        IommuDma dma = new IommuDma(f.core, f.loop, f.log, DmaFlush.DEFAULT);
        IommuDomain d = f.core.domainAllocPaging(nic, dma.dmaDomainType(), 0);
        f.core.attachDevice(d, nic);
        dma.initDomain(d, nic);
        long addr = dma.dmaMapSingle(nic, dataPage(0x6b), 4096, DMA_TO_DEVICE);
        DmaOutcome ok = f.read(nicEp, addr, 64);

        dma.dmaUnmapSingle(nic, addr, 4096, DMA_TO_DEVICE);

        assertThat(d.type()).isEqualTo(DomainType.DMA);
        assertThat(addr).isEqualTo(0xffff_f000L);
        assertThat(ok.status()).isEqualTo(DmaStatus.OK);
        assertThat(ok.data()).containsOnly((byte) 0x6b);
        assertThat(f.loop.isIdle()).as("no flush-queue timer").isTrue();
        assertThat(f.read(nicEp, addr, 64).status()).isEqualTo(DmaStatus.UR);
        assertThat(dma.flushQueueDepth(d)).isZero();
    }
}
