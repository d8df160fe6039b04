package dev.iommulab.hw;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.name.Named;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;

/**
 * The hardware every machine has: the event loop, physical memory and the PCIe fabric. The IOMMU model
 * comes with the machine's platform. Needs {@code @Named("seed") long} from the assembling module.
 */
public final class HwModelModule extends AbstractModule {

    /**
     * Physical memory of the simulated machine: 4 GiB, room for a 1 GiB first touch with its page tables and
     * queues. Frames are allocated when first written, so what is never touched costs nothing.
     */
    public static final long MEMORY_BYTES = 4L << 30;

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
}
