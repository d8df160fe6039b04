package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.groups.Tuple.tuple;

import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.machine.MachineConfigException;
import dev.iommulab.lab.scenario.Scenario;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.nio.file.Path;
import java.util.List;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lab's user-space view beyond §8: the client policies ({@code vfio.user-response} and its read buffer), the
 * per-process {@code user-response}, the PASID stop of the client, pinned IOAS mappings and their unmap, unbind,
 * and the step errors of steps that come too early. Each checks the responses the device received, the DMA outcome
 * and what the user-space section reports.
 */
class UserspaceStepsTest {

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    private Scenario scenario(String policies, String steps) throws Exception {
        String text = """
                name: userspace-steps
                seed: 4
                hardware:
                  model: vtd
                policies: { %s }
                devices:
                  - { name: acc0, bdf: "00:03.0", profile: accelerator, ats: true, pri: true, pasid-bits: 20 }
                processes:
                  - name: vmm
                    vmas:
                      - { start: 0x7f0000000000, size: 64KiB, prot: rw }
                steps:
                %s""".formatted(policies, steps.indent(2));
        return new ScenarioLoader().load(ScenarioFiles.write(dir, "s.yaml", text));
    }

    private RunResult run(String policies, String steps) throws Exception {
        return runner.run(scenario(policies, steps));
    }

    private static List<Tuple> responses(RunResult r) {
        return r.pageResponses().stream().map(p -> tuple(p.pasid(), p.grpid(), p.code(), p.origin())).toList();
    }

    private static final String FAULT_AT_RID = """
            - vfio-bind: { device: acc0, process: vmm }
            - ioas-map: { process: vmm, iova: 0x100000, addr: 0x7f0000000000, size: 8KiB, prot: rw, on-fault: true }
            - vfio-attach: { device: acc0 }
            - dma: { device: acc0, addr: 0x100000, size: 4KiB, access: write }
            - run: idle
            """;

    /** Policy never: the client reads the group and never answers; the run ends with it owed, and says so. */
    @Test
    void userResponseNever_groupReadNotAnswered_owedAtEndAndDmaPending() throws Exception {
        RunResult r = run("vfio.user-response: never", FAULT_AT_RID);

        assertThat(r.pageResponses()).isEmpty();
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("pending");
        assertThat(r.userspace()).singleElement().satisfies(u -> {
            assertThat(u.userResponse()).isEqualTo("never");
            assertThat(u.client()).isEqualTo(new RunResult.ClientStats(1, 0, 0, 0, 0));
            assertThat(u.unanswered()).isEqualTo(1);
        });
        assertThat(r.invariants().get(0).detail()).startsWith("owed at end: 1 group(s)");
        assertThat(r.outcome()).isEqualTo("pass");
    }

    /** iommufd_fops_release() with the group still owed: answered INVALID exactly once, the DMA ends invalid. */
    @Test
    void userResponseNever_thenIommufdClose_groupInvalidOnceDmaInvalid() throws Exception {
        RunResult r = run("vfio.user-response: never", FAULT_AT_RID + """
                - iommufd-close: { process: vmm }
                - run: idle
                """);

        assertThat(responses(r)).containsExactly(tuple(null, 0, "INVALID", "remove-device"));
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("invalid");
        assertThat(r.userspace().get(0).iommufdClosed()).isTrue();
        assertThat(r.invariants().get(0).detail()).isEmpty();
    }

    /** Policy always-invalid: the client answers INVALID without mapping; the device's DMA ends invalid. */
    @Test
    void userResponseAlwaysInvalid_dmaInvalidAndClientCountsOneInvalid() throws Exception {
        RunResult r = run("vfio.user-response: always-invalid", FAULT_AT_RID);

        assertThat(responses(r)).containsExactly(tuple(null, 0, "INVALID", "iommufd"));
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("invalid");
        assertThat(r.userspace().get(0).client()).isEqualTo(new RunResult.ClientStats(1, 0, 1, 0, 0));
    }

    /** A read buffer of one record cannot take a group of two: read() returns 0 and the group stays unread. */
    @Test
    void readBytes40_groupOfTwo_readReturnsZeroGroupStaysUnread() throws Exception {
        RunResult r = run("vfio.user-response.read-bytes: 40", """
                - vfio-bind: { device: acc0, process: vmm }
                - vfio-attach: { device: acc0 }
                - page-request: { device: acc0, grpid: 9, addr: 0x100000, access: read, last: true, pages: 2 }
                - run: idle
                """);

        assertThat(r.userspace().get(0)).satisfies(u -> {
            assertThat(u.readBytes()).isEqualTo(40);
            assertThat(u.recordsRead()).isEmpty();
            assertThat(u.client().tooSmall()).isEqualTo(1);
            assertThat(u.unread()).isEqualTo(1);
        });
        assertThat(r.pageResponses()).isEmpty();
    }

    /** The policies are validated before anything runs, naming the key (exit 2 on the command line). */
    @Test
    void checkHardware_badUserspacePolicies_errorNamesKey() throws Exception {
        MachineConfigException bytes = catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(scenario("vfio.user-response.read-bytes: 50", "- run: idle")));
        MachineConfigException mode = catchThrowableOfType(MachineConfigException.class,
                () -> Machine.checkHardware(scenario("vfio.replace-auto-response: legacy", "- run: idle")));

        assertThat(bytes.key()).isEqualTo("policies.vfio.user-response.read-bytes");
        assertThat(bytes.getMessage()).contains("multiple of 40").contains("50");
        assertThat(mode.key()).isEqualTo("policies.vfio.replace-auto-response");
        assertThat(mode.getMessage()).contains("intended, legacy-2025");
    }

    /**
     * The client's PASID stop while a group waits in its fault file: the device stops (its DMA aborted), the client
     * reads the group, the PASID is detached — which answers it INVALID — and the client's SUCCESS, written after
     * it mapped the page, is refused: still exactly one response.
     */
    @Test
    void vfioPasidStop_groupQueued_answeredOnceClientAnswerRejected() throws Exception {
        RunResult r = run("", """
                - vfio-bind: { device: acc0, process: vmm }
                - ioas-map: { process: vmm, iova: 0x100000, addr: 0x7f0000000000, size: 16KiB, prot: rw, on-fault: true }
                - vfio-attach: { device: acc0, pasid: 7 }
                - dma: { device: acc0, pasid: 7, addr: 0x100000, size: 16KiB, access: write }
                - vfio-pasid-stop: { device: acc0, pasid: 7, at: 6us }
                - run: idle
                """);

        assertThat(responses(r)).containsExactly(tuple(7, 0, "INVALID", "remove-device"));
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("aborted");
        assertThat(r.userspace().get(0).responsesWritten()).extracting(RunResult.PageResponseWritten::by,
                RunResult.PageResponseWritten::accepted, RunResult.PageResponseWritten::error)
                .containsExactly(tuple("client", false, "EINVAL"));
        assertThat(runner.machine().userspace("vmm").hwpt(runner.machine().device("acc0"), 7)).isZero();
    }

    /**
     * A pinned IOAS mapping needs no page request (ATS translates it); after IOMMU_IOAS_UNMAP the same DMA faults,
     * the IOVA is no buffer of the client's, so it answers INVALID. Every PASID access is judged against the HWPT.
     */
    @Test
    void ioasMapPinnedThenUnmap_firstDmaWithoutFaultSecondInvalid() throws Exception {
        RunResult r = run("", """
                - vfio-bind: { device: acc0, process: vmm }
                - ioas-map: { process: vmm, iova: 0x200000, addr: 0x7f0000002000, size: 8KiB, prot: rw }
                - vfio-attach: { device: acc0, pasid: 3 }
                - dma: { device: acc0, pasid: 3, addr: 0x200000, size: 8KiB, access: write }
                - run: idle
                - ioas-unmap: { process: vmm, iova: 0x200000, size: 8KiB }
                - dma: { device: acc0, pasid: 3, addr: 0x200000, size: 4KiB, access: write }
                - run: idle
                """);

        assertThat(r.dma()).extracting(RunResult.DmaEntry::status, RunResult.DmaEntry::memoryMatches)
                .containsExactly(tuple("ok", true), tuple("invalid", null));
        assertThat(responses(r)).containsExactly(tuple(3, 0, "INVALID", "iommufd"));
        assertThat(r.invariants()).filteredOn(i -> i.name().equals("dma-within-mappings")).singleElement()
                .satisfies(i -> {
                    assertThat(i.holds()).isTrue();
                    assertThat(i.detail()).startsWith("2 access(es) with a PASID judged");
                });
    }

    /**
     * vfio-unbind detaches the PASIDs first, then the RID (vfio_iommufd_physical_unbind()): while the RID still keeps
     * IOPF on, the PASID's owed group is iommufd's to answer (origin auto-response), once; the HWPTs are freed.
     */
    @Test
    void vfioUnbind_groupOwedAtPasid_answeredOnceAndHwptsDestroyed() throws Exception {
        RunResult r = run("vfio.user-response: never", """
                - vfio-bind: { device: acc0, process: vmm }
                - vfio-attach: { device: acc0 }
                - vfio-attach: { device: acc0, pasid: 5 }
                - page-request: { device: acc0, pasid: 5, grpid: 2, addr: 0x100000, access: read, last: true }
                - run: idle
                - vfio-unbind: { device: acc0 }
                - run: idle
                """);
        var vmm = runner.machine().userspace("vmm");

        assertThat(responses(r)).containsExactly(tuple(5, 2, "INVALID", "auto-response"));
        assertThat(vmm.devices()).isEmpty();
        assertThat(vmm.iommufd().objectIds()).as("the IOAS and the fault object").containsExactly(2, 3);
        assertThat(runner.machine().core().getDomainForDev(runner.machine().device("acc0")))
                .isNotNull();
    }

    /** Steps that need a bound device or a fault fd fail as the kernel would, and change nothing. */
    @Test
    void stepsBeforeBind_stepErrorsEbadfEinvalEnoent() throws Exception {
        RunResult r = run("", """
                - fault-read: { process: vmm, bytes: 40 }
                - ioas-map: { process: vmm, iova: 0x100000, addr: 0x7f0000000000, size: 4KiB, prot: r }
                - vfio-attach: { device: acc0 }
                - vfio-bind: { device: acc0, process: vmm }
                - vfio-bind: { device: acc0, process: vmm }
                """);

        assertThat(r.stepErrors()).extracting(RunResult.StepErrorEntry::step, RunResult.StepErrorEntry::errno,
                RunResult.StepErrorEntry::expected).containsExactly(tuple("fault-read", "EBADF", false),
                tuple("ioas-map", "EINVAL", false), tuple("vfio-attach", "ENOENT", false),
                tuple("vfio-bind", "EINVAL", false));
        assertThat(r.outcome()).isEqualTo("fail");
    }
}
