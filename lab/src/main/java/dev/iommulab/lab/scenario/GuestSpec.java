package dev.iommulab.lab.scenario;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One virtual machine of the {@code guests} section: its own kernel (IOMMU core, DMA API, drivers, log) behind a
 * virtual IOMMU, with guest-physical memory and devices the VMM emulates or assigns from the host.
 *
 * @param name          unique guest name, referenced by {@code guest:} in steps and expectations
 * @param memoryBytes   guest-physical memory, a positive multiple of 4 KiB
 * @param viommuModel   the virtual IOMMU, one of {@link #VIOMMU_MODELS}
 * @param viommuOptions its options (the model's {@code hardware.options}), in file order
 * @param devices       the guest's devices, names and BDFs unique within the guest
 */
public record GuestSpec(String name, long memoryBytes, String viommuModel, Map<String, Object> viommuOptions,
                        List<Device> devices) {

    /** The virtual IOMMUs a guest may have. */
    public static final List<String> VIOMMU_MODELS = List.of("virtio-iommu");
    /** Who provides a guest device. */
    public static final List<String> BACKINGS = List.of("emulated", "assigned");

    /**
     * A guest device: the endpoint as the guest sees it, and its backing.
     *
     * @param spec       the endpoint (name, BDF in the guest, profile, capabilities)
     * @param backing    {@code emulated} (the VMM emulates it and translates its DMA through the virtual IOMMU) or
     *                   {@code assigned} (a host function, {@code hostDevice}, passed through)
     * @param hostDevice the host device an assigned device is; null for an emulated one
     * @param viot       whether the guest firmware's VIOT table names the device as behind the virtual IOMMU; false:
     *                   the guest kernel never learns it is, never probes or attaches it, while the VMM still
     *                   translates its DMA (a misconfiguration that QEMU's default {@code boot-bypass} hides)
     */
    public record Device(DeviceSpec spec, String backing, String hostDevice, boolean viot) {

        public Device {
            Objects.requireNonNull(spec, "spec");
            Checks.oneOf(backing, BACKINGS, "backing");
            if (backing.equals("assigned") == (hostDevice == null)) {
                throw new IllegalArgumentException(spec.name() + ": host-device is given for, and only for, an "
                        + "assigned device");
            }
        }

        public boolean emulated() {
            return backing.equals("emulated");
        }
    }

    public GuestSpec {
        Checks.name(name, "guest name");
        if (memoryBytes <= 0 || (memoryBytes & 0xfff) != 0) {
            throw new IllegalArgumentException("guest memory must be a positive multiple of 4 KiB: " + memoryBytes);
        }
        Checks.oneOf(viommuModel, VIOMMU_MODELS, "viommu model");
        viommuOptions = Collections.unmodifiableMap(new LinkedHashMap<>(viommuOptions));
        devices = List.copyOf(devices);
    }

    /** The guest device with this name, if declared. */
    public java.util.Optional<Device> device(String deviceName) {
        return devices.stream().filter(d -> d.spec().name().equals(deviceName)).findFirst();
    }
}
