package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.hw.pci.DmaPayload;
import dev.iommulab.lab.ScenarioFiles;
import dev.iommulab.lab.scenario.ScenarioLoader;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14, point 5, on the runner: a {@code dma} of 2 GiB, 4 GiB or more is a work item of exactly that size (not
 * its size modulo 4 GiB, no NegativeArraySizeException), whose write bytes are made chunk by chunk; a {@code map}
 * larger than memory fails with ENOMEM before anything is allocated or mapped.
 */
class BigDmaStepsTest {

    private static final long FOUR_GIB = 4L << 30;

    @TempDir
    Path dir;

    private final ScenarioRunner runner = new ScenarioRunner();

    /** App has 64 KiB of memory at 0x7f0000000000; acc0 writes {@code size} bytes from {@code addr} through SVA. */
    private RunResult svaWrite(String addr, String size) throws Exception {
        String text = ScenarioFiles.svaScenario("{ start: 0x7f0000000000, size: 64KiB, prot: rw }",
                "{ device: acc0, process: app, addr: " + addr + ", size: " + size + ", access: write }");
        return runner.run(new ScenarioLoader().load(ScenarioFiles.write(dir, "big.yaml", text)));
    }

    @Test
    void dma_fourGibPlus8Kib_wholeSizeWrittenUntilTheVmaEnds() throws Exception {
        RunResult r = svaWrite("0x7f0000000000", "4194312KiB");

        assertThat(r.dma()).singleElement().satisfies(d -> {
            assertThat(d.size()).isEqualTo(FOUR_GIB + 8192);
            assertThat(d.status()).as("cut to 8 KiB it would be ok").isEqualTo("invalid");
            assertThat(d.faultAddr()).isEqualTo("0x7f0000010000");
        });
    }

    @Test
    void dma_threeGib_failsAtTheVmaEndWithoutException() throws Exception {
        RunResult r = svaWrite("0x7f0000000000", "3GiB");

        assertThat(r.dma()).singleElement().satisfies(d -> {
            assertThat(d.size()).isEqualTo(3L << 30);
            assertThat(d.status()).isEqualTo("invalid");
            assertThat(d.faultAddr()).isEqualTo("0x7f0000010000");
        });
    }

    @Test
    void dma_exactlyFourGib_failsAtTheVmaEndWithoutException() throws Exception {
        RunResult r = svaWrite("0x7f0000000000", "4GiB");

        assertThat(r.dma()).singleElement().satisfies(d -> {
            assertThat(d.size()).isEqualTo(FOUR_GIB);
            assertThat(d.status()).isEqualTo("invalid");
        });
    }

    /** Before, the step drew all 1 GiB of random bytes into an array before the device started. */
    @Test
    void dma_oneGibWriteWhoseFirstPageFaults_makesNoneOfItsBytes() throws Exception {
        RunResult r = svaWrite("0x100000000", "1GiB");

        assertThat(r.dma()).singleElement().satisfies(d -> {
            assertThat(d.status()).isEqualTo("invalid");
            assertThat(d.faultAddr()).isEqualTo("0x100000000");
        });
        DmaPayload payload = runner.observations().dma.get(0).job.payload();
        assertThat(payload).isInstanceOfSatisfying(DmaPayload.Drawn.class,
                drawn -> assertThat(drawn.bytesProduced()).isZero());
    }

    @Test
    void dma_writeThatCompletes_memoryMatchesTheDrawnBytesPageByPage() throws Exception {
        RunResult r = svaWrite("0x7f0000000800", "0x3000");

        assertThat(r.dma()).singleElement().satisfies(d -> {
            assertThat(d.status()).isEqualTo("ok");
            assertThat(d.memoryMatches()).isTrue();
        });
    }

    private RunResult rid(String name, String steps) throws Exception {
        String text = """
                name: rid
                hardware:
                  model: vtd
                devices:
                  - { name: nic0, bdf: "00:04.0", profile: nic }
                steps:
                  - attach: { device: nic0, domain: dma }
                """ + steps;
        return runner.run(new ScenarioLoader().load(ScenarioFiles.write(dir, name, text)));
    }

    /** 16 TiB + 8 KiB was mapped as 2 pages' worth of frames over 2^32 + 2 pages (121 s, 4.9 GB, then ENOMEM). */
    @Test
    void map_sixteenTibPlus8Kib_enomemWithNothingAllocatedOrMapped() throws Exception {
        rid("none.yaml", "  - run: idle\n");
        long framesWithoutMap = runner.machine().frames().allocatedFrames();

        RunResult r = rid("map.yaml", """
                  - map: { device: nic0, iova: 0x200000, size: 17592186052608, prot: rw }
                  - dma: { device: nic0, addr: 0x200000, size: 64, access: read }
                  - run: idle
                """);

        assertThat(r.stepErrors()).singleElement().satisfies(e -> {
            assertThat(e.step()).isEqualTo("map");
            assertThat(e.errno()).isEqualTo("ENOMEM");
        });
        assertThat(r.dma()).extracting(RunResult.DmaEntry::status).containsExactly("ur");
        assertThat(runner.machine().frames().allocatedFrames()).isEqualTo(framesWithoutMap);
    }

    @Test
    void dmaApi_fourGibPlus8Kib_enomemWithNothingAllocated() throws Exception {
        rid("none.yaml", "  - run: idle\n");
        long framesWithoutDma = runner.machine().frames().allocatedFrames();

        RunResult r = rid("dma.yaml", """
                  - dma: { device: nic0, size: 4194312KiB, access: write }
                  - run: idle
                """);

        assertThat(r.stepErrors()).singleElement().satisfies(e -> assertThat(e.errno()).isEqualTo("ENOMEM"));
        assertThat(r.dma()).isEmpty();
        assertThat(runner.machine().frames().allocatedFrames()).isEqualTo(framesWithoutDma);
    }
}
