package dev.iommulab.bench;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import dev.iommulab.hw.pgtable.RiscvWalkRequest;
import dev.iommulab.hw.pgtable.RiscvWalkResult;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/**
 * Cost of one RISC-V Sv39 first-stage walk, {@link RiscvPageTable#walk}, over a 3-level table in
 * {@link PhysicalMemory}: the step every simulated RISC-V IOMMU translation takes (riscv-iommu "Process
 * to translate an IOVA" step 17).
 *
 * <p>{@code walkMapped} walks all three levels to a 4 KiB leaf whose A and D are already set (three
 * 8-byte reads, no write); {@code walkNotValid} stops at level 0 on a PTE with V = 0 (the fault an
 * ATS Translation Request turns into R = W = 0). Compare with {@link X86WalkBenchmark}, which walks
 * four levels.
 */
public class RiscvSv39WalkBenchmark extends LabBenchmark {

    private static final long MEMORY_SIZE = 64L << 20;
    private static final long DATA_BASE = 32L << 20;
    private static final long VA_BASE = 0x0000_0012_3456_0000L;
    private static final int MAPPED_PAGES = 8;
    private static final long FLAGS = RiscvPte.R | RiscvPte.W | RiscvPte.U | RiscvPte.A | RiscvPte.D;

    private RiscvPageTable table;
    private long root;
    /** Not final, so the JIT cannot fold the walk's inputs into constants. */
    private long mappedVa;
    private long notValidVa;
    private RiscvWalkRequest read;

    @Setup
    public void buildTable() {
        PhysicalMemory memory = new PhysicalMemory(MEMORY_SIZE);
        table = new RiscvPageTable(memory, RiscvPagingMode.SV39);
        TableFrames frames = new TableFrames(PhysicalMemory.PAGE_SIZE, DATA_BASE);
        root = frames.allocate();
        for (int page = 0; page < MAPPED_PAGES; page++) {
            long offset = (long) page * PhysicalMemory.PAGE_SIZE;
            table.map(root, VA_BASE + offset, DATA_BASE + offset, PhysicalMemory.PAGE_SIZE, FLAGS, frames::allocate);
        }
        mappedVa = VA_BASE + 3L * PhysicalMemory.PAGE_SIZE + 0x123;
        notValidVa = VA_BASE + (MAPPED_PAGES + 1L) * PhysicalMemory.PAGE_SIZE;
        read = RiscvWalkRequest.user(Access.READ);
        requireLeaf(table.walk(root, mappedVa, read));
    }

    private static void requireLeaf(RiscvWalkResult result) {
        if (!(result instanceof RiscvWalkResult.Leaf)) {
            throw new IllegalStateException("benchmark table is broken: " + result);
        }
    }

    @Benchmark
    public RiscvWalkResult walkMapped() {
        return table.walk(root, mappedVa, read);
    }

    @Benchmark
    public RiscvWalkResult walkNotValid() {
        return table.walk(root, notValidVa, read);
    }
}
