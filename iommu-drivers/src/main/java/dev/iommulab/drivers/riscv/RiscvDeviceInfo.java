package dev.iommulab.drivers.riscv;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.hw.pci.PcieEndpoint;

/**
 * The driver's per-device state, {@code struct riscv_iommu_info} with what the lab's PASID support adds:
 * where the device context is, the device's process directory table and the IOPF reference count.
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
    IommuDomain ridDomain;

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
}
