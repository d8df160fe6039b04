package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.hw.pci.PcieEndpoint;

/** {@code struct device_domain_info}: the driver's per-device state. */
final class DeviceInfo {

    final Device dev;
    final PcieEndpoint pci;
    /** Physical address of the device's PASID directory. */
    final long pasidDir;
    /** Number of fault-capable attachments (info->iopf_refcount). */
    int iopfRefcount;
    /** What the RID_PASID entry translates with ({@code info->domain}); null while blocked. */
    IommuDomain ridDomain;

    DeviceInfo(Device dev, PcieEndpoint pci, long pasidDir) {
        this.dev = dev;
        this.pci = pci;
        this.pasidDir = pasidDir;
    }

    int rid() {
        return dev.rid();
    }
}
