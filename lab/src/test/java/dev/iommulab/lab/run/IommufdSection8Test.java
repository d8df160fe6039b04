package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.fault.IommuFault;
import dev.iommulab.core.fault.PageResponse;
import dev.iommulab.core.fault.ResponseOrigin;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.machine.VfioProcess;
import dev.iommulab.lab.scenario.ScenarioLoader;
import dev.iommulab.vfio.Iommufd;
import dev.iommulab.vfio.IommufdFault;
import dev.iommulab.vfio.PgFaultRecord;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * linux-fault-stack.md §8 items 32-44 (iommufd: drivers/iommu/iommufd/{eventq,device,hw_pagetable}.c and the uapi)
 * through the whole stack on VT-d and on the RISC-V IOMMU: the endpoint sends real PCIe Page Requests, the IOMMU
 * queues them, the driver reports them to io-pgfault, the fault-capable HWPT's handler queues them on the process's
 * fault object, and user space reads 40-byte {@code struct iommu_hwpt_pgfault} records and writes
 * {@code struct iommu_hwpt_page_response} answers. Records are checked byte by byte, responses by code, origin and
 * count as the function receives them.
 */
class IommufdSection8Test {

    /** PASID_VALID | LAST_PAGE, and bit 2, the kernel-only IOMMU_FAULT_PAGE_RESPONSE_NEEDS_PASID both drivers set. */
    private static final int PASID_LAST_NEEDS_PASID = IommufdFault.FLAGS_PASID_VALID | IommufdFault.FLAGS_LAST_PAGE
            | IommuFault.PAGE_RESPONSE_NEEDS_PASID;

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    /**
     * A machine of {@code model} with PRI accelerators acc0 and acc1, a VF with PRI (vf0), process vmm (its client
     * follows the policies) and process raw (user-response manual: only steps touch its fault file).
     */
    private RunResult run(String model, String policies, String steps, String expect) throws Exception {
        String text = """
                name: iommufd-section8
                seed: 9
                hardware:
                  model: %s
                policies: { %s }
                devices:
                  - { name: acc0, bdf: "00:03.0", profile: accelerator, ats: true, pri: true, pasid-bits: 20 }
                  - { name: acc1, bdf: "00:04.0", profile: accelerator, ats: true, pri: true, pasid-bits: 20 }
                  - { name: vf0, bdf: "00:05.1", profile: accelerator, ats: true, pri: true, pasid-bits: 20,
                      virtual-function: true }
                processes:
                  - name: vmm
                    vmas:
                      - { start: 0x7f0000000000, size: 64KiB, prot: rw }
                  - name: raw
                    user-response: manual
                    vmas:
                      - { start: 0x7f0000000000, size: 64KiB, prot: rw }
                steps:
                %sexpect:
                %s
                """.formatted(model, policies, steps.indent(2), expect.isEmpty() ? "  []" : expect.indent(2));
        return runner.run(new ScenarioLoader().load(ScenarioFiles.write(dir, "s.yaml", text)));
    }

    private RunResult run(String model, String steps) throws Exception {
        return run(model, "", steps, "");
    }

    private Machine machine() {
        return runner.machine();
    }

    private VfioProcess process(String name) {
        return machine().userspace(name);
    }

    private static List<Tuple> responses(RunResult r) {
        return r.pageResponses().stream().map(p -> tuple(p.device(), p.pasid(), p.grpid(), p.code(), p.origin()))
                .toList();
    }

    private static Errno errno(Runnable call) {
        try {
            call.run();
        } catch (KernelException e) {
            return e.errno();
        }
        throw new AssertionError("no KernelException");
    }

    /** Page responses decided from now on (device, pasid, grpid, code, origin), for what a test does after the run. */
    private List<Tuple> answersFromNowOn() {
        List<Tuple> out = new ArrayList<>();
        machine().faultEvents().addListener(new FaultEvents.Listener() {
            @Override
            public void pageResponse(Device dev, IommuFault evt, PageResponse r, ResponseOrigin origin) {
                out.add(tuple(dev.name(), evt.pasidValid() ? evt.pasid() : null, r.grpid(), r.code().name(),
                        origin.label()));
            }
        });
        return out;
    }

    /** One 40-byte little-endian record of {@code bytes} at {@code index}, as its ten fields. */
    private static int[] fields(byte[] bytes, int index) {
        ByteBuffer b = ByteBuffer.wrap(bytes, index * 40, 40).order(ByteOrder.LITTLE_ENDIAN);
        int[] f = new int[10];
        for (int i = 0; i < 6; i++) {
            f[i] = b.getInt();
        }
        long addr = b.getLong();
        f[6] = (int) addr;
        f[7] = (int) (addr >>> 32);
        f[8] = b.getInt();
        f[9] = b.getInt();
        return f;
    }

    /** The expected fields of one record: flags, dev_id, pasid, grpid, perm, __reserved, addr, length, cookie. */
    private static int[] record(int flags, int devId, int pasid, int grpid, int perm, long addr, int cookie) {
        return new int[] {flags, devId, pasid, grpid, perm, 0, (int) addr, (int) (addr >>> 32), 0, cookie};
    }

    /** IOMMU_FAULT_QUEUE_ALLOC and IOMMU_HWPT_ALLOC validation (iommufd_fault_alloc(), iommufd_hwpt_alloc()). */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 32: fault queue and HWPT alloc validation")
    void hwptAlloc_badFlagsOrFaultId_refusedAndNothingCreated(String model) throws Exception {
        run(model, "- vfio-bind: { device: acc0, process: vmm }");
        VfioProcess vmm = process("vmm");
        Iommufd ctx = vmm.iommufd();
        int devId = vmm.devId(machine().device("acc0"));
        int ioas = vmm.driver().ioasId();
        int faultId = vmm.driver().faultId();
        List<Integer> before = ctx.objectIds();

        assertThat(errno(() -> ctx.faultQueueAlloc(1))).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(errno(() -> ctx.hwptAlloc(devId, ioas, Iommufd.HWPT_FAULT_ID_VALID | Iommufd.HWPT_ALLOC_NEST_PARENT,
                faultId, null))).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(errno(() -> ctx.hwptAlloc(devId, ioas, Iommufd.HWPT_FAULT_ID_VALID, ioas, null)))
                .as("fault_id names the IOAS").isEqualTo(Errno.ENOENT);
        assertThat(errno(() -> ctx.hwptAlloc(devId, ioas, 1 << 9, 0, null))).isEqualTo(Errno.EOPNOTSUPP);
        assertThat(ctx.objectIds()).isEqualTo(before);
    }

    /** iommufd_object_remove(): objects in use are EBUSY — an attached fault-capable HWPT, a fault object held. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 33: reference pinning (EBUSY)")
    void destroy_attachedHwptAndHeldFaultObject_ebusyUntilReleased(String model) throws Exception {
        run(model, """
                - vfio-bind: { device: acc0, process: vmm }
                - vfio-attach: { device: acc0 }
                """);
        VfioProcess vmm = process("vmm");
        Device acc0 = machine().device("acc0");
        Iommufd ctx = vmm.iommufd();
        int hwpt = vmm.hwpt(acc0, IommuCore.IOMMU_NO_PASID);
        int faultId = vmm.driver().faultId();

        assertThat(errno(() -> ctx.destroy(hwpt))).as("attached HWPT").isEqualTo(Errno.EBUSY);
        assertThat(errno(() -> ctx.destroy(faultId))).as("fault object of a HWPT").isEqualTo(Errno.EBUSY);
        vmm.detach(acc0, IommuCore.IOMMU_NO_PASID);
        assertThat(ctx.objectIds()).doesNotContain(hwpt);
        assertThat(errno(() -> ctx.destroy(faultId))).as("fault object with an open file").isEqualTo(Errno.EBUSY);
        vmm.closeFaultFile();
        ctx.destroy(faultId);
        assertThat(ctx.objectIds()).doesNotContain(faultId);
    }

    /**
     * iommufd_fault_fops_read(): a group of a partial and its LPIG (two pages, grpid 2) delivered at acc1's RID is
     * read as 80 bytes — two records, one cookie (the first, 1), the iommufd dev_id, LAST_PAGE on the second only,
     * no PASID_VALID, {@code __reserved} and {@code length} 0.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 34: record layout")
    void read_groupOfTwoAtRid_eightyBytesTwoRecordsOneCookie(String model) throws Exception {
        RunResult r = run(model, """
                - vfio-bind: { device: acc0, process: raw }
                - vfio-bind: { device: acc1, process: raw }
                - vfio-attach: { device: acc1 }
                - page-request: { device: acc1, grpid: 2, addr: 0x40000, access: write, last: true, pages: 2 }
                - run: idle
                """);
        int devId = process("raw").devId(machine().device("acc1"));

        byte[] bytes = process("raw").driver().faultFile().read(80, 0);

        assertThat(devId).as("ids from 1: acc0, the IOAS, the fault object, acc1").isEqualTo(4);
        assertThat(bytes).hasSize(80);
        assertThat(fields(bytes, 0)).containsExactly(record(0, devId, 0, 2, PgFaultRecord.PERM_WRITE, 0x40000, 1));
        assertThat(fields(bytes, 1)).containsExactly(record(IommufdFault.FLAGS_LAST_PAGE, devId, 0, 2,
                PgFaultRecord.PERM_WRITE, 0x41000, 1));
        assertThat(r.pageResponses()).isEmpty();
    }

    /**
     * iommufd_fault_fops_read(): a group never splits (40 bytes → 0); a size not a multiple of 40, or a position, is
     * ESPIPE.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 35: no group splitting, ESPIPE")
    void read_bufferForOneRecordOfTwo_zeroAndGroupStaysQueued(String model) throws Exception {
        RunResult r = run(model, "", """
                - vfio-bind: { device: acc1, process: raw }
                - vfio-attach: { device: acc1 }
                - page-request: { device: acc1, grpid: 2, addr: 0x40000, access: write, last: true, pages: 2 }
                - fault-read: { process: raw, bytes: 40 }
                - fault-read: { process: raw, bytes: 41 }
                """, """
                - step-error: { step: fault-read, errno: ESPIPE, count: 1 }
                - fault-queue: { process: raw, unread: 1, unanswered: 0 }
                - fault-read: { process: raw, records: 0 }
                """);
        IommufdFault file = process("raw").driver().faultFile();

        assertThat(r.passed()).as(r.expectations().toString()).isTrue();
        assertThat(r.stepErrors()).extracting(RunResult.StepErrorEntry::step, RunResult.StepErrorEntry::errno)
                .containsExactly(tuple("fault-read", "ESPIPE"));
        assertThat(errno(() -> file.read(80, 8))).as("pread at an offset").isEqualTo(Errno.ESPIPE);
        assertThat(file.undelivered()).isEqualTo(1);
    }

    /**
     * iommufd_fault_fops_write(): FAILURE (2) is not a uapi code — EINVAL, the group stays owed; an unknown cookie
     * is EINVAL; SUCCESS answers once (one PRG response, origin iommufd); the same cookie again is EINVAL.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 36: response validation")
    void write_failureCodeUnknownCookieAndRepeat_einvalAndOneSuccess(String model) throws Exception {
        RunResult r = run(model, "", """
                - vfio-bind: { device: acc1, process: raw }
                - vfio-attach: { device: acc1 }
                - page-request: { device: acc1, grpid: 6, addr: 0x40000, access: read, last: true }
                - fault-read: { process: raw, bytes: 1280 }
                - fault-write: { process: raw, cookie: last-read, code: 2 }
                - fault-write: { process: raw, cookie: 999, code: SUCCESS }
                - fault-write: { process: raw, cookie: last-read, code: SUCCESS }
                - fault-write: { process: raw, cookie: 1, code: SUCCESS }
                """, """
                - step-error: { step: fault-write, errno: EINVAL, count: 3 }
                - fault-queue: { process: raw, unanswered: 1, after-step: 6 }
                """);

        assertThat(r.passed()).as(r.expectations().toString()).isTrue();
        assertThat(responses(r)).containsExactly(tuple("acc1", null, 6, "SUCCESS", "iommufd"));
        assertThat(r.userspace().get(0).responsesWritten()).extracting(RunResult.PageResponseWritten::cookie,
                RunResult.PageResponseWritten::code, RunResult.PageResponseWritten::accepted,
                RunResult.PageResponseWritten::error).containsExactly(tuple(1L, 2L, false, "EINVAL"),
                tuple(999L, 0L, false, "EINVAL"), tuple(1L, 0L, true, null), tuple(1L, 0L, false, "EINVAL"));
        assertThat(errno(() -> process("raw").driver().faultFile().write(new byte[12], 0))).isEqualTo(Errno.ESPIPE);
    }

    /** iommufd_fault_fops_write(): answers are taken in order up to the first bad one, whose error is not returned. */
    @Test
    @DisplayName("linux-fault-stack §8 item 37: batch write stops at the first bad answer")
    void write_batchWithBadCookieInTheMiddle_eightBytesOnlyFirstAnswered() throws Exception {
        run("vtd", """
                - vfio-bind: { device: acc1, process: raw }
                - vfio-attach: { device: acc1 }
                - page-request: { device: acc1, grpid: 1, addr: 0x40000, access: read, last: true }
                - page-request: { device: acc1, grpid: 2, addr: 0x41000, access: read, last: true }
                - fault-read: { process: raw, bytes: 80 }
                """);
        IommufdFault file = process("raw").driver().faultFile();
        List<Tuple> answers = answersFromNowOn();

        int consumed = file.write(PgFaultRecord.encodeResponses(new int[][] {{1, 0}, {77, 0}, {2, 1}}), 0);
        machine().loop().runUntilIdle();

        assertThat(consumed).isEqualTo(8);
        assertThat(answers).containsExactly(tuple("acc1", null, 1, "SUCCESS", "iommufd"));
        assertThat(file.awaitingResponse()).as("cookie 2 still owed").isEqualTo(1);
    }

    /** The response xarray hands out the lowest free index: after cookie 1 is answered, the next group gets 1 again. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 38: cookie reuse")
    void read_afterFirstGroupAnswered_cookieOneAgain(String model) throws Exception {
        RunResult r = run(model, """
                - vfio-bind: { device: acc1, process: raw }
                - vfio-attach: { device: acc1 }
                - page-request: { device: acc1, grpid: 1, addr: 0x40000, access: read, last: true }
                - fault-read: { process: raw, bytes: 40 }
                - fault-write: { process: raw, cookie: last-read, code: SUCCESS }
                - page-request: { device: acc1, grpid: 2, addr: 0x41000, access: read, last: true }
                - fault-read: { process: raw, bytes: 40 }
                - fault-write: { process: raw, cookie: last-read, code: INVALID }
                - run: idle
                """);

        assertThat(r.userspace().get(0).recordsRead()).extracting(RunResult.PgFaultEntry::read,
                RunResult.PgFaultEntry::grpid, RunResult.PgFaultEntry::cookie).containsExactly(tuple(1, 1, 1L),
                tuple(2, 2, 1L));
        assertThat(responses(r)).extracting(t -> t.toList().get(2), t -> t.toList().get(3))
                .containsExactly(tuple(1, "SUCCESS"), tuple(2, "INVALID"));
    }

    /** iommufd_eventq_fops_poll(): always writable; readable only while a group waits to be read. */
    @Test
    @DisplayName("linux-fault-stack §8 item 39: poll")
    void poll_emptyThenDelivered_writableThenReadable() throws Exception {
        run("vtd", """
                - vfio-bind: { device: acc1, process: raw }
                - vfio-attach: { device: acc1 }
                """);
        IommufdFault file = process("raw").driver().faultFile();
        int empty = file.poll();

        PcieEndpoint acc1 = machine().endpoint("acc1");
        acc1.sendPageRequest(new PageRequestMessage(acc1.rid(), false, 0, false, false, true, false, true, 3, 0x40000),
                null);
        machine().loop().runUntilIdle();

        assertThat(empty).isEqualTo(IommufdFault.POLLOUT);
        assertThat(file.poll()).isEqualTo(IommufdFault.POLLOUT | IommufdFault.POLLIN | IommufdFault.POLLRDNORM);
    }

    /**
     * iommufd_hwpt_detach_device() with one group read but unanswered and one unread on acc0's RID, while acc0's
     * PASID 5 attachment keeps IOPF on: iommufd_auto_response_faults() answers each INVALID exactly once; acc1's
     * group on the same fault object stays queued, owed at the end of the run.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 40: detach auto-response (IOPF stays on)")
    void detach_readAndUnreadGroups_eachInvalidOnceByAutoResponseOtherDeviceKept(String model) throws Exception {
        RunResult r = run(model, "", """
                - vfio-bind: { device: acc0, process: raw }
                - vfio-bind: { device: acc1, process: raw }
                - vfio-attach: { device: acc0 }
                - vfio-attach: { device: acc0, pasid: 5 }
                - vfio-attach: { device: acc1 }
                - page-request: { device: acc0, grpid: 1, addr: 0x40000, access: read, last: true }
                - fault-read: { process: raw, bytes: 40 }
                - page-request: { device: acc0, grpid: 2, addr: 0x41000, access: write, last: true }
                - page-request: { device: acc1, grpid: 3, addr: 0x42000, access: read, last: true }
                - vfio-detach: { device: acc0 }
                - run: idle
                """, """
                - fault-queue: { process: raw, unread: 2, unanswered: 1, after-step: 9 }
                - fault-queue: { process: raw, unread: 1, unanswered: 0 }
                """);

        assertThat(r.passed()).as(r.expectations() + " " + r.invariants()).isTrue();
        assertThat(responses(r)).containsExactlyInAnyOrder(tuple("acc0", null, 1, "INVALID", "auto-response"),
                tuple("acc0", null, 2, "INVALID", "auto-response"));
        assertThat(r.invariants().get(0).detail()).contains("owed at end: 1", "acc1 PASID - grpid 3");
        List<PgFaultRecord> left = process("raw").read(40);
        assertThat(left).extracting(PgFaultRecord::devId, PgFaultRecord::grpid, PgFaultRecord::cookie)
                .containsExactly(tuple(process("raw").devId(machine().device("acc1")), 3, 1));
    }

    /**
     * The same detach when it is acc0's last fault-capable attachment: the driver drops IOPF first and
     * iopf_queue_remove_device() answers both groups (origin remove-device); iommufd_auto_response_faults() then
     * finds nothing — still exactly once each.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 40: detach of the last fault-capable attachment")
    void detach_lastFaultCapableAttachment_eachInvalidOnceByRemoveDevice(String model) throws Exception {
        RunResult r = run(model, """
                - vfio-bind: { device: acc0, process: raw }
                - vfio-attach: { device: acc0 }
                - page-request: { device: acc0, grpid: 1, addr: 0x40000, access: read, last: true }
                - fault-read: { process: raw, bytes: 40 }
                - page-request: { device: acc0, grpid: 2, addr: 0x41000, access: write, last: true }
                - vfio-detach: { device: acc0 }
                - run: idle
                """);

        assertThat(responses(r)).containsExactlyInAnyOrder(tuple("acc0", null, 1, "INVALID", "remove-device"),
                tuple("acc0", null, 2, "INVALID", "remove-device"));
        assertThat(process("raw").unread() + process("raw").unanswered()).isZero();
    }

    /**
     * iommufd_hwpt_replace_device() by a HWPT without a fault object, IOPF kept on by PASID 5: the intended code
     * answers the old attachment's read group INVALID once at the replace.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 41: replace auto-response (intended)")
    void replace_intended_oldGroupInvalidOnceAtTheReplace(String model) throws Exception {
        RunResult r = run(model, "vfio.replace-auto-response: intended", replaceSteps(), """
                - page-response: { device: acc0, code: INVALID, origin: auto-response, grpid: 4, count: 1 }
                - fault-queue: { process: raw, unread: 0, unanswered: 0, after-step: 6 }
                """);

        assertThat(r.passed()).as(r.expectations() + " " + r.invariants()).isTrue();
        assertThat(responses(r)).containsExactly(tuple("acc0", null, 4, "INVALID", "auto-response"));
        assertThat(r.userspace().get(0).recordsRead()).singleElement().satisfies(x -> assertThat(x.cookie())
                .isEqualTo(1));
    }

    /**
     * The 2025 defect (§5.5): replace passes the new HWPT, which has no fault object, so the old group is missed and
     * stays in the fault object; close(fault_fd) answers nothing; the process's iommufd close answers it exactly once
     * — unbinding acc0 detaches PASID 5, its last fault-capable attachment, so iopf_queue_remove_device() does.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 items 41 (legacy-2025) and 42: missed by replace, answered once at close")
    void replace_legacy2025_groupMissedThenAnsweredOnceAtClose(String model) throws Exception {
        RunResult r = run(model, "vfio.replace-auto-response: legacy-2025", replaceSteps() + """
                - fault-close: { process: raw }
                - run: idle
                - iommufd-close: { process: raw }
                - run: idle
                """, """
                - fault-queue: { process: raw, unanswered: 1, after-step: 6 }
                - fault-queue: { process: raw, unanswered: 1, after-step: 9 }
                - page-response: { device: acc0, code: INVALID, grpid: 4, count: 1 }
                """);

        assertThat(r.passed()).as(r.expectations() + " " + r.invariants()).isTrue();
        assertThat(responses(r)).containsExactly(tuple("acc0", null, 4, "INVALID", "remove-device"));
        assertThat(process("raw").iommufd().objectIds()).isEmpty();
    }

    /** Without the close, the legacy-missed group is owed when the run ends: not a violation, but visible. */
    @Test
    @DisplayName("linux-fault-stack §8 item 41 (legacy-2025): the missed group is owed at the end")
    void replace_legacy2025RunEnds_groupOwedAtEndAndInvariantHolds() throws Exception {
        RunResult r = run("vtd", "vfio.replace-auto-response: legacy-2025", replaceSteps(), "");

        assertThat(r.pageResponses()).isEmpty();
        assertThat(r.invariants().get(0)).satisfies(i -> {
            assertThat(i.holds()).isTrue();
            assertThat(i.detail()).isEqualTo("owed at end: 1 group(s) still queued in iommufd: acc0 PASID - grpid 4"
                    + " (held by raw's fault object)");
        });
        assertThat(r.userspace().get(0).unanswered()).isEqualTo(1);
    }

    private static String replaceSteps() {
        return """
                - vfio-bind: { device: acc0, process: raw }
                - vfio-attach: { device: acc0 }
                - vfio-attach: { device: acc0, pasid: 5 }
                - page-request: { device: acc0, grpid: 4, addr: 0x40000, access: read, last: true }
                - fault-read: { process: raw, bytes: 40 }
                - vfio-replace: { device: acc0, fault: false }
                - run: idle
                """;
    }

    /**
     * iommufd_fault_destroy(), the safety net: in legacy mode a replace by a HWPT of a second fault object F2 misses
     * the group held by F1 while IOPF stays on (F2's HWPT is fault-capable); when F1 goes — its HWPT destroyed, its
     * file closed, IOMMU_DESTROY — the group is answered INVALID exactly once (origin auto-response).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 42: fault object destroy answers what it holds, once")
    void destroy_faultObjectHoldingMissedGroup_invalidOnceByAutoResponse(String model) throws Exception {
        run(model, "vfio.replace-auto-response: legacy-2025", """
                - vfio-bind: { device: acc0, process: raw }
                - vfio-attach: { device: acc0 }
                - page-request: { device: acc0, grpid: 4, addr: 0x40000, access: read, last: true }
                - fault-read: { process: raw, bytes: 40 }
                """, "");
        VfioProcess raw = process("raw");
        Iommufd ctx = raw.iommufd();
        Device acc0 = machine().device("acc0");
        int devId = raw.devId(acc0);
        int h1 = raw.hwpt(acc0, IommuCore.IOMMU_NO_PASID);
        Iommufd.FaultAlloc f2 = ctx.faultQueueAlloc(0);
        int h2 = ctx.hwptAlloc(devId, raw.driver().ioasId(), Iommufd.HWPT_FAULT_ID_VALID, f2.faultId(), null);
        List<Tuple> answers = answersFromNowOn();

        ctx.replace(devId, IommuCore.IOMMU_NO_PASID, h2);
        ctx.destroy(h1);
        raw.closeFaultFile();
        machine().loop().runUntilIdle();
        List<Tuple> beforeDestroy = List.copyOf(answers);
        ctx.destroy(raw.driver().faultId());
        machine().loop().runUntilIdle();

        assertThat(beforeDestroy).isEmpty();
        assertThat(answers).containsExactly(tuple("acc0", null, 4, "INVALID", "auto-response"));
        assertThat(machine().iopf().queueOf(acc0)).as("F2's HWPT keeps IOPF on").isNotNull();
    }

    /**
     * iommufd_hwpt_attach_device(): a fault-capable HWPT cannot go to a PCI VF with PRI (its PRI interface is shared
     * with the PF).
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 43: VF with PRI refuses a fault-capable HWPT")
    void attach_faultCapableHwptToVfWithPri_einvalPlainHwptAttaches(String model) throws Exception {
        RunResult r = run(model, "", """
                - vfio-bind: { device: vf0, process: vmm }
                - vfio-attach: { device: vf0 }
                - vfio-attach: { device: vf0, fault: false }
                """, """
                - step-error: { step: vfio-attach, errno: EINVAL, count: 1 }
                """);

        assertThat(r.passed()).as(r.stepErrors().toString()).isTrue();
        assertThat(r.stepErrors()).singleElement().satisfies(e -> assertThat(e.error())
                .startsWith("EINVAL (dev_id)").contains("VF with PRI"));
        Device vf0 = machine().device("vf0");
        assertThat(vf0.virtfn()).isTrue();
        assertThat(process("vmm").hwpt(vf0, IommuCore.IOMMU_NO_PASID)).isPositive();
        assertThat(machine().iopf().queueOf(vf0)).isNull();
    }

    /**
     * Selftest {@code pasid_attach}: a fault-capable IOMMU_HWPT_ALLOC_PASID HWPT at PASID 2048; a page request there
     * is read as a record with pasid 2048 and PASID_VALID|LAST_PAGE (with the kernel's NEEDS_PASID bit, passed
     * verbatim), and a SUCCESS write answers it once at that PASID. A HWPT without ALLOC_PASID cannot go there.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 44: PASID attach + fault at PASID 2048")
    void pasidAttach_faultAtPasid2048_recordBytesAndSuccess(String model) throws Exception {
        run(model, """
                - vfio-bind: { device: acc1, process: raw }
                - vfio-attach: { device: acc1, pasid: 2048 }
                - page-request: { device: acc1, pasid: 2048, grpid: 5, addr: 0x20000, access: read, last: true }
                - run: idle
                """);
        VfioProcess raw = process("raw");
        int devId = raw.devId(machine().device("acc1"));
        byte[] bytes = raw.driver().faultFile().read(40, 0);
        List<Tuple> answers = answersFromNowOn();

        int consumed = raw.write(fields(bytes, 0)[9], IommufdFault.RESP_SUCCESS);
        machine().loop().runUntilIdle();

        assertThat(fields(bytes, 0)).containsExactly(record(PASID_LAST_NEEDS_PASID, devId, 2048, 5,
                PgFaultRecord.PERM_READ, 0x20000, 1));
        assertThat(consumed).isEqualTo(8);
        assertThat(answers).containsExactly(tuple("acc1", 2048, 5, "SUCCESS", "iommufd"));
        int plain = raw.iommufd().hwptAlloc(devId, raw.driver().ioasId(), 0, 0, null);
        assertThat(errno(() -> raw.iommufd().attach(devId, 2049, plain))).isEqualTo(Errno.EINVAL);
    }

    /**
     * A DMA round trip at PASID 2048 through the client: each page the device faults on is read, resolved by
     * mapping that page of the on-fault buffer into the IOAS, and answered SUCCESS; the device retries, the DMA
     * completes and its bytes are in the process's memory behind the IOVA.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 44: DMA round trip at PASID 2048 through the user-space driver")
    void dma_atPasid2048ResolveAndSucceed_completesIntoProcessMemory(String model) throws Exception {
        RunResult r = run(model, """
                - vfio-bind: { device: acc0, process: vmm }
                - ioas-map: { process: vmm, iova: 0x100000, addr: 0x7f0000004000, size: 16KiB, prot: rw,
                              on-fault: true }
                - vfio-attach: { device: acc0, pasid: 2048 }
                - dma: { device: acc0, pasid: 2048, addr: 0x101000, size: 8KiB, access: write }
                - run: idle
                """);

        assertThat(r.dma()).singleElement().satisfies(d -> {
            assertThat(d.status()).isEqualTo("ok");
            assertThat(d.pasid()).isEqualTo(2048);
            assertThat(d.memoryMatches()).isTrue();
        });
        assertThat(responses(r)).containsExactly(tuple("acc0", 2048, 0, "SUCCESS", "iommufd"),
                tuple("acc0", 2048, 1, "SUCCESS", "iommufd"));
        assertThat(r.userspace().get(0).recordsRead()).extracting(RunResult.PgFaultEntry::flags,
                RunResult.PgFaultEntry::pasid, RunResult.PgFaultEntry::addr, RunResult.PgFaultEntry::perm,
                RunResult.PgFaultEntry::reserved, RunResult.PgFaultEntry::length, RunResult.PgFaultEntry::cookie)
                .containsExactly(tuple(PASID_LAST_NEEDS_PASID, 2048, "0x101000", PgFaultRecord.PERM_WRITE, 0, 0, 1L),
                        tuple(PASID_LAST_NEEDS_PASID, 2048, "0x102000", PgFaultRecord.PERM_WRITE, 0, 0, 1L));
        assertThat(r.userspace().get(0).client()).isEqualTo(new RunResult.ClientStats(2, 2, 0, 0, 0));
        assertThat(r.invariants()).filteredOn(i -> i.name().equals("dma-within-mappings")).singleElement()
                .satisfies(i -> assertThat(i.detail()).startsWith("2 access(es) with a PASID judged"));
    }
}
