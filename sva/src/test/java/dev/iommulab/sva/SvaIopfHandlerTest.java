package dev.iommulab.sva;

import static dev.iommulab.sva.SvaFixture.RO_VA;
import static dev.iommulab.sva.SvaFixture.RW_VA;
import static dev.iommulab.sva.SvaFixture.UNMAPPED_VA;
import static dev.iommulab.sva.SvaFixture.fault;
import static dev.iommulab.sva.SvaFixture.lastRead;
import static dev.iommulab.sva.SvaFixture.lastWrite;
import static dev.iommulab.sva.SvaFixture.partialRead;
import static dev.iommulab.sva.SvaFixture.resp;
import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponseCode;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.fixtures.RecordingIommuOps;
import dev.iommulab.hw.pgtable.WalkResult;
import dev.iommulab.hw.sim.TimingModel;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/**
 * The SVA fault path end to end: iommu_report_device_fault() → iommu_sva_iopf_handler() →
 * iommu_sva_handle_iopf() on the iopf workqueue → iommu_sva_handle_mm() → handle_mm_fault().
 */
class SvaIopfHandlerTest {

    private SvaFixture f;
    private Device dev;
    private MmStruct mm;
    private SvaHandle handle;
    private int pasid;

    @BeforeEach
    void setUp() {
        f = new SvaFixture();
        dev = f.probe("accel0", 0x0100, 8);
        mm = f.process("proc");
        handle = f.sva.bindDevice(dev, mm);
        pasid = handle.pasid();
    }

    /** Reports {@code faults} in order, all must return 0, then runs the workqueue until idle. */
    private void reportAndRun(IommuFault... faults) {
        for (IommuFault fault : faults) {
            assertThat(f.iopf.reportDeviceFault(dev, fault)).isZero();
        }
        f.loop.runUntilIdle();
    }

    /**
     * Happy path: an LPIG read fault at a RW VMA runs on the iopf workqueue one wake-up later, calls
     * handle_mm_fault() once and is answered SUCCESS once; the fault param is back to 1 user.
     * iommu_sva_handle_iopf(); reference §8 item 1, §2.5.
     */
    @Test
    void item1_happyPathSingleLpig_answersSuccessOnceAfterWorkqueueWake() {
        assertThat(f.iopf.reportDeviceFault(dev, lastRead(pasid, 3, RW_VA))).isZero();
        assertThat(f.ops.responses()).isEmpty();
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(2);

        f.loop.runUntilIdle();

        assertThat(f.loop.now()).isEqualTo(TimingModel.ESTIMATES.threadWakeNs());
        assertThat(f.ops.responses()).singleElement().satisfies(r -> {
            assertThat(r.dev()).isSameAs(dev);
            assertThat(r.evt()).isEqualTo(lastRead(pasid, 3, RW_VA));
            assertThat(r.msg()).isEqualTo(resp(pasid, 3, PageResponseCode.SUCCESS));
        });
        assertThat(f.origins).containsExactly(ResponseOrigin.SVA);
        assertThat(mm.handledFaults()).isEqualTo(1);
        assertThat(f.walk(mm, RW_VA)).isInstanceOfSatisfying(WalkResult.Leaf.class, leaf -> {
            assertThat(leaf.pa()).isEqualTo(f.zeroPage);
            assertThat(leaf.writable()).isFalse();
        });
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
        assertThat(f.iopf.pendingGroups(dev)).isZero();
        assertThat(mm.users()).isEqualTo(1);
    }

    /**
     * A write fault in a RW VMA: handle_mm_fault() with FAULT_FLAG_WRITE installs a private writable page and
     * the group is answered SUCCESS. iommu_sva_handle_mm(); reference §8 item 1, §2.5.
     */
    @Test
    void handleIopf_writeFaultInRwVma_mapsPrivateWritablePageAndAnswersSuccess() {
        reportAndRun(lastWrite(pasid, 4, RW_VA + 0x1000));

        assertThat(f.ops.messages()).containsExactly(resp(pasid, 4, PageResponseCode.SUCCESS));
        assertThat(f.walk(mm, RW_VA + 0x1000)).isInstanceOfSatisfying(WalkResult.Leaf.class, leaf -> {
            assertThat(leaf.pa()).isNotEqualTo(f.zeroPage);
            assertThat(leaf.writable()).isTrue();
        });
    }

    /**
     * No VMA covers the address: vma_lookup() fails, INVALID, handle_mm_fault() not called.
     * iommu_sva_handle_mm(); reference §8 item 2.
     */
    @Test
    void item2_unmappedAddress_answersInvalidWithoutMmFault() {
        reportAndRun(lastRead(pasid, 3, UNMAPPED_VA));

        assertThat(f.ops.messages()).containsExactly(resp(pasid, 3, PageResponseCode.INVALID));
        assertThat(mm.handledFaults()).isZero();
        assertThat(mm.users()).isEqualTo(1);
    }

    /**
     * A write fault on a read-only VMA fails the access check: INVALID and handle_mm_fault() is NOT called.
     * iommu_sva_handle_mm(); reference §8 item 3.
     */
    @Test
    void item3_permissionMismatch_answersInvalidWithoutMmFault() {
        reportAndRun(lastWrite(pasid, 5, RO_VA));

        assertThat(f.ops.messages()).containsExactly(resp(pasid, 5, PageResponseCode.INVALID));
        assertThat(mm.handledFaults()).isZero();
        assertThat(f.walk(mm, RO_VA)).isInstanceOf(WalkResult.Fault.class);
    }

    /**
     * An exec fault on a VMA without VM_EXEC: INVALID, no handle_mm_fault(). iommu_sva_handle_mm();
     * reference §8 item 3, §2.5.
     */
    @Test
    void handleIopf_execFaultOnNonExecVma_answersInvalidWithoutMmFault() {
        reportAndRun(fault(IommuFault.PAGE_REQUEST_LAST_PAGE, pasid, 5, IommuFault.PERM_READ | IommuFault.PERM_EXEC,
                RW_VA));

        assertThat(f.ops.messages()).containsExactly(resp(pasid, 5, PageResponseCode.INVALID));
        assertThat(mm.handledFaults()).isZero();
    }

    /**
     * handle_mm_fault() returns an error bit (VM_FAULT_OOM from an injected frame failure): INVALID.
     * iommu_sva_handle_mm(); reference §8 item 4.
     */
    @Test
    void item4_mmFaultError_answersInvalid() {
        f.failures.failNext(FrameAllocator.SITE, 1);

        reportAndRun(lastWrite(pasid, 6, RW_VA));

        assertThat(f.ops.messages()).containsExactly(resp(pasid, 6, PageResponseCode.INVALID));
        assertThat(mm.handledFaults()).isEqualTo(1);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
    }

    /**
     * handle_mm_fault() returns VM_FAULT_SIGBUS for a VMA backed by nothing (a file mapping past its end): the group
     * is answered INVALID, and nothing got mapped. iommu_sva_handle_mm(); reference §8 item 4.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 4: handle_mm_fault error (SIGBUS, VMA backed by nothing) answers INVALID")
    void item4_vmaBackedByNothing_sigbusAnswersInvalid() {
        long va = 0x7000_0000L;
        mm.mmap(va, 0x1000, Vma.flagsOf("rw"), Vma.Backing.NONE);

        reportAndRun(lastRead(pasid, 8, va));

        assertThat(f.ops.messages()).containsExactly(resp(pasid, 8, PageResponseCode.INVALID));
        assertThat(mm.handledFaults()).isEqualTo(1);
        assertThat(f.walk(mm, va)).isNotInstanceOf(WalkResult.Leaf.class);
    }

    /**
     * The process exited (mmput() dropped the last user): mmget_not_zero() fails, INVALID, no mm fault.
     * iommu_sva_handle_mm(); reference §8 item 5.
     */
    @Test
    void item5_exitedProcess_answersInvalidWithoutMmFault() {
        mm.mmput();
        assertThat(mm.users()).isZero();

        reportAndRun(lastRead(pasid, 7, RW_VA));

        assertThat(f.ops.messages()).containsExactly(resp(pasid, 7, PageResponseCode.INVALID));
        assertThat(mm.handledFaults()).isZero();
        assertThat(mm.users()).isZero();
    }

    /**
     * Errors are sticky: in [P1 unmapped, P2 mapped, L mapped] P1 fails before handle_mm_fault(), P2 and L
     * are not processed, the group is answered INVALID with L's pasid/grpid, and no page got mapped.
     * iommu_sva_handle_iopf(); reference §8 item 7.
     */
    @Test
    void item7_stickyError_answersInvalidAndSkipsTheRest() {
        reportAndRun(partialRead(pasid, 9, UNMAPPED_VA), partialRead(pasid, 9, RW_VA),
                lastRead(pasid, 9, RW_VA + 0x1000));

        assertThat(f.ops.messages()).containsExactly(resp(pasid, 9, PageResponseCode.INVALID));
        assertThat(mm.handledFaults()).isZero();
        assertThat(f.walk(mm, RW_VA)).isInstanceOf(WalkResult.Fault.class);
        assertThat(f.walk(mm, RW_VA + 0x1000)).isInstanceOf(WalkResult.Fault.class);
        assertThat(f.iopf.partials(dev)).isEmpty();
    }

    /**
     * Sticky errors in the middle: [P1 mapped, P2 unmapped, L mapped] handles only P1, then stops; INVALID.
     * iommu_sva_handle_iopf(); reference §8 item 7.
     */
    @Test
    void handleIopf_middleFaultOfGroupFails_handlesOnlyWhatRanBefore() {
        reportAndRun(partialRead(pasid, 9, RW_VA), partialRead(pasid, 9, UNMAPPED_VA),
                lastRead(pasid, 9, RW_VA + 0x1000));

        assertThat(f.ops.messages()).containsExactly(resp(pasid, 9, PageResponseCode.INVALID));
        assertThat(mm.handledFaults()).isEqualTo(1);
        assertThat(f.walk(mm, RW_VA)).isInstanceOf(WalkResult.Leaf.class);
        assertThat(f.walk(mm, RW_VA + 0x1000)).isInstanceOf(WalkResult.Fault.class);
    }

    /**
     * A whole group of mapped faults is handled in list order, each with handle_mm_fault(), and answered
     * SUCCESS once. iommu_sva_handle_iopf(); reference §8 items 6 and 1.
     */
    @Test
    void handleIopf_groupOfMappedFaults_handlesEachAndAnswersSuccessOnce() {
        reportAndRun(partialRead(pasid, 9, RW_VA), partialRead(pasid, 9, RW_VA + 0x1000),
                lastWrite(pasid, 9, RW_VA + 0x2000));

        assertThat(f.ops.messages()).containsExactly(resp(pasid, 9, PageResponseCode.SUCCESS));
        assertThat(mm.handledFaults()).isEqualTo(3);
        assertThat(f.iopf.faultParamUsers(dev)).isEqualTo(1);
    }

    /**
     * A request with none of READ/WRITE/EXEC passes the (empty) rights check and is serviced as a read
     * fault. iommu_sva_handle_mm(); reference §2.5.
     */
    @Test
    void handleIopf_requestWithoutPermissions_isServicedAsReadFault() {
        reportAndRun(fault(IommuFault.PAGE_REQUEST_LAST_PAGE, pasid, 2, 0, RO_VA));

        assertThat(f.ops.messages()).containsExactly(resp(pasid, 2, PageResponseCode.SUCCESS));
        assertThat(mm.handledFaults()).isEqualTo(1);
        assertThat(f.walk(mm, RO_VA)).isInstanceOfSatisfying(WalkResult.Leaf.class,
                leaf -> assertThat(leaf.pa()).isEqualTo(f.zeroPage));
    }

    /**
     * A fault without PASID_VALID is INVALID in iommu_sva_handle_mm() (not reachable through routing, so
     * called directly). Reference §2.5.
     */
    @Test
    void handleMm_faultWithoutPasid_returnsInvalidWithoutMmFault() {
        SvaIopfHandler handler = new SvaIopfHandler(f.iopf, f.loop);
        IommuFault noPasid = IommuFault.pageRequest(IommuFault.PAGE_REQUEST_LAST_PAGE, 0, 1, IommuFault.PERM_READ,
                RW_VA);

        assertThat(handler.handleMm(noPasid, mm)).isEqualTo(PageResponseCode.INVALID);
        assertThat(mm.handledFaults()).isZero();
        assertThat(mm.users()).isEqualTo(1);
    }

    /**
     * SVA groups of two processes bound to two devices are each answered with their own PASID, and each
     * process's page table gets only its own fault. iommu_sva_handle_iopf(); reference §8 items 1, 27.
     */
    @Test
    void handleIopf_twoProcesses_eachGroupResolvedInItsOwnMm() {
        Device dev2 = f.probe("accel1", 0x0200, 8);
        MmStruct mm2 = f.process("proc2");
        mm2.mmap(0x7000_0000L, 0x1000, Vma.flagsOf("rw"));
        int pasid2 = f.sva.bindDevice(dev2, mm2).pasid();

        assertThat(f.iopf.reportDeviceFault(dev, lastRead(pasid, 1, RW_VA))).isZero();
        assertThat(f.iopf.reportDeviceFault(dev2, lastWrite(pasid2, 1, 0x7000_0000L))).isZero();
        f.loop.runUntilIdle();

        assertThat(pasid2).isEqualTo(2);
        assertThat(f.ops.responses()).extracting(RecordingIommuOps.Response::dev).containsExactlyInAnyOrder(dev, dev2);
        assertThat(f.ops.messages()).containsExactlyInAnyOrder(resp(pasid, 1, PageResponseCode.SUCCESS),
                resp(pasid2, 1, PageResponseCode.SUCCESS));
        assertThat(mm.handledFaults()).isEqualTo(1);
        assertThat(mm2.handledFaults()).isEqualTo(1);
    }

    /**
     * After unbind the PASID has no attach handle, so a late fault for it is bad setup: INVALID, -EINVAL,
     * no mm fault. iommu_report_device_fault() after iommu_sva_unbind_device(); reference §8 item 10, §4.3.
     */
    @Test
    void reportDeviceFault_afterUnbind_answersInvalidAsBadSetup() {
        f.sva.unbindDevice(handle);

        int ret = f.iopf.reportDeviceFault(dev, lastRead(pasid, 3, RW_VA));
        f.loop.runUntilIdle();

        assertThat(ret).isEqualTo(Errno.EINVAL.negative());
        assertThat(f.ops.messages()).containsExactly(resp(pasid, 3, PageResponseCode.INVALID));
        assertThat(f.origins).containsExactly(ResponseOrigin.BAD_SETUP);
        assertThat(mm.handledFaults()).isZero();
    }
}
