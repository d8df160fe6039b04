package dev.iommulab.drivers.intel;

import static dev.iommulab.core.pgtable.IommuProt.IOMMU_READ;
import static dev.iommulab.core.pgtable.IommuProt.IOMMU_WRITE;
import static dev.iommulab.drivers.TestBytes.pattern;
import static dev.iommulab.drivers.intel.IntelIommuFixture.RID;
import static dev.iommulab.drivers.intel.PrqEventThreadTest.assertPageGroupResponse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.AttachHandle;
import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuCore;
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
import dev.iommulab.drivers.intel.IntelIommuFixture.Answer;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.vtd.PageRequestDescriptor;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdEntries;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * IOPF for fault-capable domains that are not SVA — paging and nested domains with an {@code iopf_handler}, as
 * iommufd's HWPTs allocated with a fault object are — at the RID and at a PASID: iopf_for_domain_set(),
 * iopf_for_domain_replace() and iopf_for_domain_remove() (intel/iommu.h) as intel_iommu_attach_device(),
 * intel_iommu_set_dev_pasid(), blocking_domain_attach_dev() and blocking_domain_set_dev_pasid() (intel/iommu.c)
 * call them, intel_iommu_enable_iopf() / intel_iommu_disable_iopf(), and page requests without PASID routed to the
 * RID's attach handle by iommu_report_device_fault() (io-pgfault.c; reference/linux-fault-stack.md §2.2, §5.1).
 */
class IntelIopfDomainsTest {

    private static final long IOVA = 0x0000_0040_0000_0000L;
    private static final long PAGE = 0x0300_0000L;
    private static final int PASID_2048 = 2048;

    private final IntelIommuFixture f = new IntelIommuFixture();

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
     * intel_iommu_attach_device() → iopf_for_domain_set(): the first fault-capable domain at the RID puts the device
     * on the unit's iopf queue with a fault param of one user, and PRI is on with the PRQ depth as allocation.
     */
    @Test
    void attachDevice_faultCapablePaging_addsDeviceToIopfQueueAndEnablesPri() {
        attachAtRid();

        assertThat(f.iopf.queueOf(f.dev)).isSameAs(f.intel.iopfQueue());
        assertThat(f.intel.iopfQueue().deviceNames()).containsExactly(f.dev.name());
        assertThat(f.iopf.faultParamUsers(f.dev)).isEqualTo(1);
        assertThat(f.endpoint.priState().enabled()).isTrue();
        assertThat(f.endpoint.priState().allocation()).as("PRQ depth capped at the function's capacity")
                .isEqualTo(IntelIommuFixture.DEFAULT_PRI_CAPACITY);
    }

    /**
     * intel_nested_attach_dev() → iopf_for_domain_set(): a NESTED domain with an {@code iopf_handler} (an iommufd
     * nested HWPT with a fault object) at the RID enables IOPF too; the RID_PASID entry is nested (PGTT 011b).
     */
    @Test
    void attachDevice_faultCapableNested_addsDeviceToIopfQueue() {
        IommuDomain parent = f.core.domainAllocPaging(f.dev, DomainType.UNMANAGED, IommuCore.HWPT_ALLOC_NEST_PARENT);
        IommuDomain nested = f.core.domainAllocNested(f.dev, parent, 0x0010_0000L, 48);
        nested.setIopfHandler(group -> 0);

        f.core.attachGroupHandle(nested, f.dev.group(), new AttachHandle(nested));

        assertThat(IntelDomainFixture.pgtt(f.pasidEntry(IommuCore.IOMMU_NO_PASID))).isEqualTo(VtdEntries.PGTT_NESTED);
        assertThat(f.iopf.queueOf(f.dev)).isSameAs(f.intel.iopfQueue());
        assertThat(f.endpoint.priState().enabled()).isTrue();

        f.core.detachGroupHandle(nested, f.dev.group());
        assertThat(f.iopf.queueOf(f.dev)).isNull();
    }

    /** A paging domain without {@code iopf_handler} at the RID leaves IOPF off: no queue, PRI disabled. */
    @Test
    void attachDevice_pagingWithoutHandler_leavesIopfOff() {
        f.core.attachDevice(f.core.pagingDomainAlloc(f.dev), f.dev);

        assertThat(f.iopf.queueOf(f.dev)).isNull();
        assertThat(f.endpoint.priState().enabled()).isFalse();
    }

    /**
     * blocking_domain_attach_dev(): iopf_for_domain_remove() of the old domain before the RID_PASID entry is torn
     * down — the last reference takes the device off the queue, iopf_queue_remove_device() answers the group still
     * owed INVALID exactly once (origin remove-device; a page group response with PASID-present clear), PRI is off,
     * and the entry is not present.
     */
    @Test
    void detachGroupHandle_groupPending_removeDeviceAnswersInvalidOnce() {
        f.answer = null;
        IommuDomain d = attachAtRid();
        f.send(ridRequest(5, IOVA));
        assertThat(f.groups).hasSize(1);
        assertThat(f.iopf.pendingGroups(f.dev)).isEqualTo(1);

        f.core.detachGroupHandle(d, f.dev.group());
        f.loop.runUntilIdle();

        assertThat(f.iopf.queueOf(f.dev)).isNull();
        assertThat(f.endpoint.priState().enabled()).isFalse();
        assertThat(f.answers).extracting(Answer::origin, Answer::response).containsExactly(
                tuple(ResponseOrigin.REMOVE_DEVICE, new PageResponse(0, 5, PageResponseCode.INVALID)));
        assertThat(f.pageGroupResponseDescriptors()).hasSize(1);
        assertPageGroupResponse(f.pageGroupResponseDescriptors().get(0), 0x1, false, 5, true);
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, false, 0, 5, 0x1));
        assertThat(f.pasidEntry(IommuCore.IOMMU_NO_PASID)[0] & VtdEntries.PRESENT).isZero();

        f.iopf.groupResponse(f.groups.get(0), PageResponseCode.SUCCESS);
        f.loop.runUntilIdle();
        assertThat(f.prgResponses).as("the handler's late answer is a no-op").hasSize(1);
    }

    /**
     * iopf_for_domain_replace(): the new fault-capable domain's IOPF is enabled before the old one's is dropped, so
     * replacing one fault-capable domain by another at the RID keeps the device on the queue, with PRI on, and the
     * old domain's group is not answered by the replace (it stays owed); the RID_PASID entry now points at the new
     * table. Detaching the new domain then removes the device and answers that group INVALID once.
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

        assertThat(f.iopf.queueOf(f.dev)).isSameAs(f.intel.iopfQueue());
        assertThat(f.endpoint.priState().enabled()).isTrue();
        assertThat(f.iopf.groupOwed(pending)).isTrue();
        assertThat(f.answers).isEmpty();
        assertThat(f.prgResponses).isEmpty();
        assertThat(f.pasidEntry(IommuCore.IOMMU_NO_PASID)[2] & VtdEntries.ADDR_MASK).isEqualTo(b.pgtable().root());

        f.core.detachGroupHandle(b, f.dev.group());
        f.loop.runUntilIdle();

        assertThat(f.iopf.queueOf(f.dev)).isNull();
        assertThat(f.answers).extracting(Answer::origin, a -> a.response().code())
                .containsExactly(tuple(ResponseOrigin.REMOVE_DEVICE, PageResponseCode.INVALID));
    }

    /**
     * Replacing the fault-capable domain by one without {@code iopf_handler} drops the last IOPF reference: the
     * device leaves the queue, its owed group is answered INVALID (remove-device) once, PRI is off.
     */
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
     * intel_iommu_enable_iopf() on a device without PRI is ENODEV, and the attach fails with nothing changed: the
     * RID_PASID entry stays absent and no iopf queue knows the device.
     */
    @Test
    void attachDevice_faultCapableOnFunctionWithoutPri_failsEnodevLeavingRidBlocked() {
        IntelDomainFixture g = new IntelDomainFixture();
        IommuDomain d = g.core.pagingDomainAlloc(g.acc);
        d.setIopfHandler(group -> 0);

        KernelException e = catchThrowableOfType(KernelException.class,
                () -> g.core.attachGroupHandle(d, g.acc.group(), new AttachHandle(d)));

        assertThat(e.errno()).isEqualTo(Errno.ENODEV);
        assertThat(g.core.getDomainForDev(g.acc)).isSameAs(g.intel.blockedDomain());
        assertThat(g.pasidEntry(IntelDomainFixture.ACC_RID, 0)).containsOnly(0L);
        assertThat(g.iopf.queueOf(g.acc)).isNull();
    }

    /**
     * intel_iommu_set_dev_pasid()'s out_unwind_iopf: when the PASID table of PASID 2048 cannot be allocated the
     * attach fails ENOMEM and IOPF is unwound — off the queue, PRI off, no fault param; a retry then works.
     */
    @Test
    void attachDevicePasid_pasidTableAllocationFails_unwindsIopf() {
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
        assertThat(f.iopf.queueOf(f.dev)).as("one reference taken, one dropped").isNull();
    }

    /**
     * The whole trip without PASID: ATS DMA to an unmapped IOVA of the fault-capable paging domain at the RID gets
     * Success with R = W = 0, the function sends a page request without PASID, the PRQ descriptor has
     * PASID-present clear, io-pgfault routes it to the handle at IOMMU_NO_PASID, the handler gets a one-fault group
     * (PASID_VALID clear, write, the page address); the page is mapped (iommu_map()), the group answered SUCCESS and
     * freed; the function gets Success (no PASID on the wire), retries, and the bytes land in the mapped page.
     */
    @Test
    void ridDma_unmappedIova_priRoundTripThroughHandleAtNoPasid() {
        f.answer = null;
        IommuDomain d = attachAtRid();
        byte[] data = pattern(64, 0x31);

        List<DmaOutcome> out = f.startDma(new DmaJob(IOVA + 0x80, 64, Access.WRITE, -1, false, data));

        assertThat(out).as("DMA waits for the page response").isEmpty();
        PageRequestDescriptor desc = f.prqDescriptor(0);
        assertThat(desc.pasidPresent()).as("PRQ descriptor PASID present").isFalse();
        assertThat(desc.rid()).isEqualTo(RID);
        assertThat(desc.lpig()).isTrue();
        assertThat(f.groups).hasSize(1);
        IopfGroup group = f.groups.get(0);
        IommuFault fault = group.lastFault();
        assertThat(fault.pasidValid()).isFalse();
        assertThat(fault.lastPage()).isTrue();
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
        assertPageGroupResponse(f.pageGroupResponseDescriptors().get(0), 0x0, false, fault.grpid(), true);
        assertThat(f.prgResponses).containsExactly(new PrgResponse(RID, false, 0, fault.grpid(), 0x0));
        assertThat(f.hwFaults).isEmpty();
    }

    /**
     * The same trip at PASID 2048 (iommu_attach_device_pasid() with a handle; intel_iommu_set_dev_pasid() enables
     * IOPF): the group carries PASID_VALID and 2048, the page group response has PASID-present and 2048, and the
     * bytes land in the mapped page.
     */
    @Test
    void pasidDma_unmappedIova_priRoundTripThroughHandleAtPasid() {
        f.answer = null;
        IommuDomain d = f.faultCapablePaging();
        f.core.attachDevicePasid(d, f.dev, PASID_2048, new AttachHandle(d));
        assertThat(f.iopf.queueOf(f.dev)).isSameAs(f.intel.iopfQueue());
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
        QiDescriptor resp = f.pageGroupResponseDescriptors().get(0);
        assertThat((resp.qw0() & (1L << 4)) != 0).as("PASID present").isTrue();
        assertThat((int) ((resp.qw0() >>> 32) & 0xfffff)).isEqualTo(PASID_2048);
        assertThat(f.prgResponses).containsExactly(
                new PrgResponse(RID, true, PASID_2048, group.lastFault().grpid(), 0x0));
    }

    /**
     * At a PASID, iommu_replace_device_pasid() between fault-capable domains keeps the device queued and the group
     * owed; blocking_domain_set_dev_pasid() then drops the last reference first, answering it INVALID (with the
     * PASID) once, and tears the entry down.
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
        assertThat(f.pasidEntry(PASID_2048)[0] & VtdEntries.PRESENT).isZero();
    }

    /**
     * The reference count spans the RID and PASIDs: with fault-capable domains at both, detaching the PASID keeps
     * the device queued for the RID; only the RID's detach removes it.
     */
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
