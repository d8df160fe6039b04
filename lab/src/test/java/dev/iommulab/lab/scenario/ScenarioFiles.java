package dev.iommulab.lab.scenario;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Test helper: writes scenario text to a file and loads it. */
final class ScenarioFiles {

    /** The example of SCENARIO-FORMAT.md, verbatim. */
    static final String CONTRACT_EXAMPLE = """
            name: sva-first-touch              # required
            description: A device touches fresh process memory and the fault is served through PRI.
            seed: 7                            # default 1
            hardware:
              model: vtd                       # vtd | riscv | smmuv3 | amd — required
              options: { prq-entries: 64 }     # model options; unknown keys are an error
            policies:                          # optional; unset ones take the kernel's current behaviour
              iopf.abort-response: FAILURE     # FAILURE | INVALID
            devices:
              - name: acc0                     # required, unique
                bdf: "00:03.0"                 # required
                profile: accelerator           # accelerator | nic | nvme | generic (default generic)
                ats: true
                pri: true                      # requires ats
                pasid-bits: 20                 # 0 = no PASID capability
                pri-credits: 32                # outstanding page request allocation
            processes:
              - name: app
                vmas:
                  - { start: 0x7f0000000000, size: 64KiB, prot: rw }
            steps:
              - sva-bind: { device: acc0, process: app }
              - dma: { device: acc0, process: app, addr: 0x7f0000000000, size: 8KiB, access: write }
              - run: idle
            expect:
              - page-response: { device: acc0, code: SUCCESS, count: 2 }
              - dma: { device: acc0, status: ok }
            """;

    /** A minimal valid head: lines 1-9 (device acc0 at line 5, process app at line 8); steps follow at line 10. */
    static final String HEAD = """
            name: t
            hardware:
              model: vtd
            devices:
              - name: acc0
                bdf: "00:03.0"
            processes:
              - name: app
                vmas: [{ start: 0x1000, size: 8KiB }]
            """;

    private final Path dir;
    private final ScenarioLoader loader = new ScenarioLoader();

    ScenarioFiles(Path dir) {
        this.dir = dir;
    }

    Path write(String yaml) {
        try {
            return Files.writeString(dir.resolve("scenario.yaml"), yaml);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    Scenario load(String yaml, String... overrides) throws ScenarioException {
        return loader.load(write(yaml), List.of(overrides));
    }

    /** Loads text that must be invalid and returns its problems. */
    List<ScenarioProblem> problems(String yaml, String... overrides) {
        ScenarioException e = catchThrowableOfType(ScenarioException.class,
                () -> loader.load(write(yaml), List.of(overrides)));
        assertThat(e).as("expected the scenario to be invalid").isNotNull();
        return e.problems();
    }

    /** {@code line:column} of a problem. */
    static String at(ScenarioProblem p) {
        return p.location().line() + ":" + p.location().column();
    }
}
