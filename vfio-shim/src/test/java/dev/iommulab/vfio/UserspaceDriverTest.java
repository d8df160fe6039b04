package dev.iommulab.vfio;

import static dev.iommulab.vfio.VtdIommufdMachine.VA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pgtable.Access;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The user-space driver serving a device's page faults through iommufd on VT-d: DMA to an IOVA it has not mapped
 * yet raises a page request, io-pgfault hands the group to the fault object, the driver is woken, reads it, pins and
 * maps the page into the IOAS and writes SUCCESS; the device retries and the data lands in the process's page
 * (iommufd_fault_iopf_handler(), iommufd_fault_fops_read/write(), iopt_map_user_pages()).
 */
class UserspaceDriverTest {

    private static final long IOVA = 0x4000_0000L;

    private final VtdIommufdMachine m = new VtdIommufdMachine();
    private final List<DmaOutcome> outcomes = new ArrayList<>();

    private UserspaceDriver driver(UserspaceDriver.Policy policy) {
        return new UserspaceDriver(m.ctx, m.mm, m.loop, m.timing, policy, 1280);
    }

    private void dmaWrite(long iova, int pasid, byte fill) {
        byte[] data = new byte[8192];
        Arrays.fill(data, fill);
        m.acc0.startDma(new DmaJob(iova, data.length, Access.WRITE, pasid, false, data), outcomes::add);
        m.loop.runUntilIdle();
    }

    /** resolve-and-succeed: two faulting pages are mapped on demand, each group answered SUCCESS once. */
    @Test
    void resolveAndSucceed_dmaToOnFaultBuffer_completesIntoProcessMemory() {
        UserspaceDriver d = driver(UserspaceDriver.Policy.RESOLVE_AND_SUCCEED);
        m.mm.mmap(VA, 0x10000, 0x3);
        d.bind(m.dev0);
        d.attach(m.dev0, IommuCore.IOMMU_NO_PASID, true);
        d.mapOnFault(VA, 0x10000, IOVA, true);

        dmaWrite(IOVA, -1, (byte) 0x5a);

        assertThat(outcomes).extracting(DmaOutcome::status).containsExactly(DmaStatus.OK);
        assertThat(m.mm.read(VA, 8192)).containsOnly((byte) 0x5a);
        assertThat(m.answers).isNotEmpty().allSatisfy(a -> {
            assertThat(a.code()).isEqualTo("SUCCESS");
            assertThat(a.origin()).isEqualTo(ResponseOrigin.IOMMUFD);
        });
        assertThat(d.stats().success()).isEqualTo(m.answers.size());
        assertThat(d.stats().groupsRead()).isEqualTo(m.answers.size());
        assertThat(m.iopf.pendingGroups(m.dev0)).isZero();
    }

    /** always-invalid: the group is answered INVALID and the device's DMA ends invalid; nothing is mapped. */
    @Test
    void alwaysInvalid_dma_endsInvalid() {
        UserspaceDriver d = driver(UserspaceDriver.Policy.ALWAYS_INVALID);
        m.mm.mmap(VA, 0x10000, 0x3);
        d.bind(m.dev0);
        d.attach(m.dev0, IommuCore.IOMMU_NO_PASID, true);
        d.mapOnFault(VA, 0x10000, IOVA, true);

        dmaWrite(IOVA, -1, (byte) 1);

        assertThat(outcomes).extracting(DmaOutcome::status).containsExactly(DmaStatus.INVALID);
        assertThat(m.answers).extracting(VtdIommufdMachine.Answer::code, VtdIommufdMachine.Answer::origin)
                .containsExactly(tuple("INVALID", ResponseOrigin.IOMMUFD));
        assertThat(m.mm.pteOf(VA).present()).isFalse();
    }

    /**
     * never: the group is read and stays owed (the DMA waits); the PASID stop then detaches and the teardown
     * answers it INVALID exactly once.
     */
    @Test
    void never_groupWaitsUntilStopAndDetachAnswerIt() {
        UserspaceDriver d = driver(UserspaceDriver.Policy.NEVER);
        m.mm.mmap(VA, 0x10000, 0x3);
        d.bind(m.dev0);
        d.attach(m.dev0, 9, true);
        d.mapOnFault(VA, 0x10000, IOVA, true);

        dmaWrite(IOVA, 9, (byte) 1);
        assertThat(m.answers).isEmpty();
        assertThat(d.faultFile().awaitingResponse()).isEqualTo(1);

        boolean[] done = {false};
        d.stopPasid(m.dev0, 9, m.acc0::stopPasid, () -> done[0] = true);
        m.loop.runUntilIdle();

        assertThat(done[0]).isTrue();
        assertThat(m.answers).extracting(VtdIommufdMachine.Answer::pasid, VtdIommufdMachine.Answer::code)
                .containsExactly(tuple(9, "INVALID"));
        assertThat(m.dev0.group().pasidArray()).doesNotContainKey(9);
        assertThat(d.faultFile().awaitingResponse()).isZero();
    }
}
