package dev.iommulab.core;

import dev.iommulab.core.fault.IopfHandler;
import dev.iommulab.core.mm.MmStruct;
import java.util.Objects;

/**
 * {@code struct iommu_domain}: a translation context, allocated by a driver. A non-null
 * {@link #iopfHandler()} makes it fault-capable.
 */
public final class IommuDomain {

    private final DomainType type;
    private final IommuOps owner;
    private final MmStruct mm;
    private IopfHandler iopfHandler;
    private int users;
    private Object driverData;

    /** A domain of {@code type} allocated by {@code owner}; {@code mm} only for SVA domains. */
    public IommuDomain(DomainType type, IommuOps owner, MmStruct mm) {
        this.type = Objects.requireNonNull(type, "type");
        this.owner = Objects.requireNonNull(owner, "owner");
        if ((type == DomainType.SVA) != (mm != null)) {
            throw new IllegalArgumentException("an SVA domain, and only an SVA domain, has an mm");
        }
        this.mm = mm;
    }

    public DomainType type() {
        return type;
    }

    /** The driver that allocated the domain. */
    public IommuOps owner() {
        return owner;
    }

    /** The SVA domain's mm (domain->mm), or null. */
    public MmStruct mm() {
        return mm;
    }

    public IopfHandler iopfHandler() {
        return iopfHandler;
    }

    public void setIopfHandler(IopfHandler handler) {
        this.iopfHandler = handler;
    }

    /** SVA: number of device attachments using this domain (domain->users). */
    public int users() {
        return users;
    }

    public void setUsers(int users) {
        this.users = users;
    }

    /** The driver's private state for this domain (e.g. its domain id). */
    public Object driverData() {
        return driverData;
    }

    public void setDriverData(Object data) {
        this.driverData = data;
    }

    @Override
    public String toString() {
        return type + (mm != null ? "[" + mm.name() + "]" : "");
    }
}
