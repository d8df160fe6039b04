package dev.iommulab.bench;

import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.mm.Vma;
import dev.iommulab.hw.pci.DmaJob;
import dev.iommulab.hw.pci.DmaOutcome;
import dev.iommulab.hw.pci.DmaPayload;
import dev.iommulab.hw.pci.DmaStatus;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.lab.machine.Machine;
import dev.iommulab.lab.run.InvariantWatch;
import dev.iommulab.lab.run.RunResult;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The whole stack, one recoverable fault end to end (issue 14 target: at least 500,000 faults per second, 2 µs
 * each, with the lab's invariant checking on). One operation is one 4 KiB DMA write of an SVA accelerator to a page
 * of its process that was never touched: the ATS translation request answers "not accessible", the function sends
 * a page request through PRI, the IOMMU queues it (VT-d page request queue, RISC-V page-request queue), the
 * driver's thread reports it to io-pgfault, the SVA handler faults the page in with handle_mm_fault(), the response
 * goes back, the function retries ATS and writes the page; the machine runs until idle.
 *
 * <p>Each invocation touches {@link #BATCH} fresh pages in order; between invocations (not timed) the range is
 * unmapped and mapped again, so every page is a first touch. Each iteration boots a fresh machine with an
 * {@link InvariantWatch} attached (its bookkeeping runs on every event, the cost measured) and checks the
 * invariants when the iteration ends (not timed); a violation fails the benchmark. No trace sink.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class FirstTouchFaultBenchmark extends LabBenchmark {

    /** Faults per invocation. */
    static final int BATCH = 1024;

    private static final long BASE = 0x7f00_0000_0000L;
    private static final long PAGE = 4096;
    /** The bytes every write carries: made once, as a device's data buffer is (a job made from an array copies it). */
    private static final DmaPayload DATA = DmaPayload.of(new byte[(int) PAGE]);

    @Param({"vtd", "riscv"})
    public String hardware;

    private Machine m;
    private InvariantWatch watch;
    private MmStruct mm;
    private int pasid;

    @Setup(Level.Iteration)
    public void boot() throws Exception {
        m = Machine.builder()
                .hardware(hardware)
                .device("acc0", "00:03.0", d -> d.profile("accelerator").ats().pri().pasidBits(20).priCredits(32))
                .process("app", p -> p.vma(BASE, BATCH * PAGE, "rw"))
                .build();
        watch = InvariantWatch.attach(m);
        pasid = m.svaBind("acc0", "app").pasid();
        mm = m.process("app");
    }

    @Setup(Level.Invocation)
    public void freshPages() {
        mm.munmap(BASE, BATCH * PAGE);
        mm.mmap(BASE, BATCH * PAGE, Vma.VM_READ | Vma.VM_WRITE);
        m.runUntilIdle();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int firstTouch() {
        int ok = 0;
        for (int i = 0; i < BATCH; i++) {
            DmaOutcome o = m.runDma("acc0", DmaJob.streaming(BASE + i * PAGE, PAGE, Access.WRITE, pasid, false, DATA));
            ok += o != null && o.status() == DmaStatus.OK ? 1 : 0;
        }
        if (ok != BATCH) {
            throw new IllegalStateException(ok + " of " + BATCH + " first-touch DMAs completed ok");
        }
        return ok;
    }

    @TearDown(Level.Iteration)
    public void checkInvariants() {
        List<RunResult.InvariantEntry> broken = watch.check().stream().filter(e -> !e.holds()).toList();
        if (!broken.isEmpty()) {
            throw new IllegalStateException("invariants broken: " + broken);
        }
    }
}
