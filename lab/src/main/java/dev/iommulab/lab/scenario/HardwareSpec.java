package dev.iommulab.lab.scenario;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code hardware} section: which IOMMU model to build and its options.
 *
 * <p>Option keys are not checked here; the machine builder checks them against the chosen model.
 * The loader gives each option value as a {@link Long} (decimal, {@code 0x} hex or {@code KiB/MiB/GiB}
 * size), a {@link Boolean} ({@code true}/{@code false}) or else the {@link String} as written.
 *
 * @param model   one of {@link #MODELS}
 * @param options model options in file order (unmodifiable)
 */
public record HardwareSpec(String model, Map<String, Object> options) {

    /** The hardware models a scenario may name. */
    public static final List<String> MODELS = List.of("vtd", "riscv", "smmuv3", "amd", "virtio-iommu");

    /** Validates the model name and copies the options, keeping their order. */
    public HardwareSpec {
        Checks.oneOf(model, MODELS, "hardware model");
        Objects.requireNonNull(options, "options");
        options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
    }

    /** A hardware spec with no options. */
    public static HardwareSpec of(String model) {
        return new HardwareSpec(model, Map.of());
    }
}
