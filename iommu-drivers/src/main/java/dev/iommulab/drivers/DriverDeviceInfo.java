package dev.iommulab.drivers;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.HashMap;
import java.util.Map;

/**
 * What every driver keeps for a probed device, whatever its hardware: the device and its PCIe function, whether the
 * function can take I/O page faults through the IOMMU, the IOPF reference count ({@code info->iopf_refcount}, kept by
 * {@link IopfRefcount}), and the driver's own record of what it attached at the RID ({@code info->domain}) and at each
 * PASID, typed as the driver's domain kind {@code D}, so an op handed the core's {@code old} domain finds the driver's
 * state for it without a cast. Each driver extends it with what its hardware needs ({@code struct device_domain_info}
 * in intel/iommu.h, {@code struct riscv_iommu_info} in riscv/iommu.c).
 *
 * @param <D> the driver's domain kind: the domain ops its domains carry
 */
public abstract class DriverDeviceInfo<D extends IommuDomainOps> {

    private final Device dev;
    private final PcieEndpoint pci;
    private final boolean priSupported;
    /** Number of fault-capable attachments; only {@link IopfRefcount} changes it. */
    int iopfRefcount;
    /** What the RID translates with ({@code info->domain}); null while blocked. */
    private D ridDomain;
    /** What each attached PASID translates with. */
    private final Map<Integer, D> pasidDomains = new HashMap<>();

    /**
     * @param priSupported the function can take I/O page faults through the IOMMU ({@code pri_supported}); without
     *                     it a fault-capable attachment is refused (ENODEV)
     */
    protected DriverDeviceInfo(Device dev, PcieEndpoint pci, boolean priSupported) {
        this.dev = dev;
        this.pci = pci;
        this.priSupported = priSupported;
    }

    public final Device dev() {
        return dev;
    }

    public final PcieEndpoint pci() {
        return pci;
    }

    /** Whether the function can take I/O page faults through the IOMMU ({@code pri_supported}). */
    public final boolean priSupported() {
        return priSupported;
    }

    /** Number of fault-capable attachments ({@code info->iopf_refcount}); IOPF is on while it is above 0. */
    public final int iopfRefcount() {
        return iopfRefcount;
    }

    /** What translates the RID ({@code info->domain}), null while blocked. */
    public final D ridDomain() {
        return ridDomain;
    }

    /**
     * What the driver attached at {@code pasid} (the RID for IOMMU_NO_PASID), null for nothing; it must be the core's
     * {@code expected} domain (the core hands the driver what it published).
     *
     * @throws IllegalStateException when the driver's record and the core disagree (a bug, never an errno)
     */
    public final D attached(int pasid, IommuDomain expected) {
        D d = pasid == IommuCore.IOMMU_NO_PASID ? ridDomain : pasidDomains.get(pasid);
        if (d != (expected == null ? null : expected.ops())) {
            throw new IllegalStateException(dev + " PASID " + pasid + ": the driver has " + d + ", the core "
                    + expected);
        }
        return d;
    }

    /** Records {@code domain} at {@code pasid} (the RID for IOMMU_NO_PASID); null: blocked. */
    public final void setAttached(int pasid, D domain) {
        if (pasid == IommuCore.IOMMU_NO_PASID) {
            ridDomain = domain;
        } else if (domain == null) {
            pasidDomains.remove(pasid);
        } else {
            pasidDomains.put(pasid, domain);
        }
    }
}
