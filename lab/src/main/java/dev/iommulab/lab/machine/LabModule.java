package dev.iommulab.lab.machine;

import com.google.inject.AbstractModule;
import com.google.inject.name.Names;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.vtd.VtdConfig;

/** What the lab decides for a machine: the seed, the IOMMU unit's options, and who sees hardware faults. */
final class LabModule extends AbstractModule {

    private final long seed;
    private final VtdConfig vtdConfig;
    private final FaultRecorder faults;

    LabModule(long seed, VtdConfig vtdConfig, FaultRecorder faults) {
        this.seed = seed;
        this.vtdConfig = vtdConfig;
        this.faults = faults;
    }

    @Override
    protected void configure() {
        bindConstant().annotatedWith(Names.named("seed")).to(seed);
        bind(VtdConfig.class).toInstance(vtdConfig);
        bind(HwFaultObserver.class).toInstance(faults);
        bind(FaultRecorder.class).toInstance(faults);
    }
}
