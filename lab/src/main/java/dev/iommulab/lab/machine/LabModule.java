package dev.iommulab.lab.machine;

import com.google.inject.AbstractModule;
import com.google.inject.name.Names;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.viommu.ViommuEventObserver;

/** What the lab decides for a machine: the seed, who sees hardware faults, and the user-space clients' policies. */
final class LabModule extends AbstractModule {

    private final long seed;
    private final FaultRecorder faults;

    LabModule(long seed, FaultRecorder faults) {
        this.seed = seed;
        this.faults = faults;
    }

    @Override
    protected void configure() {
        bindConstant().annotatedWith(Names.named("seed")).to(seed);
        bind(HwFaultObserver.class).toInstance(faults);
        bind(FaultRecorder.class).toInstance(faults);
        bind(ViommuEventObserver.class).toInstance(faults);
        install(new UserspacePolicyModule());
        install(UserspacePolicyModule.defaults());
    }
}
