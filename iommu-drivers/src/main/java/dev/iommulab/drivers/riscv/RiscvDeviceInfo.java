package dev.iommulab.drivers.riscv;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuCore;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.HashMap;
import java.util.Map;

/**
 * The driver's per-device state, {@code struct riscv_iommu_info} with what the lab's PASID support adds:
 * where the device context is, the device's process directory table and the IOPF reference count, and the driver's
 * own record of what it attached at the RID and at each PASID, typed, so an op handed the core's {@code old} domain
 * finds the driver's state for it without a cast.
 */
final class RiscvDeviceInfo {

    final Device dev;
    final PcieEndpoint pci;
    /** Physical address of the device context. */
    final long dc;
    /** Root of the process directory table, 0 without one (the function has no PASID). */
    final long pdt;
    /** {@code pdtp.MODE} of the PDT (PD8, PD17, PD20), 0 without one. */
    final int pdtMode;
    /**
     * The device context has {@code EN_PRI} ({@code pri_supported}): a function with a PDT, ATS on an IOMMU with
     * ATS, and a PRI capability. Without it the IOMMU answers its page requests itself.
     */
    final boolean priSupported;
    /** Number of fault-capable attachments ({@code iopf_refcount}). */
    int iopfRefcount;
    /** The domain translating the RID ({@code info->domain}), null while blocked. */
    RiscvDomain ridDomain;
    /** What each attached PASID translates with. */
    private final Map<Integer, RiscvDomain> pasidDomains = new HashMap<>();

    RiscvDeviceInfo(Device dev, PcieEndpoint pci, long dc, long pdt, int pdtMode, boolean priSupported) {
        this.dev = dev;
        this.pci = pci;
        this.dc = dc;
        this.pdt = pdt;
        this.pdtMode = pdtMode;
        this.priSupported = priSupported;
    }

    /** The {@code device_id}: the requester ID (segment 0). */
    int devid() {
        return dev.rid();
    }

    /**
     * What the driver attached at {@code pasid} (the RID for IOMMU_NO_PASID), null for nothing; it must be the core's
     * {@code expected} domain (the core hands the driver what it published).
     *
     * @throws IllegalStateException when the driver's record and the core disagree (a bug, never an errno)
     */
    RiscvDomain attached(int pasid, IommuDomain expected) {
        RiscvDomain d = pasid == IommuCore.IOMMU_NO_PASID ? ridDomain : pasidDomains.get(pasid);
        if ((d == null ? null : d.domain()) != expected) {
            throw new IllegalStateException(dev + " PASID " + pasid + ": the driver has " + d + ", the core "
                    + expected);
        }
        return d;
    }

    /** Records {@code domain} at {@code pasid} (the RID for IOMMU_NO_PASID); null: blocked. */
    void setAttached(int pasid, RiscvDomain domain) {
        if (pasid == IommuCore.IOMMU_NO_PASID) {
            ridDomain = domain;
        } else if (domain == null) {
            pasidDomains.remove(pasid);
        } else {
            pasidDomains.put(pasid, domain);
        }
    }
}
