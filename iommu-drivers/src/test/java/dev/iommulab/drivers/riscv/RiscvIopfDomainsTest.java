package dev.iommulab.drivers.riscv;

import static dev.iommulab.core.pgtable.IommuProt.IOMMU_READ;
import static dev.iommulab.core.pgtable.IommuProt.IOMMU_WRITE;
import static dev.iommulab.drivers.TestBytes.pattern;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.RID;
import static dev.iommulab.drivers.riscv.RiscvIommuFixture.pscid;
import static dev.iommulab.drivers.riscv.RiscvPageResponseTest.assertPrgr;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuMap;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.IopfGroup;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.drivers.riscv.RiscvIommuFixture.Answer;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.pci.DeviceProfile;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.riscv.RiscvPageRequestRecord;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * IOPF for fault-capable domains that are not SVA (paging domains with an {@code iopf_handler}, as iommufd's HWPTs
 * with a fault object) at the RID — process context 0 through {@code DPE} — and at a PASID. <b>Not in mainline</b>
 * (the RISC-V driver there has no IOPF, reference/linux-fault-stack.md §6.4): the lab's option derives from the
 * VT-d driver's iopf_for_domain_set() / iopf_for_domain_replace() / iopf_for_domain_remove() (intel/iommu.h) in
 * intel_iommu_attach_device(), intel_iommu_set_dev_pasid(), blocking_domain_attach_dev() and
 * blocking_domain_set_dev_pasid(), and on iommu_report_device_fault() routing a request without PASID to the RID's
 * handle (io-pgfault.c, §2.2); page-request records with {@code PV} = 0 carry no PASID.
 */
class RiscvIopfDomainsTest {

    private static final long IOVA = 0x0000_0030_0000_0000L;
    private static final long PAGE = 0x0600_0000L;
    private static final int PASID_2048 = 2048;

    private final RiscvIommuFixture f = new RiscvIommuFixture();

    private IommuDomain attachAtRid() {
        IommuDomain d = f.faultCapablePaging();
        f.core.attachGroupHandle(d, f.dev.group(), new AttachHandle(d));
        return d;
    }

    /** A page request without PASID (RID DMA), the last of group {@code prgi}. */
    private static PageRequestMessage ridRequest(int prgi, long addr) {
        return new PageRequestMessage(RID, false, 0, false, false, true, true, true, prgi, addr);
    }

    /**
     * The first fault-capable domain at the RID (as iopf_for_domain_set()) puts the device on the IOMMU's iopf queue
     * and enables PRI with the page-request queue's size as allocation (capped by the function's capacity).
     */
    @Test
    void attachDevice_faultCapablePaging_addsDeviceToIopfQueueAndEnablesPri() {
        attachAtRid();

        assertThat(f.iopf.queueOf(f.dev)).isSameAs(f.driver.iopfQueue());
        assertThat(f.iopf.faultParamUsers(f.dev)).isEqualTo(1);
        assertThat(f.endpoint.priState().enabled()).isTrue();
        assertThat(f.endpoint.priState().allocation()).isEqualTo(RiscvIommuFixture.PRI_CAPACITY);
    }

    /**
     * Detach (the blocking domain at the RID, as blocking_domain_attach_dev()): the IOPF reference goes first, so
     * iopf_queue_remove_device() answers the owed group INVALID exactly once — ATS.PRGR with PV = 0, code 0x1 — PRI
     * is off, and process context 0 reads zero.
     */
    @Test
    void detachGroupHandle_groupPending_removeDeviceAnswersInvalidOnce() {
        f.answer = null;
        IommuDomain d = attachAtRid();
        f.send(ridRequest(5, IOVA));
        assertThat(f.iopf.pendingGroups(f.dev)).isEqualTo(1);

        f.core.detachGroupHandle(d, f.dev.group());
        f.loop.runUntilIdle();

        assertThat(f.iopf.queueOf(f.dev)).isNull();
        assertThat(f.endpoint.priState().enabled()).isFalse();
        assertThat(f.answers).extracting(Answer::origin, Answer::response).containsExactly(
                tuple(ResponseOrigin.REMOVE_DEVICE, new PageResponse(0, 5, PageResponseCode.INVALID)));
        assertThat(f.prgrCommands()).hasSize(1);
        assertPrgr(f.prgrCommands().get(0), RID, false, 0, 5, 0x1);
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, false, 0, 5, 0x1));
        assertThat(f.memory.readLong(f.pcAddress(0))).as("PC 0 ta").isZero();

        f.iopf.groupResponse(f.groups.get(0), PageResponseCode.SUCCESS);
        f.loop.runUntilIdle();
        assertThat(f.prgResponses).as("the handler's late answer is a no-op").hasSize(1);
    }

    /**
     * Replacing one fault-capable domain by another at the RID enables the new one's IOPF before dropping the old
     * one's: the device stays queued with PRI on, the group is still owed, nothing is sent; process context 0 now
     * holds the new domain's PSCID. The later detach answers the group once.
     */
    @Test
    void replaceGroupHandle_faultCapableByFaultCapable_keepsDeviceQueuedAndGroupOwed() {
        f.answer = null;
        attachAtRid();
        f.send(ridRequest(7, IOVA));
        IopfGroup pending = f.groups.get(0);
        IommuDomain b = f.faultCapablePaging();

        f.core.replaceGroupHandle(f.dev.group(), b, new AttachHandle(b));
        f.loop.runUntilIdle();

        assertThat(f.iopf.queueOf(f.dev)).isSameAs(f.driver.iopfQueue());
        assertThat(f.endpoint.priState().enabled()).isTrue();
        assertThat(f.iopf.groupOwed(pending)).isTrue();
        assertThat(f.answers).isEmpty();
        assertThat(f.prgrCommands()).isEmpty();
        assertThat(f.pc(0).pscid()).isEqualTo(pscid(b));

        f.core.detachGroupHandle(b, f.dev.group());
        f.loop.runUntilIdle();

        assertThat(f.iopf.queueOf(f.dev)).isNull();
        assertThat(f.answers).extracting(Answer::origin, a -> a.response().code())
                .containsExactly(tuple(ResponseOrigin.REMOVE_DEVICE, PageResponseCode.INVALID));
    }

    /** Replacing the fault-capable domain by a plain paging domain drops the last reference: off the queue, INVALID. */
    @Test
    void replaceGroupHandle_faultCapableByPlainPaging_removesDeviceAndAnswersInvalid() {
        f.answer = null;
        attachAtRid();
        f.send(ridRequest(9, IOVA));
        IommuDomain plain = f.core.pagingDomainAlloc(f.dev);

        f.core.replaceGroupHandle(f.dev.group(), plain, new AttachHandle(plain));
        f.loop.runUntilIdle();

        assertThat(f.iopf.queueOf(f.dev)).isNull();
        assertThat(f.endpoint.priState().enabled()).isFalse();
        assertThat(f.answers).extracting(Answer::origin, Answer::response).containsExactly(
                tuple(ResponseOrigin.REMOVE_DEVICE, new PageResponse(0, 9, PageResponseCode.INVALID)));
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, false, 0, 9, 0x1));
    }

    /**
     * A function whose device context has no EN_PRI (here: PASID but no ATS or PRI) cannot take a fault-capable
     * domain: ENODEV, as intel_iommu_enable_iopf() without PRI, and nothing changed — still blocked, process context
     * 0 invalid, no iopf queue.
     */
    @Test
    void attachDevice_faultCapableOnFunctionWithoutPri_failsEnodevLeavingRidBlocked() {
        f.probePlain("plain0", 0x0500, DeviceProfile.ACCELERATOR, 8);
        Device plain = f.core.devices().get(1);
        IommuDomain d = f.core.pagingDomainAlloc(plain);
        d.setIopfHandler(group -> 0);

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> f.core.attachGroupHandle(d, plain.group(), new AttachHandle(d)));

        assertThat(e.errno()).isEqualTo(Errno.ENODEV);
        assertThat(f.core.getDomainForDev(plain)).isSameAs(f.driver.blockedDomain());
        assertThat(f.iopf.queueOf(plain)).isNull();
    }

    /**
     * When the PDT level of PASID 2048 cannot be allocated the attach fails ENOMEM and the IOPF enabled for it is
     * unwound: off the queue, PRI off, no fault param; a retry and a detach leave no reference behind.
     */
    @Test
    void attachDevicePasid_pdtAllocationFails_unwindsIopf() {
        IommuDomain d = f.faultCapablePaging();
        f.failures.failNext(FrameAllocator.SITE, 1);

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> f.core.attachDevicePasid(d, f.dev, PASID_2048, new AttachHandle(d)));

        assertThat(e.errno()).isEqualTo(Errno.ENOMEM);
        assertThat(f.iopf.queueOf(f.dev)).isNull();
        assertThat(f.endpoint.priState().enabled()).isFalse();
        assertThat(f.iopf.faultParamUsers(f.dev)).isZero();

        f.core.attachDevicePasid(d, f.dev, PASID_2048, new AttachHandle(d));
        f.core.detachDevicePasid(d, f.dev, PASID_2048);
        assertThat(f.iopf.queueOf(f.dev)).isNull();
    }

    /**
     * The whole trip without PASID: ATS DMA to an unmapped IOVA of the fault-capable paging domain at the RID, a
     * page request without PASID queued as a record with PV = 0, reported without PASID_VALID and routed to the
     * handle at IOMMU_NO_PASID; the page is mapped (iommu_map()), the group answered SUCCESS and freed; ATS.PRGR
     * with PV = 0 reaches the function, which retries, and the bytes land in the mapped page.
     */
    @Test
    void ridDma_unmappedIova_priRoundTripThroughHandleAtNoPasid() {
        f.answer = null;
        IommuDomain d = attachAtRid();
        byte[] data = pattern(64, 0x31);

        List<DmaOutcome> out = f.startDma(new DmaJob(IOVA + 0x80, 64, Access.WRITE, -1, false, data));

        assertThat(out).as("DMA waits for the page response").isEmpty();
        RiscvPageRequestRecord record = f.pqRecord(0);
        assertThat(record.pv()).as("PQ record PV").isFalse();
        assertThat(record.did()).isEqualTo(RID);
        assertThat(record.last()).isTrue();
        assertThat(f.reports).extracting(r -> r.fault().pasidValid(), r -> r.ret()).containsExactly(tuple(false, 0));
        IopfGroup group = f.groups.get(0);
        IommuFault fault = group.lastFault();
        assertThat(fault.addr()).isEqualTo(IOVA);
        assertThat(fault.hasPerm(IommuFault.PERM_WRITE)).isTrue();
        assertThat(group.attachHandle().domain()).isSameAs(d);

        IommuMap.map(d, IOVA, PAGE, 4096, IOMMU_READ | IOMMU_WRITE);
        f.iopf.groupResponse(group, PageResponseCode.SUCCESS);
        f.iopf.freeGroup(group);
        f.loop.runUntilIdle();

        assertThat(out).singleElement().extracting(DmaOutcome::status).isEqualTo(DmaStatus.OK);
        assertThat(f.memory.read(PAGE + 0x80, 64)).isEqualTo(data);
        assertThat(f.answers).extracting(Answer::origin, a -> a.response().code())
                .containsExactly(tuple(ResponseOrigin.IOMMUFD, PageResponseCode.SUCCESS));
        assertPrgr(f.prgrCommands().get(0), RID, false, 0, fault.grpid(), 0x0);
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, false, 0, fault.grpid(), 0x0));
        assertThat(f.hwFaults).isEmpty();
    }

    /** The same trip at PASID 2048: PV = 1 with the PASID in the report and in ATS.PRGR; the bytes land. */
    @Test
    void pasidDma_unmappedIova_priRoundTripThroughHandleAtPasid() {
        f.answer = null;
        IommuDomain d = f.faultCapablePaging();
        f.core.attachDevicePasid(d, f.dev, PASID_2048, new AttachHandle(d));
        assertThat(f.iopf.queueOf(f.dev)).isSameAs(f.driver.iopfQueue());
        byte[] data = pattern(128, 0x70);

        List<DmaOutcome> out = f.startDma(new DmaJob(IOVA + 0x100, 128, Access.WRITE, PASID_2048, false, data));

        assertThat(out).isEmpty();
        IopfGroup group = f.groups.get(0);
        assertThat(group.lastFault().pasidValid()).isTrue();
        assertThat(group.lastFault().pasid()).isEqualTo(PASID_2048);
        IommuMap.map(d, IOVA, PAGE, 4096, IOMMU_READ | IOMMU_WRITE);
        f.iopf.groupResponse(group, PageResponseCode.SUCCESS);
        f.iopf.freeGroup(group);
        f.loop.runUntilIdle();

        assertThat(out).singleElement().extracting(DmaOutcome::status).isEqualTo(DmaStatus.OK);
        assertThat(f.memory.read(PAGE + 0x100, 128)).isEqualTo(data);
        assertPrgr(f.prgrCommands().get(0), RID, true, PASID_2048, group.lastFault().grpid(), 0x0);
        assertThat(f.prgResponses).containsExactly(
                new PrgResponse(RID, true, PASID_2048, group.lastFault().grpid(), 0x0));
    }

    /**
     * At a PASID: replace between fault-capable domains keeps the device queued and the group owed; the detach then
     * drops the last reference first and answers it INVALID with the PASID once; the process context reads zero.
     */
    @Test
    void replaceDevicePasid_faultCapableThenDetach_keepsQueueThenAnswersInvalidOnce() {
        f.answer = null;
        IommuDomain a = f.faultCapablePaging();
        f.core.attachDevicePasid(a, f.dev, PASID_2048, new AttachHandle(a));
        f.send(new PageRequestMessage(RID, true, PASID_2048, false, false, true, false, true, 3, IOVA));
        IommuDomain b = f.faultCapablePaging();

        f.core.replaceDevicePasid(b, f.dev, PASID_2048, new AttachHandle(b));
        f.loop.runUntilIdle();

        assertThat(f.iopf.queueOf(f.dev)).isNotNull();
        assertThat(f.iopf.groupOwed(f.groups.get(0))).isTrue();
        assertThat(f.prgResponses).isEmpty();

        f.core.detachDevicePasid(b, f.dev, PASID_2048);
        f.loop.runUntilIdle();

        assertThat(f.iopf.queueOf(f.dev)).isNull();
        assertThat(f.endpoint.priState().enabled()).isFalse();
        assertThat(f.answers).extracting(Answer::origin, Answer::response).containsExactly(
                tuple(ResponseOrigin.REMOVE_DEVICE, new PageResponse(PASID_2048, 3, PageResponseCode.INVALID)));
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, true, PASID_2048, 3, 0x1));
        assertThat(f.memory.readLong(f.pcAddress(PASID_2048))).as("PC.ta").isZero();
    }

    /** The count spans the RID and PASIDs: the PASID's detach keeps the device queued; the RID's removes it. */
    @Test
    void iopfRefcount_ridAndPasid_lastDetachRemovesDevice() {
        IommuDomain rid = attachAtRid();
        IommuDomain atPasid = f.faultCapablePaging();
        f.core.attachDevicePasid(atPasid, f.dev, PASID_2048, new AttachHandle(atPasid));

        f.core.detachDevicePasid(atPasid, f.dev, PASID_2048);
        assertThat(f.iopf.queueOf(f.dev)).isNotNull();
        assertThat(f.endpoint.priState().enabled()).isTrue();

        f.core.detachGroupHandle(rid, f.dev.group());
        assertThat(f.iopf.queueOf(f.dev)).isNull();
        assertThat(f.endpoint.priState().enabled()).isFalse();
    }
}
