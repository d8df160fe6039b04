package dev.iommulab.core;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.iommulab.core.dma.DmaPolicyModule;
import dev.iommulab.core.dma.IommuDma;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.sim.EventLoop;

/**
 * The IOMMU core and the kernel services it needs: log, page allocator, fault injection, PASID space, the DMA
 * API ({@link IommuDma}, with the policy {@code dma.flush} of {@link DmaPolicyModule}), and the kernel version
 * followed (latest; the lab overrides it from the scenario's {@code kernel}).
 */
public final class CoreModule extends AbstractModule {

    /** Memory below this is left to firmware; the page allocator starts here. */
    public static final long FIRST_FRAME = 1L << 20;

    @Override
    protected void configure() {
        bind(IommuCore.class).in(Singleton.class);
        bind(GlobalPasidAllocator.class).in(Singleton.class);
        bind(FaultEvents.class).in(Singleton.class);
        bind(FailureInjector.class).in(Singleton.class);
        bind(KernelVersion.class).toInstance(KernelVersion.LATEST);
        bind(IommuDma.class).in(Singleton.class);
        install(new DmaPolicyModule());
        install(DmaPolicyModule.defaults());
    }

    @Provides
    @Singleton
    KernelLog kernelLog(EventLoop loop) {
        return new KernelLog(loop);
    }

    @Provides
    @Singleton
    FrameAllocator frameAllocator(PhysicalMemory memory, FailureInjector failures) {
        return new FrameAllocator(memory, FIRST_FRAME, failures);
    }
}
