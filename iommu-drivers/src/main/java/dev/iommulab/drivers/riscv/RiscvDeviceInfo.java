package dev.iommulab.drivers.riscv;

import dev.iommulab.core.Device;
import dev.iommulab.drivers.DriverDeviceInfo;
import dev.iommulab.hw.pci.PcieEndpoint;

/**
 * The driver's per-device state, {@code struct riscv_iommu_info} with what the lab's PASID support adds: the common
 * part ({@link DriverDeviceInfo}: the IOPF reference count and the driver's record of what it attached at the RID and
 * at each PASID), where the device context is and the device's process directory table. A function can take I/O page
 * faults when its device context has {@code EN_PRI} ({@code pri_supported}): a function with a PDT, ATS on an IOMMU
 * with ATS, and a PRI capability. Without it the IOMMU answers its page requests itself.
 */
final class RiscvDeviceInfo extends DriverDeviceInfo<RiscvDomain> {

    /** Physical address of the device context. */
    final long dc;
    /** Root of the process directory table, 0 without one (the function has no PASID). */
    final long pdt;
    /** {@code pdtp.MODE} of the PDT (PD8, PD17, PD20), 0 without one. */
    final int pdtMode;

    RiscvDeviceInfo(Device dev, PcieEndpoint pci, long dc, long pdt, int pdtMode, boolean priSupported) {
        super(dev, pci, priSupported);
        this.dc = dc;
        this.pdt = pdt;
        this.pdtMode = pdtMode;
    }

    /** The {@code device_id}: the requester ID (segment 0). */
    int devid() {
        return dev().rid();
    }
}
