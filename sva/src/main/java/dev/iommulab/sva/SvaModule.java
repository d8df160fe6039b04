package dev.iommulab.sva;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.iommulab.core.GlobalPasidAllocator;
import dev.iommulab.core.IommuCore;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.iopf.IoPgfault;

/** Shared virtual addressing. */
public final class SvaModule extends AbstractModule {

    @Provides
    @Singleton
    IommuSva iommuSva(IommuCore core, GlobalPasidAllocator pasids, IoPgfault iopf, EventLoop loop) {
        return new IommuSva(core, pasids, iopf, loop);
    }
}
