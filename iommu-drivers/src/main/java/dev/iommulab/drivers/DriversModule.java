package dev.iommulab.drivers;

import com.google.inject.AbstractModule;
import com.google.inject.multibindings.MapBinder;
import dev.iommulab.drivers.intel.VtdPlatform;
import dev.iommulab.drivers.riscv.RiscvPlatform;
import dev.iommulab.drivers.virtio.VirtioPlatform;

/**
 * The platforms this lab knows, by {@code hardware.model} name. Another module may add one:
 * {@code MapBinder.newMapBinder(binder(), String.class, Platform.class).addBinding("mine").toInstance(...)}.
 * Also registers the drivers' policies ({@link DriverPolicyModule}).
 */
public final class DriversModule extends AbstractModule {

    @Override
    protected void configure() {
        MapBinder<String, Platform> platforms = MapBinder.newMapBinder(binder(), String.class, Platform.class);
        platforms.addBinding("vtd").toInstance(new VtdPlatform());
        platforms.addBinding("riscv").toInstance(new RiscvPlatform());
        platforms.addBinding("virtio-iommu").toInstance(new VirtioPlatform());
        install(new DriverPolicyModule());
        install(DriverPolicyModule.defaults());
    }
}
