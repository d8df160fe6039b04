package dev.iommulab.lab.run;

import static org.assertj.core.api.Assertions.assertThat;

import dev.iommulab.lab.scenario.ScenarioLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random SVA lifecycles (issue 6): several devices and processes, with binds, unbinds (with and without the
 * device driver's PASID stop), DMA, raw page-request groups, mmap, munmap, mprotect and process exits at random times, so
 * that teardown overlaps traffic in flight. Every run must keep every invariant the lab checks — every LPIG answered
 * exactly once, no device access outside the process's current mappings, nothing outliving its device — and end
 * idle. A failing seed is reported with its scenario text and left in {@code lab/target/sva-random/seed-N.yaml} for
 * {@code ./iommu-lab run}; {@link #replay} runs one seed alone ({@code -Dsva.seed=N}).
 */
class SvaRandomLifecycleTest {

    private static final int SEEDS = 1000;

    private static final Path FAILED = Path.of("target", "sva-random");

    @TempDir
    Path dir;

    /** What the runs went through, summed over the seeds, so a generator that stops reaching a path is noticed. */
    private final Map<String, Integer> seen = new TreeMap<>();

    @Test
    void run_thousandRandomLifecycles_everyInvariantHolds() throws Exception {
        List<String> failures = new ArrayList<>();
        for (long seed : LongStream.range(1, SEEDS + 1).toArray()) {
            String failure = check(seed);
            if (failure != null) {
                failures.add(failure);
            }
        }
        assertThat(failures).isEmpty();
        // the mix reached every teardown path: served and refused faults, answers by the hardware, DMA cut short by
        // a stop, an exit or a munmap, and kernel calls refused
        for (String what : List.of("hardware model vtd", "hardware model riscv", "response SUCCESS sva",
                "response INVALID sva", "response INVALID hardware", "dma ok", "dma invalid", "dma aborted", "dma ur",
                "step error")) {
            assertThat(seen.getOrDefault(what, 0)).as(what + " in " + seen).isGreaterThan(10);
        }
    }

    /** Replays one seed, e.g. {@code -Dsva.seed=123}; skipped without the property. */
    @Test
    void replay() throws Exception {
        String seed = System.getProperty("sva.seed");
        if (seed != null) {
            assertThat(check(Long.parseLong(seed))).isNull();
        }
    }

    /** Runs the scenario of {@code seed}; null when it keeps every invariant, else what broke and the scenario. */
    private String check(long seed) throws Exception {
        String text = new Generator(seed).scenario();
        Path file = Files.writeString(dir.resolve("seed-" + seed + ".yaml"), text);
        ScenarioRunner runner = new ScenarioRunner();
        RunResult r;
        try {
            r = runner.run(new ScenarioLoader().load(file));
        } catch (RuntimeException e) {
            Files.createDirectories(FAILED);
            Files.writeString(FAILED.resolve("seed-" + seed + ".yaml"), text);
            return "seed " + seed + " threw " + e + "\n" + text;
        }
        tally(r);
        List<String> broken = r.invariants().stream().filter(i -> !i.holds())
                .map(i -> i.name() + ": " + i.detail()).toList();
        if (!broken.isEmpty() || !runner.machine().loop().isIdle()) {
            Files.createDirectories(FAILED);
            Files.writeString(FAILED.resolve("seed-" + seed + ".yaml"), text);
            return "seed " + seed + " broke " + broken + (runner.machine().loop().isIdle() ? "" : " (not idle)")
                    + "\n" + text;
        }
        return null;
    }

    private void tally(RunResult r) {
        seen.merge("hardware model " + r.hardware(), 1, Integer::sum);
        r.pageResponses().forEach(p -> seen.merge("response " + p.code() + " " + p.origin(), 1, Integer::sum));
        r.dma().forEach(d -> seen.merge("dma " + d.status(), 1, Integer::sum));
        r.stepErrors().forEach(e -> seen.merge("step error", 1, Integer::sum));
    }

    /** Writes one random scenario; everything it draws comes from the seed. */
    static final class Generator {

        private static final String[] DEVICES = {"acc0", "acc1", "acc2"};
        private static final String[] PROCESSES = {"p0", "p1", "p2"};
        private static final long BASE = 0x7f0000000000L;
        private static final long SPAN = 16 * 4096L;

        private final SplittableRandom random;
        private final long seed;
        private final boolean[][] bound = new boolean[DEVICES.length][PROCESSES.length];
        private final boolean[] exited = new boolean[PROCESSES.length];
        private final StringBuilder steps = new StringBuilder();
        private long atNs;

        Generator(long seed) {
            this.seed = seed;
            this.random = new SplittableRandom(seed);
        }

        String scenario() {
            String model = random.nextBoolean() ? "vtd" : "riscv";
            int count = 10 + random.nextInt(20);
            for (int i = 0; i < count; i++) {
                step();
            }
            steps.append("  - run: idle\n");
            StringBuilder procs = new StringBuilder();
            for (String p : PROCESSES) {
                procs.append("  - name: ").append(p).append("\n    vmas:\n")
                        .append("      - { start: 0x7f0000000000, size: 48KiB, prot: rw }\n")
                        .append("      - { start: 0x7f000000c000, size: 16KiB, prot: r }\n");
            }
            return """
                    name: sva-random
                    seed: %d
                    hardware:
                      model: %s
                    devices:
                      - { name: acc0, bdf: "00:03.0", profile: accelerator, ats: true, pri: true, pasid-bits: 20 }
                      - { name: acc1, bdf: "00:04.0", profile: accelerator, ats: true, pri: true, pasid-bits: 20,
                          pri-credits: 4 }
                      - { name: acc2, bdf: "00:05.0", profile: generic, ats: true, pri: true, pasid-bits: 20 }
                    processes:
                    %ssteps:
                    %s""".formatted(seed, model, procs, steps);
        }

        private void step() {
            for (int attempt = 0; attempt < 8; attempt++) {
                if (tryStep(random.nextInt(DEVICES.length), random.nextInt(PROCESSES.length), random.nextInt(100))) {
                    return;
                }
            }
            add("run: { for: %dns }", 100 + random.nextInt(20_000));
        }

        /** Adds a step of the drawn kind if it makes sense now; false to draw again. */
        private boolean tryStep(int d, int p, int kind) {
            String dev = DEVICES[d];
            String proc = PROCESSES[p];
            if (kind < 15) {
                if (exited[p] || bound[d][p]) {
                    return false;
                }
                bound[d][p] = true;
                add("sva-bind: { device: %s, process: %s%s }", dev, proc, timing());
            } else if (kind < 27) {
                if (!bound[d][p]) {
                    return false;
                }
                bound[d][p] = false;
                if (random.nextInt(5) != 0) { // the device driver stops the PASID first, as it should
                    add("pasid-stop: { device: %s, process: %s%s }", dev, proc, timing());
                    add("sva-unbind: { device: %s, process: %s }", dev, proc);
                } else {
                    add("sva-unbind: { device: %s, process: %s%s }", dev, proc, timing());
                }
            } else if (kind < 60) {
                if (!bound[d][p]) {
                    return false;
                }
                long addr = BASE + random.nextInt((int) (SPAN / 4096) + 2) * 4096L + random.nextInt(2) * 0x800;
                int size = 256 + random.nextInt(3 * 4096);
                String access = random.nextInt(3) == 0 ? "read" : "write";
                add("dma: { device: %s, process: %s, addr: %#x, size: %d, access: %s%s }", dev, proc, addr, size,
                        access, timing());
            } else if (kind < 75) {
                if (!bound[d][p]) {
                    return false;
                }
                pageRequestGroup(dev, proc, timing());
            } else if (kind < 80) {
                if (exited[p]) {
                    return false;
                }
                exited[p] = true;
                add("exit-process: { process: %s%s }", proc, timing());
            } else if (kind < 92) {
                if (exited[p]) {
                    return false;
                }
                addressSpaceChange(proc);
            } else {
                add("run: { for: %dns }", 100 + random.nextInt(20_000));
            }
            return true;
        }

        /**
         * munmap, mprotect or mmap of 1-4 pages somewhere in the process's range; step errors (EEXIST for an mmap
         * over a VMA, ENOMEM for an mprotect over a hole) are part of the game.
         */
        private void addressSpaceChange(String proc) {
            long start = BASE + random.nextInt((int) (SPAN / 4096)) * 4096L;
            long size = (1 + random.nextInt(4)) * 4096L;
            String[] prots = {"r", "rw", "none"};
            switch (random.nextInt(3)) {
                case 0 -> add("munmap: { process: %s, start: %#x, size: %d%s }", proc, start, size, timing());
                case 1 -> add("mprotect: { process: %s, start: %#x, size: %d, prot: %s%s }", proc, start, size,
                        prots[random.nextInt(prots.length)], timing());
                default -> add("mmap: { process: %s, start: %#x, size: %d, prot: %s%s }", proc, start, size,
                        random.nextBoolean() ? "rw" : "r", timing());
            }
        }

        /** A group of 1-3 raw page requests, the last with LPIG unless the device leaves it open. */
        private void pageRequestGroup(String dev, String proc, String at) {
            int grpid = random.nextInt(512);
            int pages = 1 + random.nextInt(3);
            boolean closed = random.nextInt(5) != 0;
            for (int i = 0; i < pages; i++) {
                long addr = BASE + random.nextInt((int) (SPAN / 4096) + 2) * 4096L;
                String access = random.nextInt(3) == 0 ? "read" : "write";
                boolean last = closed && i == pages - 1;
                add("page-request: { device: %s, process: %s, grpid: %d, addr: %#x, access: %s, last: %b%s }", dev,
                        proc, grpid, addr, access, last, i == 0 ? at : "");
            }
        }

        /** Half the steps wait for the machine to be idle; the others start a little later than the previous. */
        private String timing() {
            if (random.nextBoolean()) {
                return "";
            }
            atNs += random.nextInt(5_000);
            return ", at: " + atNs + "ns";
        }

        private void add(String format, Object... args) {
            steps.append("  - ").append(String.format(format, args)).append('\n');
        }
    }
}
