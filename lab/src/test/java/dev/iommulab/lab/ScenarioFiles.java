package dev.iommulab.lab;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes small scenario files for tests. */
public final class ScenarioFiles {

    /** The repository's scenarios folder, from the lab module's working directory. */
    public static final Path SCENARIOS = Path.of("..", "scenarios");

    private ScenarioFiles() {
    }

    /** An SVA accelerator bound to process {@code app} with the given VMA line and DMA line. */
    public static String svaScenario(String vma, String dma) {
        return """
                name: sva-test
                seed: 3
                hardware:
                  model: vtd
                devices:
                  - name: acc0
                    bdf: "00:03.0"
                    profile: accelerator
                    ats: true
                    pri: true
                    pasid-bits: 20
                processes:
                  - name: app
                    vmas:
                      - %s
                steps:
                  - sva-bind: { device: acc0, process: app }
                  - dma: %s
                  - run: idle
                """.formatted(vma, dma);
    }

    /**
     * The head of a scenario on hardware {@code model}: accelerator acc0 (ATS, PRI, 20 PASID bits) and process
     * {@code app} with 64 KiB of RW memory at 0x7f0000000000, ending with the step that binds them; steps follow.
     */
    public static String boundAccelerator(String model) {
        return """
                name: bound-accelerator
                hardware:
                  model: %s
                devices:
                  - { name: acc0, bdf: "00:03.0", profile: accelerator, ats: true, pri: true, pasid-bits: 20 }
                processes:
                  - name: app
                    vmas:
                      - { start: 0x7f0000000000, size: 64KiB, prot: rw }
                steps:
                  - sva-bind: { device: acc0, process: app }
                """.formatted(model);
    }

    public static Path write(Path dir, String name, String text) {
        try {
            Path file = dir.resolve(name);
            Files.writeString(file, text);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
