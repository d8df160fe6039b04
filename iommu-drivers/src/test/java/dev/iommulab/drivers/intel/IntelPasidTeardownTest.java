package dev.iommulab.drivers.intel;

import static dev.iommulab.drivers.intel.IntelIommuFixture.PASID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.RID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.VA;
import static dev.iommulab.drivers.intel.IntelIommuFixture.request;
import static dev.iommulab.drivers.intel.PrqEventThreadTest.assertPageGroupResponse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.drivers.intel.IntelIommuFixture.Answer;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.PrgResponse;
import org.junit.jupiter.api.Test;

/**
 * Detaching the SVA domain from the PASID (the blocked domain's set_dev_pasid) while the device still
 * owes nothing but the kernel still owes a group. Derives from blocking_domain_set_dev_pasid(),
 * intel_iommu_disable_iopf() and intel_pasid_tear_down_entry() (intel/iommu.c, intel/pasid.c),
 * iopf_queue_remove_device() (io-pgfault.c), reference/linux-fault-stack.md §3.5 and §4.3, and VT-d
 * spec Table 31 as summarised in §6.1 (an LPIG request whose PASID entry is not present gets Invalid
 * Request from the hardware).
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link IntelIommuOpsContractTest}); this class keeps the
 * VT-d specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class IntelPasidTeardownTest {

    private final IntelIommuFixture f = new IntelIommuFixture().attach();

    /**
     * A group is pending (the handler recorded it without answering) and another LPIG request is in flight
     * on the link when the PASID is detached. Then: iopf_queue_remove_device() answers the pending group
     * INVALID exactly once, PRI is disabled on the function, the device leaves the iopf queue and the PASID
     * entry is cleared in memory. The in-flight request reaches a PASID entry that is not present: the unit
     * records fault 0x59 and answers Invalid Request itself; the driver never reports it.
     */
    @Test
    void detachDevicePasid_groupPending_removeDeviceAnswersInvalidOnceAndHardwareRejectsLaterRequest() {
        f.answer = null;
        f.send(request(1, true, true, true, VA));
        assertThat(f.groups).hasSize(1);
        assertThat(f.iopf.pendingGroups(f.dev)).isEqualTo(1);
        assertThat(f.prgResponses).isEmpty();

        f.endpoint.sendPageRequest(request(2, true, false, true, VA + 0x1000), null);
        f.core.detachDevicePasid(f.domain, f.dev, PASID);
        f.loop.runUntilIdle();

        assertThat(f.answers).extracting(Answer::origin, Answer::response).containsExactly(
                tuple(ResponseOrigin.REMOVE_DEVICE, new PageResponse(PASID, 1, PageResponseCode.INVALID)));
        assertThat(f.pageGroupResponseDescriptors()).hasSize(1);
        assertPageGroupResponse(f.pageGroupResponseDescriptors().get(0), 0x1, true, 1, true);
        assertThat(f.prgResponses).containsExactlyInAnyOrder(new PrgResponse(RID, true, PASID, 1, 0x1),
                new PrgResponse(RID, true, PASID, 2, 0x1));

        assertThat(f.endpoint.priState().enabled()).isFalse();
        assertThat(f.iopf.pendingGroups(f.dev)).isZero();
        assertThat(f.iopf.faultParamUsers(f.dev)).isZero();
        assertThat(f.intel.iopfQueue().deviceNames()).isEmpty();
        assertThat(f.pasidEntry(PASID)).as("PASID entry after teardown").containsOnly(0L);

        assertThat(f.reports).as("only the first request reached io-pgfault").hasSize(1);
        assertThat(f.groups).hasSize(1);
        assertThat(f.hwFaults).extracting(HwFault::reason, HwFault::vendorCode, HwFault::pasid, HwFault::addr)
                .containsExactly(tuple(HwFaultReason.PASID_ENTRY_NOT_PRESENT, 0x59, PASID, VA + 0x1000));
    }

}
