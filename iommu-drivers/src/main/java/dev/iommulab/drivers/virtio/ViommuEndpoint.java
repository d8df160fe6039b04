package dev.iommulab.drivers.virtio;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuResvRegion;
import dev.iommulab.drivers.DriverDeviceInfo;
import dev.iommulab.hw.pci.PcieEndpoint;

import java.util.List;

/**
 * {@code struct viommu_endpoint}: a device behind the virtio-iommu, its reserved regions as PROBE reported them
 * (sorted by start), and the domain it is attached to ({@code vdev->vdomain}, the common record of the RID's domain).
 * A virtio-iommu has no PRI: no endpoint takes I/O page faults.
 */
final class ViommuEndpoint extends DriverDeviceInfo<ViommuDomain> {

    final List<IommuResvRegion> resvRegions;

    ViommuEndpoint(Device dev, PcieEndpoint pci, List<IommuResvRegion> resvRegions) {
        super(dev, pci, false);
        this.resvRegions = List.copyOf(resvRegions);
    }

    /** The endpoint ID the device knows it by ({@code fwspec->ids[0]}): the PCI requester ID. */
    int id() {
        return dev().rid();
    }
}
