package dev.iommulab.bench;

import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.WalkResult;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Setup;

/**
 * Cost of one software page-table walk, {@link X86PageTable#walk(long, long)}, over a 4-level x86-64
 * table in {@link PhysicalMemory}: the step every simulated ATS translation, first-stage translation
 * and CPU fault takes.
 *
 * <p>{@code walkMapped} walks all four levels to a 4 KiB leaf (four 8-byte reads from the sparse frame
 * map); {@code walkNotPresent} stops at the leaf level on a PTE with P = 0 (the recoverable-fault
 * case of DESIGN.md §3 step 2); {@code walkUnmappedTopLevel} stops at the PML4 (an address nothing
 * was ever mapped near).
 */
public class X86WalkBenchmark extends LabBenchmark {

    private static final long MEMORY_SIZE = 64L << 20;
    private static final long DATA_BASE = 32L << 20;
    private static final long VA_BASE = 0x7f12_3456_0000L;
    private static final int MAPPED_PAGES = 8;

    private X86PageTable table;
    private long root;
    /** Not final, so the JIT cannot fold the walk's inputs into constants. */
    private long mappedVa;
    private long notPresentVa;
    private long unmappedVa;

    @Setup
    public void buildTable() {
        PhysicalMemory memory = new PhysicalMemory(MEMORY_SIZE);
        table = new X86PageTable(memory, 4);
        TableFrames frames = new TableFrames(PhysicalMemory.PAGE_SIZE, DATA_BASE);
        root = frames.allocate();
        for (int page = 0; page < MAPPED_PAGES; page++) {
            long offset = (long) page * PhysicalMemory.PAGE_SIZE;
            table.map4k(root, VA_BASE + offset, DATA_BASE + offset, X86Pte.RW | X86Pte.US, frames::allocate);
        }
        mappedVa = VA_BASE + 3L * PhysicalMemory.PAGE_SIZE + 0x123;
        notPresentVa = VA_BASE + (MAPPED_PAGES + 1L) * PhysicalMemory.PAGE_SIZE;
        unmappedVa = 0x0000_1000_0000_0000L;
        requireLeaf(table.walk(root, mappedVa));
    }

    private static void requireLeaf(WalkResult result) {
        if (!(result instanceof WalkResult.Leaf)) {
            throw new IllegalStateException("benchmark table is broken: " + result);
        }
    }

    @Benchmark
    public WalkResult walkMapped() {
        return table.walk(root, mappedVa);
    }

    @Benchmark
    public WalkResult walkNotPresent() {
        return table.walk(root, notPresentVa);
    }

    @Benchmark
    public WalkResult walkUnmappedTopLevel() {
        return table.walk(root, unmappedVa);
    }
}
