package dev.iommulab.drivers;

import com.google.inject.Inject;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.iopf.IoPgfault;
import java.util.Objects;

/**
 * What the kernel gives every IOMMU driver, whatever its hardware: page frames for its tables and queues, io-pgfault,
 * the simulated clock and its timing model, the kernel log, the fault-path events, and the two overflow policies its
 * interrupt threads apply ({@code iopf.overflow-recovery}, {@code fault.overflow-recovery}). A driver is built from
 * its hardware, its own options and this; Guice assembles it from the bindings of the lower layers.
 *
 * @param frames           page frames for tables, queues and pages ({@code alloc_pages()})
 * @param iopf             io-pgfault: the driver reports page requests to it
 * @param loop             the simulated clock; the driver's threads run as its events
 * @param timing           how long driver work takes
 * @param log              the kernel log its messages go to
 * @param events           the fault-path events its page-request threads report
 * @param overflowRecovery what the page-request thread does after a page-request queue overflow
 * @param faultRecovery    what the fault thread does after a fault queue or fault record overflow
 */
public record DriverServices(FrameAllocator frames, IoPgfault iopf, EventLoop loop, TimingModel timing, KernelLog log,
                             FaultEvents events, OverflowRecovery overflowRecovery,
                             FaultOverflowRecovery faultRecovery) {

    /** Checks that every service is given. */
    @Inject
    public DriverServices {
        Objects.requireNonNull(frames, "frames");
        Objects.requireNonNull(iopf, "iopf");
        Objects.requireNonNull(loop, "loop");
        Objects.requireNonNull(timing, "timing");
        Objects.requireNonNull(log, "log");
        Objects.requireNonNull(events, "events");
        Objects.requireNonNull(overflowRecovery, "overflowRecovery");
        Objects.requireNonNull(faultRecovery, "faultRecovery");
    }

    /**
     * The services with the default policies: {@code discard-partials} after a page-request queue overflow, nothing
     * after a fault overflow.
     */
    public static DriverServices withDefaultPolicies(FrameAllocator frames, IoPgfault iopf, EventLoop loop,
                                                     TimingModel timing, KernelLog log, FaultEvents events) {
        return new DriverServices(frames, iopf, loop, timing, log, events, OverflowRecovery.DISCARD_PARTIALS,
                FaultOverflowRecovery.NONE);
    }

    /** The memory the frames come from. */
    public PhysicalMemory memory() {
        return frames.memory();
    }
}
