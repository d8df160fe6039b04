package dev.iommulab.drivers.intel;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.HashMap;
import java.util.Map;

/**
 * {@code struct device_domain_info}: the driver's per-device state, with the driver's own record of what it attached
 * at the RID ({@code info->domain}) and at each PASID, typed, so an op handed the core's {@code old} domain finds the
 * driver's state for it without a cast.
 */
final class DeviceInfo {

    final Device dev;
    final PcieEndpoint pci;
    /** Physical address of the device's PASID directory. */
    final long pasidDir;
    /** Number of fault-capable attachments (info->iopf_refcount). */
    int iopfRefcount;
    /** What the RID_PASID entry translates with ({@code info->domain}); null while blocked. */
    IntelDomain ridDomain;
    /** What each attached PASID translates with. */
    private final Map<Integer, IntelDomain> pasidDomains = new HashMap<>();

    DeviceInfo(Device dev, PcieEndpoint pci, long pasidDir) {
        this.dev = dev;
        this.pci = pci;
        this.pasidDir = pasidDir;
    }

    int rid() {
        return dev.rid();
    }

    /**
     * What the driver attached at {@code pasid} (the RID for IOMMU_NO_PASID), null for nothing; it must be the core's
     * {@code expected} domain (the core hands the driver what it published).
     *
     * @throws IllegalStateException when the driver's record and the core disagree (a bug, never an errno)
     */
    IntelDomain attached(int pasid, IommuDomain expected) {
        IntelDomain d = pasid == IommuCore.IOMMU_NO_PASID ? ridDomain : pasidDomains.get(pasid);
        if ((d == null ? null : d.domain()) != expected) {
            throw new IllegalStateException(dev + " PASID " + pasid + ": the driver has " + d + ", the core "
                    + expected);
        }
        return d;
    }

    /** Records {@code domain} at {@code pasid} (the RID for IOMMU_NO_PASID); null: blocked. */
    void setAttached(int pasid, IntelDomain domain) {
        if (pasid == IommuCore.IOMMU_NO_PASID) {
            ridDomain = domain;
        } else if (domain == null) {
            pasidDomains.remove(pasid);
        } else {
            pasidDomains.put(pasid, domain);
        }
    }
}
