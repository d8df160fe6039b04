package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.hw.pci.MemoryAccess;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.iopf.Iopf;
import dev.iommulab.lab.TestMachines;
import dev.iommulab.lab.machine.Machine;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Invariants that a correct io-pgfault cannot be made to break through its public API are shown to fail
 * on a deliberately wrong stream of fault-path events (a broken io-pgfault, played by hand on a machine
 * whose io-pgfault is a Mockito mock).
 */
class ObservedEventsInvariantsTest {

    private static final int PASID = IommuFault.PAGE_REQUEST_PASID_VALID;
    private static final int LAST = IommuFault.PAGE_REQUEST_LAST_PAGE;

    private final Iopf iopf = mock(Iopf.class);
    private Machine machine;
    private Observations obs;
    private Device acc0;

    @BeforeEach
    void boot() throws Exception {
        machine = TestMachines.quickstart().override(binder -> binder.bind(Iopf.class).toInstance(iopf)).build();
        obs = new Observations(machine, PageResponseCode.FAILURE);
        acc0 = machine.device("acc0");
        when(iopf.partials(any())).thenReturn(List.of());
    }

    private static IommuFault fault(int flags, int grpid, long addr) {
        return IommuFault.pageRequest(flags, 1, grpid, IommuFault.PERM_READ, addr);
    }

    private RunResult.InvariantEntry check(String name) {
        obs.finished();
        return new Invariants(machine, obs).check().stream()
                .filter(i -> i.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void groupHoldsEarlierPartials_partialsSwapped_failsNamingGroupAndStep() {
        IommuFault a = fault(PASID, 3, 0x1000);
        IommuFault b = fault(PASID, 3, 0x2000);
        IommuFault last = fault(PASID | LAST, 3, 0x3000);
        obs.stepStarting("page-request at f.yaml:9:5");
        obs.faultReported(acc0, a, 0);
        obs.faultReported(acc0, b, 0);
        obs.groupDispatched(acc0, List.of(b, a, last));

        RunResult.InvariantEntry inv = check("group-holds-earlier-partials");

        assertThat(inv.holds()).isFalse();
        assertThat(inv.detail()).isEqualTo("acc0 PASID 1 grpid 3 (step page-request at f.yaml:9:5): 0x1000 is out of"
                + " arrival order");
    }

    @Test
    void groupHoldsEarlierPartials_partialOfGrpidStillParked_failsAsLeftBehind() {
        IommuFault a = fault(PASID, 3, 0x1000);
        IommuFault last = fault(PASID | LAST, 3, 0x3000);
        obs.faultReported(acc0, a, 0);
        when(iopf.partials(acc0)).thenReturn(List.of(a));
        obs.groupDispatched(acc0, List.of(last));

        assertThat(check("group-holds-earlier-partials").detail()).contains("partial 0x1000 left behind");
    }

    @Test
    void responseAddressedByLpig_responseWithOtherGrpid_failsNamingGroup() {
        IommuFault last = fault(PASID | LAST, 3, 0x3000);
        obs.groupDispatched(acc0, List.of(last));
        obs.pageResponse(acc0, last, new PageResponse(1, 4, PageResponseCode.SUCCESS), ResponseOrigin.SVA);

        RunResult.InvariantEntry inv = check("response-addressed-by-lpig");

        assertThat(inv.holds()).isFalse();
        assertThat(inv.detail()).startsWith("acc0 PASID 1 grpid 3 answered as PASID 1 grpid 4");
    }

    @Test
    void responseCodesByOrigin_svaSendsFailure_fails() {
        IommuFault last = fault(PASID | LAST, 0, 0x3000);
        obs.groupDispatched(acc0, List.of(last));
        obs.pageResponse(acc0, last, new PageResponse(1, 0, PageResponseCode.FAILURE), ResponseOrigin.SVA);

        assertThat(check("response-codes-by-origin").detail())
                .startsWith("acc0 PASID 1 grpid 0 got FAILURE from sva, allowed [SUCCESS, INVALID]");
    }

    /**
     * A group of grpid 2 handed over during step 5:5 and left unanswered while the device leaves its iopf queue
     * during step 7:5 (its fault param has no user when step 8:5 starts); returns its LPIG request.
     */
    private IommuFault groupLiveWhenDeviceLeaves() {
        when(iopf.faultParamUsers(acc0)).thenReturn(2);
        obs.stepStarting("sva-bind at f.yaml:5:5");
        IommuFault last = fault(PASID | LAST, 2, 0x3000);
        obs.groupDispatched(acc0, List.of(last));
        obs.faultReported(acc0, last, 0);
        obs.stepStarting("sva-unbind at f.yaml:7:5");
        when(iopf.faultParamUsers(acc0)).thenReturn(0);
        obs.stepStarting("run at f.yaml:8:5");
        return last;
    }

    @Test
    void nothingOutlivesRemoveDevice_groupUnansweredAtRemoval_failsNamingStep() {
        groupLiveWhenDeviceLeaves();

        RunResult.InvariantEntry inv = check("nothing-outlives-remove-device");

        assertThat(inv.holds()).isFalse();
        assertThat(inv.detail()).isEqualTo("acc0 PASID 1 grpid 2 still unanswered after the device left its iopf"
                + " queue (step sva-unbind at f.yaml:7:5)");
    }

    @Test
    void nothingOutlivesRemoveDevice_partialFromBeforeRemovalInLaterGroup_fails() {
        when(iopf.faultParamUsers(acc0)).thenReturn(1);
        IommuFault old = fault(PASID, 2, 0x1000);
        obs.faultReported(acc0, old, 0);
        when(iopf.faultParamUsers(acc0)).thenReturn(0);
        obs.stepStarting("sva-unbind at f.yaml:7:5");
        when(iopf.faultParamUsers(acc0)).thenReturn(1);
        obs.stepStarting("sva-bind at f.yaml:8:5");
        obs.groupDispatched(acc0, List.of(old, fault(PASID | LAST, 2, 0x2000)));

        assertThat(check("nothing-outlives-remove-device").detail())
                .contains("holds partial 0x1000 parked before the device left its iopf queue");
    }

    /** A partial handed over in two groups: the second finds it no longer parked (it was taken into the first). */
    @Test
    void groupHoldsEarlierPartials_partialInTwoGroups_failsSecondGroup() {
        IommuFault a = fault(PASID, 3, 0x1000);
        obs.faultReported(acc0, a, 0);
        obs.groupDispatched(acc0, List.of(a, fault(PASID | LAST, 3, 0x3000)));
        obs.stepStarting("page-request at f.yaml:12:5");
        obs.groupDispatched(acc0, List.of(a, fault(PASID | LAST, 3, 0x4000)));

        assertThat(check("group-holds-earlier-partials").detail()).isEqualTo("acc0 PASID 1 grpid 3 (step page-request"
                + " at f.yaml:12:5): holds 0x1000, not parked for this device (never reported, or taken into an"
                + " earlier group)");
    }

    /**
     * A group answered a second time after it was settled (reported and answered once) still unbalances its group:
     * the ledger forgets the request, not the balance.
     */
    @Test
    void lpigAnsweredExactlyOnce_answeredAgainAfterSettled_failsAsExtraAnswer() {
        IommuFault last = fault(PASID | LAST, 5, 0x3000);
        obs.groupDispatched(acc0, List.of(last));
        obs.faultReported(acc0, last, 0);
        obs.pageResponse(acc0, last, new PageResponse(1, 5, PageResponseCode.SUCCESS), ResponseOrigin.SVA);
        obs.stepStarting("run at f.yaml:20:5");
        obs.pageResponse(acc0, last, new PageResponse(1, 5, PageResponseCode.SUCCESS), ResponseOrigin.SVA);

        RunResult.InvariantEntry inv = check("lpig-answered-exactly-once");

        assertThat(inv.holds()).isFalse();
        assertThat(inv.detail()).isEqualTo("acc0 PASID 1 grpid 5 answered 1 extra time(s) (step run at f.yaml:20:5)");
        assertThat(obs.ledger.held()).as("the unbalanced group, no request").isEqualTo(1);
    }

    /** A group left unanswered when its device left its iopf queue but answered later is no violation at the end. */
    @Test
    void nothingOutlivesRemoveDevice_groupAnsweredAfterRemoval_holds() {
        IommuFault last = groupLiveWhenDeviceLeaves();
        obs.pageResponse(acc0, last, new PageResponse(1, 2, PageResponseCode.INVALID), ResponseOrigin.REMOVE_DEVICE);

        assertThat(check("nothing-outlives-remove-device").holds()).isTrue();
    }

    /** An access the IOMMU performed for a PASID no process owns is outside every mapping, named when it happened. */
    @Test
    void dmaWithinMappings_accessForPasidOfNoProcess_failsNamingDevicePasidVaPaAndStep() {
        obs.stepStarting("dma at f.yaml:9:5");
        obs.mappings.onAccess("acc0", new MemoryAccess(0x18, 1, 0x7f0000000000L, 0x5000, 64, Access.READ, true));
        obs.stepStarting("run at f.yaml:10:5");

        RunResult.InvariantEntry inv = check("dma-within-mappings");

        assertThat(inv.holds()).isFalse();
        assertThat(inv.detail()).isEqualTo("acc0 PASID 1 read va 0x7f0000000000+64 -> pa 0x5000: no process has this"
                + " PASID (step dma at f.yaml:9:5)");
    }

    /** Accesses without a PASID (RID domain, DMA API) are out of the invariant's scope. */
    @Test
    void dmaWithinMappings_accessWithoutPasid_notJudged() {
        obs.mappings.onAccess("acc0", new MemoryAccess(0x18, -1, 0x1000, 0x5000, 64, Access.WRITE, false));

        RunResult.InvariantEntry inv = check("dma-within-mappings");

        assertThat(inv.holds()).isTrue();
        assertThat(inv.detail()).startsWith("0 access(es) with a PASID judged");
    }
}
