package dev.iommulab.vfio;

import static dev.iommulab.vfio.VtdIommufdMachine.VA;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.iommu.PrgResponseCode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The iommufd context on a VT-d machine: object rules (iommufd_object_remove(), iommufd_hwpt_alloc(),
 * iommufd_fault_alloc()), attachment rules (iommufd_hwpt_attach_device(), iommufd_hwpt_pasid_compat(),
 * iommufd_hwpt_compatible_device()) and the fault path from a real page request to the fault file and back
 * (iommufd_fault_iopf_handler(), iommufd_fault_fops_read/write(), iommufd_auto_response_faults()). Reference
 * linux-fault-stack.md §5 and §8 items 32-44.
 */
class IommufdContextTest {

    private final VtdIommufdMachine m = new VtdIommufdMachine();
    private final Iommufd ctx = m.ctx;

    private static Errno errno(Executable call) {
        return catchThrowableOfType(KernelException.class, () -> call.execute()).errno();
    }

    /** A fault-capable, PASID-compatible HWPT on a new IOAS, attached at {@code pasid} of acc0. */
    private record Setup(int devId, int ioas, Iommufd.FaultAlloc fault, int hwpt) {
    }

    private Setup faultCapable(int pasid) {
        int devId = ctx.bindDevice(m.dev0);
        int ioas = ctx.ioasAlloc();
        Iommufd.FaultAlloc fault = ctx.faultQueueAlloc(0);
        int hwpt = ctx.hwptAlloc(devId, ioas, Iommufd.HWPT_FAULT_ID_VALID | Iommufd.HWPT_ALLOC_PASID,
                fault.faultId(), null);
        ctx.attach(devId, pasid, hwpt);
        return new Setup(devId, ioas, fault, hwpt);
    }

    private static int intAt(byte[] b, int off) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getInt(off);
    }

    private static long longAt(byte[] b, int off) {
        return ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).getLong(off);
    }

    private static byte[] answer(int cookie, int code) {
        return PgFaultRecord.encodeResponses(new int[][] {{cookie, code}});
    }

    /**
     * iommufd_fault_alloc() refuses flags; iommufd_hwpt_paging_alloc() refuses FAULT_ID_VALID with NEST_PARENT and
     * unknown flag bits (EOPNOTSUPP); iommufd_get_fault() of an id that is no fault object is ENOENT. A refused
     * call leaves no object behind.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 32: alloc validation")
    void alloc_badFlagsOrFaultId_refusedAndNothingCreated() {
        int devId = ctx.bindDevice(m.dev0);
        int ioas = ctx.ioasAlloc();
        int fault = ctx.faultQueueAlloc(0).faultId();
        List<Integer> before = ctx.objectIds();

        assertThat(errno(() -> ctx.faultQueueAlloc(1))).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(errno(() -> ctx.hwptAlloc(devId, ioas, Iommufd.HWPT_FAULT_ID_VALID
                | Iommufd.HWPT_ALLOC_NEST_PARENT, fault, null))).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(errno(() -> ctx.hwptAlloc(devId, ioas, Iommufd.HWPT_FAULT_ID_VALID, ioas, null)))
                .isEqualTo(Errno.ENOENT);
        assertThat(errno(() -> ctx.hwptAlloc(devId, ioas, 1 << 4, 0, null))).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(errno(() -> ctx.hwptAlloc(99, ioas, 0, 0, null))).isEqualTo(Errno.ENOENT);
        assertThat(errno(() -> ctx.hwptAlloc(devId, 99, 0, 0, null))).isEqualTo(Errno.EINVAL);
        assertThat(ctx.objectIds()).isEqualTo(before);
    }

    /**
     * iommufd_object_remove(): an attached HWPT, a fault object a HWPT (or its open file) holds, an IOAS with
     * HWPTs and a bound device are EBUSY; an unknown id is ENOENT; once nothing holds them they go, lowest ids
     * free again.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 33: reference pinning")
    void destroy_objectsInUse_ebusyUntilReleased() {
        Setup s = faultCapable(IommuCore.IOMMU_NO_PASID);

        assertThat(errno(() -> ctx.destroy(s.hwpt()))).isEqualTo(Errno.EBUSY);
        assertThat(errno(() -> ctx.destroy(s.fault().faultId()))).isEqualTo(Errno.EBUSY);
        assertThat(errno(() -> ctx.destroy(s.ioas()))).isEqualTo(Errno.EBUSY);
        assertThat(errno(() -> ctx.destroy(s.devId()))).isEqualTo(Errno.EBUSY);
        assertThat(errno(() -> ctx.destroy(42))).isEqualTo(Errno.ENOENT);

        ctx.detach(s.devId(), IommuCore.IOMMU_NO_PASID);
        ctx.destroy(s.hwpt());
        assertThat(errno(() -> ctx.destroy(s.fault().faultId()))).as("the open file still holds it")
                .isEqualTo(Errno.EBUSY);
        s.fault().file().close();
        ctx.destroy(s.fault().faultId());
        ctx.destroy(s.ioas());

        assertThat(ctx.objectIds()).containsExactly(s.devId());
    }

    /** iommufd_hwpt_compatible_device(): a VF with PRI shares the PF's PRI interface — no fault-capable HWPT. */
    @Test
    @DisplayName("linux-fault-stack §8 item 43: VF restriction")
    void attach_faultCapableHwptToVfWithPri_einval() {
        int devId = ctx.bindDevice(m.vf);
        int ioas = ctx.ioasAlloc();
        int fault = ctx.faultQueueAlloc(0).faultId();
        int iopfHwpt = ctx.hwptAlloc(devId, ioas, Iommufd.HWPT_FAULT_ID_VALID, fault, null);
        int plainHwpt = ctx.hwptAlloc(devId, ioas, 0, 0, null);

        assertThat(errno(() -> ctx.attach(devId, IommuCore.IOMMU_NO_PASID, iopfHwpt))).isEqualTo(Errno.EINVAL);
        assertThat(m.iopf.queueOf(m.vf)).isNull();

        assertThat(ctx.attach(devId, IommuCore.IOMMU_NO_PASID, plainHwpt)).isEqualTo(plainHwpt);
    }

    /** iommufd_hwpt_pasid_compat(): a PASID takes only a HWPT allocated with IOMMU_HWPT_ALLOC_PASID. */
    @Test
    void attach_pasidWithoutAllocPasidHwpt_einval() {
        int devId = ctx.bindDevice(m.dev0);
        int ioas = ctx.ioasAlloc();
        int hwpt = ctx.hwptAlloc(devId, ioas, 0, 0, null);

        assertThat(errno(() -> ctx.attach(devId, 2048, hwpt))).isEqualTo(Errno.EINVAL);
        assertThat(m.dev0.group().pasidArray()).doesNotContainKey(2048);
    }

    /**
     * A two-request group at the RID of acc0 reaches the fault file as two 40-byte records with one cookie (1),
     * the iommufd device id, LAST_PAGE only on the second, no PASID_VALID, reserved and length 0.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 34: record layout, through VT-d")
    void read_groupOfTwoAtRid_twoRecordsOneCookie() {
        Setup s = faultCapable(IommuCore.IOMMU_NO_PASID);
        m.request(m.acc0, -1, 2, true, false, 0x10000);
        m.request(m.acc0, -1, 2, false, true, 0x11000);

        assertThat(s.fault().file().read(40, 0)).isEmpty();
        byte[] b = s.fault().file().read(80, 0);

        assertThat(b).hasSize(80);
        for (int r = 0; r < 2; r++) {
            int o = r * 40;
            assertThat(intAt(b, o + 4)).as("dev_id").isEqualTo(s.devId());
            assertThat(intAt(b, o + 12)).as("grpid").isEqualTo(2);
            assertThat(intAt(b, o + 20)).as("__reserved").isZero();
            assertThat(intAt(b, o + 32)).as("length").isZero();
            assertThat(intAt(b, o + 36)).as("cookie").isEqualTo(1);
            assertThat(intAt(b, o) & IommufdFault.FLAGS_PASID_VALID).isZero();
        }
        assertThat(intAt(b, 0) & IommufdFault.FLAGS_LAST_PAGE).isZero();
        assertThat(intAt(b, 40) & IommufdFault.FLAGS_LAST_PAGE).isEqualTo(IommufdFault.FLAGS_LAST_PAGE);
        assertThat(intAt(b, 16)).as("perm of the write").isEqualTo(PgFaultRecord.PERM_WRITE);
        assertThat(intAt(b, 56)).as("perm of the read").isEqualTo(PgFaultRecord.PERM_READ);
        assertThat(longAt(b, 24)).isEqualTo(0x10000);
        assertThat(longAt(b, 64)).isEqualTo(0x11000);
    }

    /**
     * iommufd_fault_fops_write() with SUCCESS answers the group once through intel_iommu_page_response(): the
     * function gets one PRG response for its PASID and PRGI. Selftest {@code pasid_attach}.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 44: PASID attach + fault, through VT-d")
    void pasidAttach_faultAtPasid2048_recordAndSuccess() {
        Setup s = faultCapable(2048);
        m.request(m.acc0, 2048, 5, false, true, 0x20000);

        byte[] b = s.fault().file().read(40, 0);

        assertThat(intAt(b, 8)).as("pasid").isEqualTo(2048);
        assertThat(intAt(b, 0) & (IommufdFault.FLAGS_PASID_VALID | IommufdFault.FLAGS_LAST_PAGE))
                .isEqualTo(IommufdFault.FLAGS_PASID_VALID | IommufdFault.FLAGS_LAST_PAGE);
        assertThat(s.fault().file().write(answer(intAt(b, 36), IommufdFault.RESP_SUCCESS), 0)).isEqualTo(8);
        m.loop.runUntilIdle();

        assertThat(m.answersOf(m.dev0)).extracting(VtdIommufdMachine.Answer::pasid, VtdIommufdMachine.Answer::grpid,
                VtdIommufdMachine.Answer::code, VtdIommufdMachine.Answer::origin)
                .containsExactly(tuple(2048, 5, "SUCCESS", ResponseOrigin.IOMMUFD));
        assertThat(m.prg).extracting(p -> p.pasid(), p -> p.prgi(), p -> p.wireCode())
                .containsExactly(tuple(2048, 5, PrgResponseCode.SUCCESS.wire()));
    }

    /**
     * Detach with one group read but unanswered and one unread, while acc0's PASID 7 attachment to the same HWPT keeps
     * IOPF on (so iopf_queue_remove_device() does not run): iommufd_auto_response_faults() answers each INVALID
     * exactly once (origin auto-response) and the fault file forgets both (cookie freed, nothing of them left to
     * read); acc1's group on the same fault object and acc0's group at PASID 7 stay queued, unanswered.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 40: detach auto-response, through VT-d")
    void detach_readAndUnreadGroups_eachInvalidOnceOtherDeviceUntouched() {
        Setup s = faultCapable(IommuCore.IOMMU_NO_PASID);
        ctx.attach(s.devId(), 7, s.hwpt());
        int dev1 = ctx.bindDevice(m.dev1);
        ctx.attach(dev1, IommuCore.IOMMU_NO_PASID, s.hwpt());
        m.request(m.acc0, -1, 1, false, true, 0x10000);
        m.request(m.acc0, -1, 2, false, true, 0x11000);
        m.request(m.acc1, -1, 3, false, true, 0x12000);
        m.request(m.acc0, 7, 4, false, true, 0x13000);
        IommufdFault file = s.fault().file();
        assertThat(PgFaultRecord.decode(file.read(40, 0))).extracting(PgFaultRecord::grpid).containsExactly(1);

        ctx.detach(s.devId(), IommuCore.IOMMU_NO_PASID);
        m.loop.runUntilIdle();

        assertThat(m.answers).extracting(a -> a.dev().name(), VtdIommufdMachine.Answer::grpid,
                VtdIommufdMachine.Answer::code, VtdIommufdMachine.Answer::origin).containsExactlyInAnyOrder(
                        tuple("acc0", 1, "INVALID", ResponseOrigin.AUTO_RESPONSE),
                        tuple("acc0", 2, "INVALID", ResponseOrigin.AUTO_RESPONSE));
        assertThat(m.prg).extracting(p -> p.prgi()).containsExactlyInAnyOrder(1, 2);
        assertThat(m.iopf.queueOf(m.dev0)).as("IOPF still on through PASID 7").isNotNull();
        assertThat(file.awaitingResponse()).isZero();
        assertThat(errno(() -> file.write(answer(1, IommufdFault.RESP_SUCCESS), 0))).as("cookie 1 was freed")
                .isEqualTo(Errno.EINVAL);
        assertThat(file.undelivered()).isEqualTo(2);
        assertThat(PgFaultRecord.decode(file.read(80, 0))).extracting(PgFaultRecord::devId, PgFaultRecord::grpid)
                .containsExactly(tuple(dev1, 3), tuple(s.devId(), 4));
    }

    /**
     * The same detach when it removes acc0's last fault-capable attachment: iopf_queue_remove_device() answers both
     * groups first (origin remove-device) and iommufd_auto_response_faults() finds nothing left to answer, so each
     * is still answered exactly once; the fault file forgets both and acc1's group stays queued.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 40 (last IOPF attachment): remove-device answers before iommufd")
    void detach_lastIopfAttachment_removeDeviceAnswersEachOnceOtherDeviceUntouched() {
        Setup s = faultCapable(IommuCore.IOMMU_NO_PASID);
        int dev1 = ctx.bindDevice(m.dev1);
        ctx.attach(dev1, IommuCore.IOMMU_NO_PASID, s.hwpt());
        m.request(m.acc0, -1, 1, false, true, 0x10000);
        m.request(m.acc0, -1, 2, false, true, 0x11000);
        m.request(m.acc1, -1, 3, false, true, 0x12000);
        IommufdFault file = s.fault().file();
        assertThat(file.read(40, 0)).hasSize(40);

        ctx.detach(s.devId(), IommuCore.IOMMU_NO_PASID);
        m.loop.runUntilIdle();

        assertThat(m.answersOf(m.dev0)).extracting(VtdIommufdMachine.Answer::grpid, VtdIommufdMachine.Answer::code,
                VtdIommufdMachine.Answer::origin).containsExactlyInAnyOrder(
                        tuple(1, "INVALID", ResponseOrigin.REMOVE_DEVICE),
                        tuple(2, "INVALID", ResponseOrigin.REMOVE_DEVICE));
        assertThat(m.answersOf(m.dev1)).isEmpty();
        assertThat(file.awaitingResponse()).isZero();
        assertThat(file.undelivered()).isEqualTo(1);
        assertThat(PgFaultRecord.decode(file.read(40, 0))).extracting(PgFaultRecord::devId, PgFaultRecord::grpid)
                .containsExactly(tuple(dev1, 3));
        assertThat(errno(() -> file.write(answer(2, IommufdFault.RESP_SUCCESS), 0))).isEqualTo(Errno.EINVAL);
    }

    /**
     * While another fault-capable attachment keeps IOPF on (PASID 7), detaching the RID leaves the device on the
     * iopf queue; iommufd_auto_response_faults() answers the RID attachment's groups (origin auto-response) and
     * not the PASID's.
     */
    @Test
    void detach_iopfStaysOn_autoResponseAnswersOnlyThatAttachment() {
        Setup s = faultCapable(IommuCore.IOMMU_NO_PASID);
        ctx.attach(s.devId(), 7, s.hwpt());
        m.request(m.acc0, -1, 1, false, true, 0x10000);
        m.request(m.acc0, 7, 2, false, true, 0x11000);

        ctx.detach(s.devId(), IommuCore.IOMMU_NO_PASID);
        m.loop.runUntilIdle();

        assertThat(m.answers).extracting(VtdIommufdMachine.Answer::grpid, VtdIommufdMachine.Answer::code,
                VtdIommufdMachine.Answer::origin).containsExactly(tuple(1, "INVALID", ResponseOrigin.AUTO_RESPONSE));
        assertThat(s.fault().file().undelivered()).isEqualTo(1);
    }

    /**
     * Replace of fault-capable H1 (fault F1) by a plain H2 (no fault object) at acc0's RID, with one group read and
     * unanswered, while acc0's PASID 7 attachment to H1 keeps IOPF on (so iopf_queue_remove_device() does not answer
     * it): the intended code looks in the old HWPT's fault object and answers the group INVALID once from F1 (origin
     * auto-response); the 2025 code would look in H2, which has no fault object, and miss it.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 41: replace auto-response (intended), through VT-d")
    void replace_toPlainHwpt_intendedAnswersOldGroupOnce() {
        Setup s = faultCapable(IommuCore.IOMMU_NO_PASID);
        ctx.attach(s.devId(), 7, s.hwpt());
        int plain = ctx.hwptAlloc(s.devId(), s.ioas(), Iommufd.HWPT_ALLOC_PASID, 0, null); // no fault object
        m.request(m.acc0, -1, 4, false, true, 0x10000);
        m.request(m.acc0, 7, 5, false, true, 0x11000);
        assertThat(PgFaultRecord.decode(s.fault().file().read(40, 0))).extracting(PgFaultRecord::grpid)
                .containsExactly(4);

        ctx.replace(s.devId(), IommuCore.IOMMU_NO_PASID, plain);
        m.loop.runUntilIdle();

        assertThat(m.answers).extracting(VtdIommufdMachine.Answer::grpid, VtdIommufdMachine.Answer::code,
                VtdIommufdMachine.Answer::origin).containsExactly(tuple(4, "INVALID", ResponseOrigin.AUTO_RESPONSE));
        assertThat(m.prg).extracting(p -> p.prgi()).containsExactly(4);
        assertThat(s.fault().file().awaitingResponse()).isZero();
        assertThat(s.fault().file().undelivered()).as("PASID 7's group").isEqualTo(1);
        assertThat(m.iopf.queueOf(m.dev0)).isNotNull();
    }

    /**
     * Replace of fault-capable H1 (fault F1) by fault-capable H2 (fault F2) keeps IOPF on (the new domain's IOPF is
     * enabled first), so the unanswered group is iommufd's to answer: the intended code answers it INVALID from F1
     * at once.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 41 (H2 fault-capable with its own fault object), through VT-d")
    void replace_toOtherFaultObject_intendedAnswersOldGroupOnce() {
        Setup s = faultCapable(IommuCore.IOMMU_NO_PASID);
        int h2 = secondFaultCapableHwpt(s);
        m.request(m.acc0, -1, 4, false, true, 0x10000);
        s.fault().file().read(40, 0);

        ctx.replace(s.devId(), IommuCore.IOMMU_NO_PASID, h2);
        m.loop.runUntilIdle();

        assertThat(m.answers).extracting(VtdIommufdMachine.Answer::grpid, VtdIommufdMachine.Answer::code,
                VtdIommufdMachine.Answer::origin).containsExactly(tuple(4, "INVALID", ResponseOrigin.AUTO_RESPONSE));
        assertThat(s.fault().file().awaitingResponse()).isZero();
        assertThat(m.iopf.queueOf(m.dev0)).isNotNull();
    }

    /**
     * The 2025 defect: iommufd_hwpt_replace_device() searches the new HWPT's fault object, so the old group stays in
     * F1 unanswered; it is answered only when F1 goes (iommufd_fault_destroy(), the safety net of item 42) — still
     * exactly once.
     */
    @Test
    @DisplayName("linux-fault-stack §8 items 41 (legacy 2025) and 42: the destroy safety net")
    void replace_legacyMode_groupMissedUntilFaultObjectDestroyed() {
        VtdIommufdMachine legacy = new VtdIommufdMachine(Iommufd.ReplaceAutoResponse.LEGACY_2025);
        Iommufd lctx = legacy.ctx;
        int devId = lctx.bindDevice(legacy.dev0);
        int ioas = lctx.ioasAlloc();
        Iommufd.FaultAlloc f1 = lctx.faultQueueAlloc(0);
        Iommufd.FaultAlloc f2 = lctx.faultQueueAlloc(0);
        int h1 = lctx.hwptAlloc(devId, ioas, Iommufd.HWPT_FAULT_ID_VALID, f1.faultId(), null);
        int h2 = lctx.hwptAlloc(devId, ioas, Iommufd.HWPT_FAULT_ID_VALID, f2.faultId(), null);
        lctx.attach(devId, IommuCore.IOMMU_NO_PASID, h1);
        legacy.request(legacy.acc0, -1, 4, false, true, 0x10000);

        lctx.replace(devId, IommuCore.IOMMU_NO_PASID, h2);
        legacy.loop.runUntilIdle();
        assertThat(legacy.answers).isEmpty();
        assertThat(f1.file().undelivered()).isEqualTo(1);

        f1.file().close();
        legacy.loop.runUntilIdle();
        assertThat(legacy.answers).as("close alone answers nothing").isEmpty();
        lctx.destroy(h1);
        lctx.destroy(f1.faultId());
        legacy.loop.runUntilIdle();

        assertThat(legacy.answers).extracting(VtdIommufdMachine.Answer::grpid, VtdIommufdMachine.Answer::code,
                VtdIommufdMachine.Answer::origin).containsExactly(tuple(4, "INVALID", ResponseOrigin.AUTO_RESPONSE));
    }

    /**
     * The context's release (iommufd_fops_release()) with groups still held, one read and one unread, on two
     * devices: every one is answered INVALID exactly once and nothing is owed afterwards.
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 42: close of the context answers what is held, once")
    void close_groupsHeld_eachAnsweredOnce() {
        Setup s = faultCapable(IommuCore.IOMMU_NO_PASID);
        int dev1 = ctx.bindDevice(m.dev1);
        ctx.attach(dev1, IommuCore.IOMMU_NO_PASID, s.hwpt());
        m.request(m.acc0, -1, 1, false, true, 0x10000);
        m.request(m.acc1, -1, 2, false, true, 0x11000);
        s.fault().file().read(40, 0);

        ctx.close();
        m.loop.runUntilIdle();

        assertThat(m.answers).extracting(a -> a.dev().name(), VtdIommufdMachine.Answer::grpid,
                VtdIommufdMachine.Answer::code).containsExactlyInAnyOrder(tuple("acc0", 1, "INVALID"),
                tuple("acc1", 2, "INVALID"));
        assertThat(m.iopf.pendingGroups(m.dev0) + m.iopf.pendingGroups(m.dev1)).isZero();
        assertThat(ctx.objectIds()).isEmpty();
        assertThat(m.core.getDomainForDev(m.dev0).type()).as("back to the default domain")
                .isEqualTo(m.core.defaultDomainType());
    }

    private int secondFaultCapableHwpt(Setup s) {
        Iommufd.FaultAlloc f2 = ctx.faultQueueAlloc(0);
        return ctx.hwptAlloc(s.devId(), s.ioas(), Iommufd.HWPT_FAULT_ID_VALID | Iommufd.HWPT_ALLOC_PASID,
                f2.faultId(), null);
    }

    /**
     * IOMMU_IOAS_MAP pins the process's pages and mirrors them into every HWPT of the IOAS, also one allocated
     * later (iopt_table_add_domain()); IOMMU_IOAS_UNMAP takes them out and unpins.
     */
    @Test
    void ioasMap_pinsAndMirrorsIntoHwpts() {
        int devId = ctx.bindDevice(m.dev0);
        int ioas = ctx.ioasAlloc();
        m.mm.mmap(VA, 0x4000, 0x3);
        int before = ctx.hwptAlloc(devId, ioas, 0, 0, null);
        ctx.ioasMap(ioas, m.mm, VA, 0x2000, 0x100000, Iommufd.IOAS_MAP_FIXED_IOVA | Iommufd.IOAS_MAP_READABLE
                | Iommufd.IOAS_MAP_WRITEABLE);
        int after = ctx.hwptAlloc(devId, ioas, 0, 0, null);
        long frame = m.mm.pteOf(VA).frame();

        assertThat(m.mm.pinCount(frame)).isEqualTo(1);
        for (int h : new int[] {before, after}) {
            assertThat(dev.iommulab.core.IommuMap.iovaToPhys(ctx.hwptDomain(h), 0x100000)).isEqualTo(frame);
        }
        assertThat(errno(() -> ctx.ioasMap(ioas, m.mm, VA, 0x1000, 0x101000, Iommufd.IOAS_MAP_FIXED_IOVA
                | Iommufd.IOAS_MAP_READABLE))).isEqualTo(Errno.EEXIST);
        assertThat(errno(() -> ctx.ioasUnmap(ioas, 0x100000, 0x1000))).as("cuts the area").isEqualTo(Errno.ENOENT);

        assertThat(ctx.ioasUnmap(ioas, 0x100000, 0x2000)).isEqualTo(0x2000);
        assertThat(m.mm.pinCount(frame)).isZero();
        assertThat(dev.iommulab.core.IommuMap.iovaToPhys(ctx.hwptDomain(before), 0x100000)).isZero();
    }

    /**
     * iommufd_viommu_alloc_ioctl() needs a nest-parent HWPT (EINVAL otherwise) and a type the driver offers; its
     * event queue (iommufd_veventq_alloc()) holds it, so IOMMU_DESTROY goes queue, vIOMMU, HWPT. Events beyond the
     * depth are dropped behind one LOST_EVENTS header (linux-fault-stack.md §5.8).
     */
    @Test
    void viommu_eventQueueOnNestParent_depthAndReferences() {
        int devId = ctx.bindDevice(m.dev0);
        int ioas = ctx.ioasAlloc();
        int plain = ctx.hwptAlloc(devId, ioas, 0, 0, null);
        int parent = ctx.hwptAlloc(devId, ioas, Iommufd.HWPT_ALLOC_NEST_PARENT, 0, null);
        assertThat(errno(() -> ctx.viommuAlloc(devId, plain, 0, Iommufd.VIOMMU_TYPE_DEFAULT))).isEqualTo(Errno.EINVAL);
        assertThat(errno(() -> ctx.viommuAlloc(devId, parent, 0, 1))).isEqualTo(Errno.EOPNOTSUPP);
        int viommu = ctx.viommuAlloc(devId, parent, 0, Iommufd.VIOMMU_TYPE_DEFAULT);
        Iommufd.VeventqAlloc q = ctx.veventqAlloc(viommu, 0, IommufdVeventq.TYPE_ARM_SMMUV3, 2);

        for (int i = 0; i < 3; i++) {
            ctx.viommuReportEvent(viommu, IommufdVeventq.TYPE_ARM_SMMUV3, new byte[32]);
        }
        byte[] b = q.queue().read(1024, 0);

        assertThat(b).hasSize(2 * 40 + 8);
        assertThat(intAt(b, 80)).as("flags of the last header").isEqualTo(IommufdVeventq.FLAG_LOST_EVENTS);
        assertThat(intAt(b, 84)).as("its sequence").isEqualTo(2);
        assertThat(errno(() -> ctx.destroy(viommu))).isEqualTo(Errno.EBUSY);
        assertThat(errno(() -> ctx.destroy(parent))).isEqualTo(Errno.EBUSY);
        ctx.destroy(q.veventqId());
        ctx.destroy(viommu);
        ctx.destroy(parent);
        assertThat(ctx.objectIds()).containsExactly(devId, ioas, plain);
    }
}
