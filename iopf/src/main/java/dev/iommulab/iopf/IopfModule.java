package dev.iommulab.iopf;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.fault.FaultEvents;
import dev.iommulab.core.kernel.FailureInjector;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;

/** io-pgfault. */
public final class IopfModule extends AbstractModule {

    @Provides
    @Singleton
    Iopf iopf(IommuCore core, EventLoop loop, TimingModel timing, FaultEvents events, FailureInjector failures,
              KernelLog log) {
        return new Iopf(core, loop, timing, events, failures, log);
    }
}
