package dev.iommulab.core;

import dev.iommulab.hw.pci.PcieEndpoint;
import java.util.Locale;
import java.util.Objects;

/**
 * A device the IOMMU core knows ({@code struct device} with its {@code dev_iommu}): a PCI function by
 * requester ID, the driver ({@link IommuOps}) of the IOMMU it sits behind, and its group.
 *
 * @see IommuCore#probeDevice
 */
public final class Device {

    private final String name;
    private final int rid;
    private final int maxPasids;
    private final IommuOps ops;
    private final boolean priSupported;
    private final boolean virtfn;
    private final PcieEndpoint pci;
    private IommuGroup group;

    Device(String name, int rid, int maxPasids, IommuOps ops, boolean priSupported, boolean virtfn) {
        this(name, rid, maxPasids, ops, priSupported, virtfn, null);
    }

    Device(String name, int rid, int maxPasids, IommuOps ops, boolean priSupported, boolean virtfn,
           PcieEndpoint pci) {
        this.pci = pci;
        this.name = Objects.requireNonNull(name, "name");
        this.rid = rid;
        this.maxPasids = maxPasids;
        this.ops = Objects.requireNonNull(ops, "ops");
        this.priSupported = priSupported;
        this.virtfn = virtfn;
    }

    /** Counterpart of pci_pri_supported(): the function has a PRI capability. */
    public boolean priSupported() {
        return priSupported;
    }

    /** {@code pci_dev->is_virtfn}: an SR-IOV Virtual Function. */
    public boolean virtfn() {
        return virtfn;
    }

    /**
     * The PCI function this device is ({@code to_pci_dev(dev)}), as {@link IommuCore#probeDevice} was given it; null
     * only for a device a core test built without a function. For reading its state (PRI credits, for the fault-path
     * checks of the tests); the core never drives the function through it.
     */
    public PcieEndpoint pci() {
        return pci;
    }

    public String name() {
        return name;
    }

    /** PCI requester ID (bus << 8 | devfn). */
    public int rid() {
        return rid;
    }

    /** dev->iommu->max_pasids: PASIDs usable by this device (0 without PASID support). */
    public int maxPasids() {
        return maxPasids;
    }

    /** The driver of the IOMMU this device is behind (dev_iommu_ops()). */
    public IommuOps ops() {
        return ops;
    }

    /** The device's group, or null before probe finished. */
    public IommuGroup group() {
        return group;
    }

    void setGroup(IommuGroup group) {
        this.group = group;
    }

    /** Bus:device.function, as dev_name() prints a PCI device (domain 0000). */
    public String pciName() {
        return pciName(rid);
    }

    /** The dev_name() of the PCI function with requester ID {@code rid} (domain 0000), e.g. {@code 0000:00:04.0}. */
    public static String pciName(int rid) {
        return String.format(Locale.ROOT, "0000:%02x:%02x.%d", rid >>> 8, (rid >>> 3) & 0x1f, rid & 7);
    }

    @Override
    public String toString() {
        return name + "(" + pciName() + ")";
    }
}
