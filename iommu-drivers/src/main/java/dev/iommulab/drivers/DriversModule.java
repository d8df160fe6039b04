package dev.iommulab.drivers;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.iommulab.core.IommuOps;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.drivers.intel.IntelIommu;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.vtd.VtdUnit;
import dev.iommulab.iopf.Iopf;

/** The vendor driver bound to the machine's IOMMU unit, exposed to the core as {@link IommuOps}. */
public final class DriversModule extends AbstractModule {

    @Provides
    @Singleton
    IntelIommu intelIommu(VtdUnit unit, FrameAllocator frames, Iopf iopf, EventLoop loop, TimingModel timing,
                          KernelLog log, FaultEvents events) {
        return new IntelIommu(unit.config().name(), unit, frames, iopf, loop, timing, log, events);
    }

    @Provides
    IommuOps iommuOps(IntelIommu intel) {
        return intel;
    }
}
