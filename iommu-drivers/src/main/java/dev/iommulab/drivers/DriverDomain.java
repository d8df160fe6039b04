package dev.iommulab.drivers;

import dev.iommulab.core.DomainType;
import dev.iommulab.core.IommuDomain;
import dev.iommulab.core.IommuDomainOps;
import dev.iommulab.core.IommuOps;
import java.util.function.Function;

/**
 * A driver's domain: the ops of one {@link IommuDomain} together with the core's view of it, which it embeds as
 * {@code struct dmar_domain} and {@code struct riscv_iommu_domain} embed their {@code struct iommu_domain} — the
 * domain carries these ops ({@code domain->ops}) and an op finds the driver's state as {@code this}, never by a cast
 * of private data. Each kind of domain a driver has (blocked, identity, paging, nested, SVA) extends it, directly or
 * through {@link AttachableDomain}, with what the driver keeps for that kind.
 */
public abstract class DriverDomain implements IommuDomainOps {

    private final IommuDomain domain;

    /**
     * @param alloc builds the core's domain around the ops it is given (these), e.g.
     *              {@code ops -> IommuDomain.paging(owner, ops, pgtable)}
     */
    protected DriverDomain(Function<IommuDomainOps, IommuDomain> alloc) {
        this.domain = alloc.apply(this);
        if (domain.ops() != this) {
            throw new IllegalArgumentException("the domain must carry the ops it was built around");
        }
    }

    /** A domain without page table or mm: a static BLOCKED or IDENTITY domain of {@code owner}. */
    protected DriverDomain(DomainType type, IommuOps owner) {
        this(ops -> new IommuDomain(type, owner, ops, null));
    }

    /** The core's view of this domain ({@code &dmar_domain->domain}). */
    public final IommuDomain domain() {
        return domain;
    }
}
