package dev.iommulab.drivers.intel;

import static dev.iommulab.drivers.intel.IntelIommuFixture.PASID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.RID;
import static dev.iommulab.drivers.intel.IntelIommuFixture.VA;
import static dev.iommulab.drivers.intel.IntelIommuFixture.request;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.KernelVersion;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.drivers.OverflowRecovery;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdEntries;
import dev.iommulab.hw.vtd.VtdRegs;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * PASID teardown with the page-request drain, and process exit while bound: intel_pasid_tear_down_entry()
 * (intel/pasid.c), intel_iommu_drain_pasid_prq() and prq_event_thread() (intel/prq.c), intel_mm_release()
 * (intel/svm.c), blocking_domain_set_dev_pasid() (intel/iommu.c); reference/linux-fault-stack.md §4.3 and §8
 * items 30 and 31, reference/iommu-hardware.md §2.1.5 (the §7.10 drain).
 *
 * <p>The device keeps a second SVA attachment (another process at {@link #PASID2}) where a test needs the drain:
 * the kernel drains only while the device still has a fault-capable attachment ({@code iopf_refcount} > 0).
 *
 * <p>What every driver does here is asserted once for all drivers by
 * {@link dev.iommulab.fixtures.drivers.IommuOpsContract} ({@link IntelIommuOpsContractTest}); this class keeps the
 * VT-d specifics: exact descriptors and commands, vendor fault codes, log lines, timing.
 */
class IntelPrqDrainTest {

    static final int PASID2 = 0x77;

    private IntelIommuFixture f = new IntelIommuFixture().attach();
    private final List<Integer> pasid2Groups = new ArrayList<>();

    /** Binds a second process at {@link #PASID2}; its handler records groups and answers nothing. */
    private IommuDomain attachSecond(IntelIommuFixture on) {
        MmStruct other = new MmStruct("other", on.frames, on.frames.allocate());
        IommuDomain d2 = on.intel.domainAllocSva(on.dev, other);
        d2.setIopfHandler(g -> {
            pasid2Groups.add(g.lastFault().grpid());
            return 0;
        });
        on.core.attachDevicePasid(d2, on.dev, PASID2, new AttachHandle(d2));
        return d2;
    }

    /** Runs the machine until the unit has queued a descriptor the PRQ thread has not consumed yet. */
    private static void untilQueuedUnconsumed(IntelIommuFixture on) {
        on.loop.runUntil(() -> on.unit.readReg(VtdRegs.PQT) != on.unit.readReg(VtdRegs.PQH));
    }

    /** The invalidation wait descriptors with Page-request Drain the driver wrote, in ring order. */
    private static List<QiDescriptor> drainWaits(IntelIommuFixture on) {
        long base = on.unit.readReg(VtdRegs.IQA) & VtdEntries.ADDR_MASK;
        List<QiDescriptor> found = new ArrayList<>();
        for (long at = 0; at < on.unit.readReg(VtdRegs.IQT); at += VtdRegs.DESC_SIZE) {
            QiDescriptor d = new QiDescriptor(on.memory.readLong(base + at), on.memory.readLong(base + at + 8), 0, 0);
            if (d.type() == QiDescriptor.TYPE_WAIT && (d.qw0() & QiDescriptor.IWD_PRQ_DRAIN) != 0) {
                found.add(d);
            }
        }
        return found;
    }

    /**
     * §4.3: detaching the last fault-capable attachment drops IOPF first (iopf_queue_remove_device(), PRI off), so
     * the teardown does not drain: the call waits only for its cache flushes (the device-TLB invalidation's round
     * trip, as qi_submit_sync() spins for it), and the request left in the ring is reported later to a device
     * io-pgfault no longer knows — answered INVALID once.
     */
    @Test
    void detachDevicePasid_lastIopfAttachment_skipsDrainAndRingRequestAnsweredInvalidLater() {
        f.endpoint.sendPageRequest(request(1, true, false, true, VA), null);
        untilQueuedUnconsumed(f);
        long before = f.loop.now();

        f.core.detachDevicePasid(f.domain, f.dev, PASID);

        assertThat(drainWaits(f)).isEmpty();
        assertThat(f.loop.now() - before).as("only the device-TLB invalidation's round trip").isEqualTo(1000);
        assertThat(f.answers).isEmpty();

        f.loop.runUntilIdle();

        assertThat(f.answers).extracting(a -> a.response().code()).containsExactly(PageResponseCode.INVALID);
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 1, 0x1));
    }

    /**
     * §8 item 31, the retry: the ring overflowed (PRO set) with another PASID's requests when the drain's
     * invalidation wait completes, so the drain sleeps until the PRQ thread's pass — which discards the partials and
     * clears PRO — and submits the drain again.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 31: drain retried while PRO is set (VT-d)")
    void detachDevicePasid_proSetAfterDrain_waitsForThreadAndRetriesDrain() {
        f = new IntelIommuFixture(4096, VtdConfig.defaults("dmar0").withPrqEntries(128), KernelVersion.LATEST,
                OverflowRecovery.DISCARD_PARTIALS).attach();
        attachSecond(f);
        int slots = (4096 / VtdRegs.DESC_SIZE) - 1;
        for (int i = 0; i <= slots; i++) {
            f.endpoint.sendPageRequest(new PageRequestMessage(RID, true, PASID2, false, false, true, false,
                    i == slots, 3, VA + 0x1000L * i), null);
        }
        f.loop.runUntil(() -> (f.unit.readReg(VtdRegs.PRS) & VtdRegs.PRS_PRO) != 0);

        f.core.detachDevicePasid(f.domain, f.dev, PASID);

        assertThat(drainWaits(f)).as("drain submitted twice").hasSize(2);
        assertThat(f.unit.readReg(VtdRegs.PRS) & VtdRegs.PRS_PRO).isZero();
        assertThat(f.iopf.partials(f.dev)).as("discarded after the overflow").isEmpty();
        assertThat(f.logTexts()).containsSubsequence("DMAR: IOMMU: dmar0: PRQ overflow detected",
                "DMAR: IOMMU: dmar0: PRQ overflow cleared");
        assertThat(f.prgResponses).as("the unit answered the LPIG it could not queue")
                .containsExactly(new PrgResponse(RID, true, PASID2, 3, 0x0));
        assertThat(pasid2Groups).isEmpty();
    }

    /**
     * §8 item 30: the process exits while bound. The mm's release (intel_mm_release()) leaves the PASID entry not
     * present with FPD and does not drain; an LPIG request for the PASID then gets Invalid Request from the unit
     * without a fault record or a descriptor in the ring, never reaching software; the later unbind finds the FPD
     * entry, clears it and drains.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 30: process exit while bound (VT-d)")
    void mmRelease_whileBound_fpdEntryHardwareAnswersInvalidAndUnbindClearsAndDrains() {
        attachSecond(f);
        long iqtBefore = f.unit.readReg(VtdRegs.IQT);

        f.mm.mmput();

        assertThat(f.pasidEntry(PASID)[0]).as("not present, FPD").isEqualTo(VtdEntries.FPD);
        assertThat(f.unit.readReg(VtdRegs.IQT)).as("caches flushed").isNotEqualTo(iqtBefore);
        assertThat(drainWaits(f)).as("no drain on release").isEmpty();

        f.send(request(4, true, false, true, VA));

        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, true, PASID, 4, 0x1));
        assertThat(f.hwFaults).extracting(HwFault::recorded).containsExactly(false);
        assertThat(f.unit.readReg(VtdRegs.PQT)).as("nothing queued").isZero();
        assertThat(f.reports).isEmpty();
        assertThat(f.answers).isEmpty();

        f.core.detachDevicePasid(f.domain, f.dev, PASID);

        assertThat(f.pasidEntry(PASID)).containsOnly(0L);
        assertThat(drainWaits(f)).hasSize(1);
    }

    /** Replacing a non-SVA domain at a PASID (intel_pasid_replace_*()) drains too while IOPF is on. */
    @Test
    void replaceDevicePasid_iopfOn_drains() {
        IntelIommuFixture g = new IntelIommuFixture();
        IommuDomain a = g.core.pagingDomainAlloc(g.dev);
        IommuDomain b = g.core.pagingDomainAlloc(g.dev);
        g.core.attachDevicePasid(a, g.dev, PASID2, new AttachHandle(a));
        g.attach();

        g.core.replaceDevicePasid(b, g.dev, PASID2, new AttachHandle(b));

        assertThat(drainWaits(g)).hasSize(1);
    }
}
