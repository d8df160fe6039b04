package dev.iommulab.hw;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.name.Named;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdUnit;

/**
 * The hardware of one machine: the event loop, physical memory, the PCIe fabric and the IOMMU unit.
 * Needs from the assembling module: {@code @Named("seed") long}, a {@link VtdConfig} and a
 * {@link HwFaultObserver}.
 */
public final class HwModelModule extends AbstractModule {

    /** Physical memory of the simulated machine. */
    public static final long MEMORY_BYTES = 1L << 30;

    @Provides
    @Singleton
    EventLoop eventLoop(@Named("seed") long seed) {
        return new EventLoop(seed);
    }

    @Provides
    @Singleton
    TimingModel timing() {
        return TimingModel.ESTIMATES;
    }

    @Provides
    @Singleton
    PhysicalMemory memory() {
        return new PhysicalMemory(MEMORY_BYTES);
    }

    @Provides
    @Singleton
    PcieFabric fabric(EventLoop loop, TimingModel timing) {
        return new PcieFabric(loop, timing.pcieTlpNs());
    }

    @Provides
    @Singleton
    VtdUnit vtdUnit(VtdConfig config, PhysicalMemory memory, EventLoop loop, TimingModel timing, PcieFabric fabric,
                    HwFaultObserver observer) {
        return new VtdUnit(config, memory, loop, timing, fabric, observer);
    }
}
