package dev.iommulab.drivers;

import com.google.inject.Module;
import java.util.List;
import java.util.Map;

/**
 * An IOMMU platform the lab can build machines with: a hardware model, the driver for it, and the CPU
 * page-table format of the architecture it belongs to. Platforms are registered by name with a Guice
 * {@code MapBinder<String, Platform>} (see {@link DriversModule}); a scenario's {@code hardware.model}
 * picks one.
 */
public interface Platform {

    /** Keys of {@code hardware.options} this platform accepts. */
    List<String> optionKeys();

    /**
     * The module that binds, for one machine, {@code IommuHardware} (the model devices talk to),
     * {@code IommuOps} (its driver) and {@code CpuPageTable} (the process page-table format).
     *
     * @param options the scenario's {@code hardware.options}
     * @throws PlatformOptionException for an unknown key or a bad value
     */
    Module module(Map<String, Object> options);
}
