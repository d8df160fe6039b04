package dev.iommulab.bench;

import dev.iommulab.core.Device;
import dev.iommulab.core.fault.IommuFault;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The LPIG path of one device while {@code otherPartials} non-last requests are parked on OTHER devices of
 * the same iopf queue (100 devices, spread evenly, every grpid 0-511 present, including the measured
 * one). Issue 4: the cost must not grow with other devices' partials — compare 0 with 10,000.
 *
 * <ul>
 *   <li>{@code lpig}: a single-request group (inline handler: answer + free inside the report).</li>
 *   <li>{@code partialThenLpig}: one partial of the measured device, then its LPIG (a two-request group).</li>
 * </ul>
 */
public class IopfForeignPartialsBenchmark extends LabBenchmark {

    private static final int OTHER_DEVICES = 100;
    private static final int PASID = 1;
    private static final int GRPID = 7;

    @Param({"0", "10000"})
    public int otherPartials;

    private IopfBenchMachine m;
    private Device dev;
    private IommuFault lpig;
    private IommuFault partial;

    @Setup(Level.Trial)
    public void setUp() {
        m = new IopfBenchMachine();
        dev = m.device("accel0", 0x0100);
        m.attach(dev, PASID, m.inlineHandler());
        Device[] others = new Device[OTHER_DEVICES];
        for (int i = 0; i < OTHER_DEVICES; i++) {
            others[i] = m.device("other" + i, 0x0200 + i * 8);
            m.attach(others[i], PASID, m.inlineHandler());
        }
        for (int i = 0; i < otherPartials; i++) {
            Device other = others[i % OTHER_DEVICES];
            m.iopf.reportDeviceFault(other, IopfBenchMachine.partial(PASID, (i / OTHER_DEVICES) % 512, i << 12));
        }
        int parked = 0;
        for (Device other : others) {
            parked += m.iopf.partials(other).size();
        }
        if (parked != otherPartials) {
            throw new IllegalStateException(parked + " partials parked, expected " + otherPartials);
        }
        lpig = IopfBenchMachine.lpig(PASID, GRPID);
        partial = IopfBenchMachine.partial(PASID, GRPID, 0x5000_0000L);
    }

    @TearDown(Level.Trial)
    public void check() {
        if (m.iopf.pendingGroups(dev) != 0 || !m.iopf.partials(dev).isEmpty() || m.iopf.faultParamUsers(dev) != 1) {
            throw new IllegalStateException("measured device left state behind");
        }
    }

    @Benchmark
    public int lpig() {
        return m.iopf.reportDeviceFault(dev, lpig);
    }

    @Benchmark
    public int partialThenLpig() {
        m.iopf.reportDeviceFault(dev, partial);
        return m.iopf.reportDeviceFault(dev, lpig);
    }
}
