package dev.iommulab.drivers;

import dev.iommulab.core.Device;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuOps;
import dev.iommulab.hw.pci.PcieEndpoint;

/**
 * What every driver's ops table has besides its ops: its name and its static domains, which {@code struct iommu_ops}
 * holds as data ({@code ops->blocked_domain}, {@code ops->identity_domain}): one blocking and one identity domain per
 * driver instance, built with the driver and handed to the core as they are. Its probe_device is its unit's
 * ({@link DriverUnit#probeDevice}).
 */
public abstract class IommuDriver implements IommuOps {

    private final String name;
    private IommuDomain blocked;
    private IommuDomain identity;
    private boolean staticSet;

    protected IommuDriver(String name) {
        this.name = name;
    }

    /**
     * Sets the static domains; a driver calls it once from its constructor, when the state its domains need exists.
     * Either may be null for a driver without it (virtio-iommu has no blocked domain, and an identity domain only
     * with BYPASS_CONFIG): the core then blocks with an empty paging domain.
     */
    protected final void staticDomains(DriverDomain blocked, DriverDomain identity) {
        if (staticSet) {
            throw new IllegalStateException(name + ": static domains set twice");
        }
        staticSet = true;
        this.blocked = blocked == null ? null : blocked.domain();
        this.identity = identity == null ? null : identity.domain();
    }

    @Override
    public final String name() {
        return name;
    }

    /** The driver's state of its IOMMU. */
    protected abstract DriverUnit<?> unit();

    /** {@code probe_device} and {@code probe_finalize}: {@link DriverUnit#probeDevice} of the driver's unit. */
    @Override
    public final void probeDevice(Device dev, PcieEndpoint pci) {
        unit().probeDevice(dev, pci);
    }

    /** {@code ops->blocked_domain}. */
    @Override
    public final IommuDomain blockedDomain() {
        return blocked;
    }

    /** {@code ops->identity_domain}. */
    @Override
    public final IommuDomain identityDomain() {
        return identity;
    }
}
