package dev.iommulab.bench;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Single-request groups served end to end at the io-pgfault level, one thread (issue 4 target: at least
 * 1,000,000 groups per second). One operation is one LPIG request reported with
 * {@code Iopf.reportDeviceFault} → group allocated → routed to the SVA domain's handler → one response
 * through a no-op {@code ops->page_response} → group freed.
 *
 * <ul>
 *   <li>{@code inlineHandler}: the handler answers and frees the group itself, inside the report.</li>
 *   <li>{@code queuedHandler}: the SVA shape — the handler queues the group's work on the iopf queue's
 *       workqueue and the event loop then runs it ({@code runUntilIdle}, one event), which answers and
 *       frees the group; the loop dispatch is part of the operation.</li>
 * </ul>
 * No FaultEvents listener, no trace sink (the lab's default outside recorded runs).
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class IopfGroupServiceBenchmark extends LabBenchmark {

    private static final int INLINE_PASID = 1;
    private static final int QUEUED_PASID = 2;

    private IopfBenchMachine m;
    private Device dev;
    private IommuFault inlineLpig;
    private IommuFault queuedLpig;

    @Setup(Level.Trial)
    public void setUp() {
        m = new IopfBenchMachine();
        dev = m.device("accel0", 0x0100);
        m.attach(dev, INLINE_PASID, m.inlineHandler());
        m.attach(dev, QUEUED_PASID, m.queuedHandler());
        inlineLpig = IopfBenchMachine.lpig(INLINE_PASID, 3);
        queuedLpig = IopfBenchMachine.lpig(QUEUED_PASID, 4);
    }

    @TearDown(Level.Trial)
    public void check() {
        if (m.iopf.pendingGroups(dev) != 0 || m.iopf.faultParamUsers(dev) != 1 || m.ops.responses == 0) {
            throw new IllegalStateException("groups left behind: pending " + m.iopf.pendingGroups(dev) + ", users "
                    + m.iopf.faultParamUsers(dev));
        }
    }

    @Benchmark
    public int inlineHandler() {
        return m.iopf.reportDeviceFault(dev, inlineLpig);
    }

    @Benchmark
    public int queuedHandler() {
        int ret = m.iopf.reportDeviceFault(dev, queuedLpig);
        m.loop.runUntilIdle();
        return ret;
    }
}
