package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.drivers.DriverDeviceInfo;
import dev.iommulab.hw.pci.PcieEndpoint;

/**
 * {@code struct device_domain_info}: the driver's per-device state — the common part ({@link DriverDeviceInfo}: the
 * IOPF reference count and the driver's record of what it attached at the RID ({@code info->domain}) and at each
 * PASID) and the device's PASID directory. A function can take I/O page faults when it has PRI.
 */
final class DeviceInfo extends DriverDeviceInfo<IntelDomain> {

    /** Physical address of the device's PASID directory. */
    final long pasidDir;

    DeviceInfo(Device dev, PcieEndpoint pci, long pasidDir) {
        super(dev, pci, pci.config().pri());
        this.pasidDir = pasidDir;
    }

    int rid() {
        return dev().rid();
    }
}
