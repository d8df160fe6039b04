package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.kernel.Errno;
import dev.iommulab.core.kernel.KernelException;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.vtd.VtdEntries;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.scenario.ScenarioLoader;
import dev.iommulab.sva.SvaHandle;
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
 * linux-fault-stack.md §8 items 1-3 and 5-7 (the SVA fault path) and 26-28 (the bind lifecycle), run through the
 * whole stack on VT-d and on the RISC-V IOMMU: the endpoint sends real Page Requests, the IOMMU queues them, the
 * driver reports them to io-pgfault and {@code iommu_sva_handle_iopf()} resolves them against the process.
 */
class SvaSection8Test {

    private static final String VMAS = """
              - name: app
                vmas:
                  - { start: 0x7f0000000000, size: 64KiB, prot: rw }
                  - { start: 0x7f0000100000, size: 16KiB, prot: r }
              - name: other
                vmas:
                  - { start: 0x7f0000000000, size: 64KiB, prot: rw }
              - name: third
                vmas:
                  - { start: 0x7f0000000000, size: 64KiB, prot: rw }
            """;

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    /** Runs a machine of model {@code model} with devices acc0 (20 PASID bits) and acc1 and the given steps. */
    private RunResult run(String model, String steps) throws Exception {
        return run(model, 20, steps);
    }

    private RunResult run(String model, int acc1PasidBits, String steps) throws Exception {
        String text = """
                name: sva-section8
                seed: 5
                hardware:
                  model: %s
                devices:
                  - { name: acc0, bdf: "00:03.0", profile: accelerator, ats: true, pri: true, pasid-bits: 20 }
                  - { name: acc1, bdf: "00:04.0", profile: accelerator, ats: true, pri: true, pasid-bits: %d }
                processes:
                %ssteps:
                %s
                """.formatted(model, acc1PasidBits, VMAS, steps.indent(2));
        return runner.run(new ScenarioLoader().load(ScenarioFiles.write(dir, "s.yaml", text)));
    }

    private static List<Tuple> responses(RunResult r) {
        return r.pageResponses().stream().map(p -> tuple(p.device(), p.pasid(), p.grpid(), p.code(), p.origin()))
                .toList();
    }

    private Machine machine() {
        return runner.machine();
    }

    /** iommu_report_device_fault() → iommu_sva_handle_iopf(): one LPIG for mapped memory is answered SUCCESS. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 1: a single LPIG for an RW VMA gets one SUCCESS")
    void pageRequest_singleLpigInRwVma_oneSuccessAndParamUsersBackToOne(String model) throws Exception {
        RunResult r = run(model, """
                - sva-bind: { device: acc0, process: app }
                - page-request: { device: acc0, process: app, grpid: 3, addr: 0x7f0000003000, access: read, last: true }
                - run: idle
                """);

        assertThat(responses(r)).containsExactly(tuple("acc0", 1, 3, "SUCCESS", "sva"));
        assertThat(machine().process("app").handledFaults()).isEqualTo(1);
        assertThat(machine().iopf().faultParamUsers(machine().device("acc0"))).isEqualTo(1);
    }

    /** iommu_sva_handle_mm(): no VMA covers the address, so the group is answered INVALID. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 2: an address in no VMA gets INVALID")
    void pageRequest_addressInNoVma_invalid(String model) throws Exception {
        RunResult r = run(model, """
                - sva-bind: { device: acc0, process: app }
                - page-request: { device: acc0, process: app, grpid: 3, addr: 0x7f0000200000, access: read, last: true }
                - run: idle
                """);

        assertThat(responses(r)).containsExactly(tuple("acc0", 1, 3, "INVALID", "sva"));
        assertThat(machine().process("app").handledFaults()).isZero();
    }

    /** iommu_sva_handle_mm(): the access check against the VMA fails before handle_mm_fault() is tried. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 3: a write to a read-only VMA gets INVALID, no mm fault")
    void pageRequest_writeToReadOnlyVma_invalidWithoutMmFault(String model) throws Exception {
        RunResult r = run(model, """
                - sva-bind: { device: acc0, process: app }
                - page-request: { device: acc0, process: app, grpid: 4, addr: 0x7f0000101000, access: write, last: true }
                - run: idle
                """);

        assertThat(responses(r)).containsExactly(tuple("acc0", 1, 4, "INVALID", "sva"));
        assertThat(machine().process("app").handledFaults()).isZero();
    }

    /** iommu_sva_handle_mm(): handle_mm_fault() on a VMA backed by nothing returns VM_FAULT_SIGBUS, an error: INVALID. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 4: handle_mm_fault() failing (SIGBUS) gets INVALID")
    void pageRequest_vmaBackedByNothing_invalidAfterMmFault(String model) throws Exception {
        RunResult r = run(model, """
                - mmap: { process: app, start: 0x7f0000400000, size: 8KiB, prot: rw, backing: none }
                - sva-bind: { device: acc0, process: app }
                - page-request: { device: acc0, process: app, grpid: 5, addr: 0x7f0000401000, access: read, last: true }
                - run: idle
                """);

        assertThat(responses(r)).containsExactly(tuple("acc0", 1, 5, "INVALID", "sva"));
        assertThat(machine().process("app").handledFaults()).as("handle_mm_fault was called").isEqualTo(1);
        assertThat(r.journey()).extracting(s -> s.message()).anyMatch(m -> m.contains("handle_mm_fault returned 0x"));
    }

    /**
     * iommu_sva_handle_mm(): mmget_not_zero() fails for a process that exited after its request reached the IOMMU's
     * queue, so the group is answered INVALID by software. (A request that arrives after the exit is a different
     * story on VT-d: the FPD entry makes the unit answer it, §8 item 30.)
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 5: a request of a process that exited meanwhile gets INVALID")
    void pageRequest_processExitsWhileRequestQueued_invalidFromSva(String model) throws Exception {
        run(model, """
                - sva-bind: { device: acc0, process: app }
                """);
        Machine m = machine();
        Device acc0 = m.device("acc0");
        List<PrgResponse> seen = new ArrayList<>();
        m.endpoint("acc0").addPrgResponseListener(seen::add);
        MmStruct app = m.process("app");
        int pasid = m.sva().mmPasid(app);
        m.endpoint("acc0").sendPageRequest(new PageRequestMessage(m.endpoint("acc0").rid(), true, pasid, false, false,
                true, false, true, 6, 0x7f0000004000L), null);
        m.loop().runUntil(() -> m.iopf().faultParamUsers(acc0) == 2); // the group is with the SVA handler
        app.mmput(); // exit_mm(): the last user goes while the group waits for its worker
        m.loop().runUntilIdle();

        assertThat(seen).singleElement().satisfies(p -> {
            assertThat(p.prgi()).isEqualTo(6);
            assertThat(p.code().name()).isEqualTo("INVALID_REQUEST");
        });
        assertThat(app.handledFaults()).isZero();
        assertThat(m.iopf().faultParamUsers(acc0)).isEqualTo(1);
    }

    /**
     * report_partial_fault() parks P1 and P2; the LPIG's iopf_group_alloc() takes them; one response for grpid 7. The
     * requests arrive out of address order, so the handler's order shows the group kept arrival order; the pages are
     * checked as writable leaves and then written by the device (seeded random bytes) without another fault.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 6: two partials then the LPIG make one group, one response")
    void pageRequest_partialsThenLpig_oneGroupOneResponse(String model) throws Exception {
        RunResult r = run(model, """
                - sva-bind: { device: acc0, process: app }
                - page-request: { device: acc0, process: app, grpid: 7, addr: 0x7f0000001000, access: write, last: false }
                - page-request: { device: acc0, process: app, grpid: 7, addr: 0x7f0000000000, access: write, last: false }
                - run: idle
                - page-request: { device: acc0, process: app, grpid: 7, addr: 0x7f0000002000, access: write, last: true }
                - run: idle
                - dma: { device: acc0, process: app, addr: 0x7f0000000000, size: 12KiB, access: write }
                - run: idle
                """);

        assertThat(responses(r)).containsExactly(tuple("acc0", 1, 7, "SUCCESS", "sva"));
        assertThat(r.journey()).filteredOn(s -> s.symbol().equals("iopf_group_alloc"))
                .extracting(s -> s.message()).containsExactly("group grpid 7 with 3 fault(s) -> SVA domain handler");
        // the handler got [P1, P2, L] in arrival order (not address order) and faulted each page in for write
        assertThat(r.journey()).filteredOn(s -> s.symbol().equals("iommu_sva_handle_mm"))
                .extracting(s -> s.message()).containsExactly(
                        "PASID 1 0x7f0000001000 -w-: handle_mm_fault mapped the page -> SUCCESS",
                        "PASID 1 0x7f0000000000 -w-: handle_mm_fault mapped the page -> SUCCESS",
                        "PASID 1 0x7f0000002000 -w-: handle_mm_fault mapped the page -> SUCCESS");
        MmStruct app = machine().process("app");
        for (long va = 0x7f0000000000L; va < 0x7f0000003000L; va += 4096) {
            assertThat(app.pteOf(va)).as("PTE of %#x", va).satisfies(pte -> {
                assertThat(pte.present()).isTrue();
                assertThat(pte.writable()).as("a private writable page, not the zero page").isTrue();
            });
        }
        // the device's write then lands in those pages with no further fault: the bytes it wrote are the process's
        assertThat(r.dma()).singleElement().satisfies(d -> {
            assertThat(d.status()).isEqualTo("ok");
            assertThat(d.memoryMatches()).isTrue();
        });
        assertThat(app.handledFaults()).isEqualTo(3);
        assertThat(app.read(0x7f0000000000L, 3 * 4096)).as("the DMA's seeded random bytes")
                .isNotEqualTo(new byte[3 * 4096]);
        assertThat(machine().iopf().partials(machine().device("acc0"))).isEmpty();
    }

    /** iommu_sva_handle_iopf(): the first fault that fails decides; the rest of the group is not processed. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 7: an unmapped first page makes the group INVALID, the rest untouched")
    void pageRequest_firstPageUnmapped_invalidAndLaterPagesNotFaulted(String model) throws Exception {
        RunResult r = run(model, """
                - sva-bind: { device: acc0, process: app }
                - page-request: { device: acc0, process: app, grpid: 8, addr: 0x7f0000200000, access: read, last: false }
                - page-request: { device: acc0, process: app, grpid: 8, addr: 0x7f0000001000, access: read, last: false }
                - run: idle
                - page-request: { device: acc0, process: app, grpid: 8, addr: 0x7f0000002000, access: read, last: true }
                - run: idle
                """);

        assertThat(responses(r)).containsExactly(tuple("acc0", 1, 8, "INVALID", "sva"));
        assertThat(machine().process("app").handledFaults()).isZero();
    }

    /**
     * iommu_sva_bind_device() / iommu_sva_unbind_device(): a nested bind returns the same handle and counts it; the
     * first unbind leaves the PASID attached (requests are still served), the second detaches; the mm keeps its
     * PASID and a later bind gets it again.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 26: nested binds are counted, the mm keeps its PASID")
    void bindDevice_twice_sameHandleCountedAndPasidKept(String model) throws Exception {
        run(model, "- run: idle\n");
        Machine m = machine();
        Device acc0 = m.device("acc0");
        MmStruct app = m.process("app");
        List<PrgResponse> seen = new ArrayList<>();
        m.endpoint("acc0").addPrgResponseListener(seen::add);

        SvaHandle first = m.sva().bindDevice(acc0, app);
        SvaHandle second = m.sva().bindDevice(acc0, app);
        assertThat(second).isSameAs(first);
        assertThat(first.users()).isEqualTo(2);
        int pasid = first.pasid();

        m.sva().unbindDevice(first);
        assertThat(first.users()).isEqualTo(1);
        assertThat(domainAt(acc0, pasid).mm()).isSameAs(app);
        sendLpig(m, "acc0", pasid, 9, 0x7f0000005000L);
        assertThat(seen).extracting(p -> p.code().name()).containsExactly("SUCCESS");

        m.sva().unbindDevice(first);
        assertThat(first.users()).isZero();
        assertThat(domainAt(acc0, pasid)).isNull();
        assertThat(m.sva().mmPasid(app)).isEqualTo(pasid);

        SvaHandle again = m.sva().bindDevice(acc0, app);
        assertThat(again).isNotSameAs(first);
        assertThat(again.pasid()).isEqualTo(pasid);
    }

    /** iommu_sva_bind_device(): the PASID belongs to the mm; a second device reuses the mm's SVA domain. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 27: two devices share the mm's PASID and SVA domain")
    void bindDevice_twoDevicesSameMm_samePasidAndDomainUsersTwo(String model) throws Exception {
        run(model, """
                - sva-bind: { device: acc0, process: other }
                - sva-bind: { device: acc0, process: app }
                - sva-bind: { device: acc1, process: app }
                - page-request: { device: acc1, process: app, grpid: 2, addr: 0x7f0000006000, access: write, last: true }
                - run: idle
                """);
        Machine m = machine();
        int pasid = m.sva().mmPasid(m.process("app"));
        IommuDomain d0 = domainAt(m.device("acc0"), pasid);
        IommuDomain d1 = domainAt(m.device("acc1"), pasid);

        assertThat(pasid).isEqualTo(2);
        assertThat(d1).isSameAs(d0);
        assertThat(d0.users()).isEqualTo(2);
    }

    /**
     * iommu_sva_bind_device() → iommu_alloc_mm_data(): an mm whose PASID is beyond the device's range gets
     * EOVERFLOW; a new mm when the device's range is used up, or on a device without PASIDs, gets ENOSPC
     * (iommu_alloc_global_pasid()). Nothing changes on failure.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 28: EOVERFLOW for a PASID beyond the device, ENOSPC when none is left")
    void bindDevice_pasidOutOfDeviceRange_eoverflowThenEnospc(String model) throws Exception {
        // acc1 has 1 PASID bit: max_pasids 2, so only PASID 1 is in its range
        RunResult r = run(model, 1, """
                - sva-bind: { device: acc0, process: other }
                - sva-bind: { device: acc0, process: app }
                - sva-bind: { device: acc1, process: app }
                """);

        assertThat(r.stepErrors()).singleElement().satisfies(e -> assertThat(e.error()).contains("EOVERFLOW"));
        Machine m = machine();
        assertThat(m.sva().mmPasid(m.process("app"))).isEqualTo(2);
        assertThat(domainAt(m.device("acc1"), 2)).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 28: ENOSPC when the device's PASID range is used up")
    void bindDevice_deviceRangeUsedUp_enospcAndMmGetsNoPasid(String model) throws Exception {
        RunResult r = run(model, 1, """
                - sva-bind: { device: acc1, process: other }
                - sva-bind: { device: acc1, process: app }
                """);

        assertThat(r.stepErrors()).singleElement().satisfies(e -> assertThat(e.error()).contains("ENOSPC"));
        assertThat(machine().sva().mmPasid(machine().process("other"))).isEqualTo(1);
        assertThat(machine().sva().mmPasid(machine().process("app"))).isEqualTo(IommuCore.IOMMU_PASID_INVALID);
    }

    /** The domain attached at {@code pasid} of {@code dev}, or null (iommu_attach_handle_get() says ENOENT). */
    private IommuDomain domainAt(Device dev, int pasid) {
        try {
            return machine().core().attachHandleGet(dev.group(), pasid, null).domain();
        } catch (KernelException e) {
            assertThat(e.errno()).isEqualTo(Errno.ENOENT);
            return null;
        }
    }

    /**
     * iommu_sva_unbind_device() and mm_pasid_drop(): after every unbind the mm keeps its PASID (a new mm gets another
     * one); only when the process has exited and its last SVA domain is freed (__mmdrop()) does the PASID go back to
     * the global allocator, so the next new mm gets it.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 29: the PASID lives until the mm is destroyed")
    void unbindDevice_allUnbound_pasidKeptUntilMmDestroyed(String model) throws Exception {
        run(model, """
                - sva-bind: { device: acc0, process: app }
                - sva-unbind: { device: acc0, process: app }
                - sva-bind: { device: acc1, process: other }
                - exit-process: { process: app }
                - sva-bind: { device: acc0, process: third }
                """);
        Machine m = machine();
        assertThat(m.sva().mmPasid(m.process("other"))).as("app still held PASID 1 when other bound").isEqualTo(2);
        assertThat(m.process("app").mmCount()).isZero();
        assertThat(m.sva().mmPasid(m.process("app"))).as("app destroyed: PASID dropped")
                .isEqualTo(IommuCore.IOMMU_PASID_INVALID);
        assertThat(m.sva().mmPasid(m.process("third"))).as("PASID 1 given out again").isEqualTo(1);
    }

    /**
     * Process exit while bound: on VT-d intel_mm_release() leaves the PASID entry not present with FPD, so a later
     * LPIG is answered Invalid Request by the unit and never reaches software (origin hardware); the lab's RISC-V
     * driver takes the process context out of use too, but the RISC-V page-request queue does not look at process
     * contexts, so the request reaches io-pgfault and iommu_sva_handle_mm() answers INVALID because the mm has no
     * users. Either way the later unbind succeeds.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vtd", "riscv"})
    @DisplayName("linux-fault-stack §8 item 30: a request after the process exited is answered INVALID")
    void pageRequest_afterProcessExit_invalidFromHardwareOnVtdFromSvaOnRiscv(String model) throws Exception {
        RunResult r = run(model, """
                - sva-bind: { device: acc0, process: app }
                - sva-bind: { device: acc0, process: other }
                - exit-process: { process: app }
                - page-request: { device: acc0, process: app, grpid: 12, addr: 0x7f0000001000, access: write, last: true }
                - run: idle
                - sva-unbind: { device: acc0, process: app }
                - run: idle
                """);

        assertThat(responses(r)).containsExactly(
                tuple("acc0", 1, 12, "INVALID", model.equals("vtd") ? "hardware" : "sva"));
        assertThat(r.stepErrors()).isEmpty();
        // exit left PASID 1 without a drain; the unbind then drained it (acc0 keeps IOPF through other's binding,
        // so the drain is not skipped)
        assertThat(r.journey()).extracting(s -> s.symbol() + ": " + s.message()).containsSubsequence(
                model.equals("vtd") ? List.of(
                        "intel_pasid_tear_down_entry: dmar0: acc0 PASID 1: entry cleared, fault processing disabled"
                                + " (DID 2)",
                        "intel_mm_release: dmar0: app exits: 1 PASID entry fault-disabled",
                        "intel_pasid_tear_down_entry: dmar0: acc0 PASID 1: fault-disabled entry cleared",
                        "intel_iommu_drain_pasid_prq: dmar0: acc0 PASID 1 drained (0 PRQ pass(es) awaited,"
                                + " 0 retry(ies) after PRO)")
                : List.of(
                        "riscv_iommu_mm_release: riscv-iommu0: app exits: 1 process context(s) invalid, no drain",
                        "riscv_iommu_remove_dev_pasid: riscv-iommu0: PASID 1 of acc0 drained"
                                + " (0 page-request pass(es) awaited)"));
        assertThat(machine().process("app").handledFaults()).isZero();
    }

    /**
     * The VT-d half of item 30 in memory: after the exit, acc0's PASID 1 entry is not present with FPD set (what
     * makes the unit answer the request itself); after the unbind, intel_pasid_tear_down_entry() found that entry
     * and cleared it to zero, and intel_iommu_drain_pasid_prq() ran (see the journey in the test above).
     */
    @Test
    @DisplayName("linux-fault-stack §8 item 30: the later unbind finds the FPD entry and clears it (VT-d entry bytes)")
    void unbindDevice_afterProcessExitOnVtd_fpdEntryClearedToZero() throws Exception {
        String exit = """
                - sva-bind: { device: acc0, process: app }
                - sva-bind: { device: acc0, process: other }
                - exit-process: { process: app }
                - run: idle
                """;
        run("vtd", exit);
        long[] afterExit = vtdPasidEntry(machine(), "acc0", 1);
        assertThat(afterExit[0] & VtdEntries.PRESENT).as("present after exit").isZero();
        assertThat(afterExit[0] & VtdEntries.FPD).as("FPD after exit").isEqualTo(VtdEntries.FPD);

        RunResult r = run("vtd", exit + "- sva-unbind: { device: acc0, process: app }\n- run: idle\n");

        assertThat(r.stepErrors()).isEmpty();
        assertThat(vtdPasidEntry(machine(), "acc0", 1)).as("PASID entry after unbind").containsOnly(0L);
        assertThat(vtdPasidEntry(machine(), "acc0", 2)[0] & VtdEntries.PRESENT).as("other's PASID untouched")
                .isEqualTo(VtdEntries.PRESENT);
    }

    /** The eight qwords of a PASID entry, walked as the unit walks: RTADDR, root, context, PASID directory, table. */
    private static long[] vtdPasidEntry(Machine m, String device, int pasid) {
        PhysicalMemory memory = m.memory();
        int rid = m.endpoint(device).rid();
        int devfn = rid & 0xff;
        long rootTable = ((VtdUnit) m.hardware()).readReg(VtdRegs.RTADDR) & VtdEntries.ADDR_MASK;
        long rootEntry = rootTable + (long) (rid >>> 8) * VtdEntries.ROOT_ENTRY_SIZE + (devfn >= 0x80 ? 8 : 0);
        long root = memory.readLong(rootEntry);
        long context = (root & VtdEntries.ADDR_MASK) + (long) (devfn & 0x7f) * VtdEntries.SM_CONTEXT_ENTRY_SIZE;
        long pasidDir = memory.readLong(context) & VtdEntries.ADDR_MASK;
        long pde = memory.readLong(pasidDir + (long) (pasid >>> 6) * VtdEntries.PASID_DIR_ENTRY_SIZE);
        long entry = (pde & VtdEntries.ADDR_MASK) + (long) (pasid & 0x3f) * VtdEntries.PASID_ENTRY_SIZE;
        long[] qw = new long[VtdEntries.PASID_ENTRY_SIZE / 8];
        for (int i = 0; i < qw.length; i++) {
            qw[i] = memory.readLong(entry + 8L * i);
        }
        return qw;
    }

    private static void sendLpig(Machine m, String device, int pasid, int grpid, long addr) {
        m.endpoint(device).sendPageRequest(new PageRequestMessage(m.endpoint(device).rid(), true, pasid, false, false,
                true, true, true, grpid, addr), null);
        m.loop().runUntilIdle();
    }
}
