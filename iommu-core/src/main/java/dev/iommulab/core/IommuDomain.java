package dev.iommulab.core;

import dev.iommulab.core.fault.IopfHandler;
import dev.iommulab.core.mm.MmStruct;
import dev.iommulab.core.pgtable.IoPgtable;
import java.util.Objects;

/**
 * {@code struct iommu_domain}: a translation context, allocated by a driver. A non-null
 * {@link #iopfHandler()} makes it fault-capable. A paging domain carries its page table ({@link #pgtable()},
 * the io-pgtable the driver set up for its hardware format) and the page sizes it maps
 * ({@code pgsize_bitmap}); a nested domain names its parent (the second stage it is nested on). Every domain carries
 * the ops its driver chose for its type ({@link #ops()}, {@code domain->ops}); what the driver keeps for the domain
 * lives in that ops object, typed, never in the domain.
 */
public final class IommuDomain {

    private DomainType type;
    private final IommuOps owner;
    private final IommuDomainOps ops;
    private final MmStruct mm;
    private final IoPgtable pgtable;
    private final IommuDomain parent;
    /** Page sizes and last IOVA of a paging domain without an io-pgtable (0 for every other domain). */
    private final long ownPgsizeBitmap;
    private final long ownApertureEnd;
    private IopfHandler iopfHandler;
    private int users;

    /**
     * A domain of {@code type} allocated by {@code owner} ({@code domain->owner}) with the domain ops {@code ops}
     * ({@code domain->ops}); {@code mm} only for SVA domains. The constructor only stores {@code ops}: a driver may
     * build the domain from inside the constructor of its ops object, as {@code struct dmar_domain} embeds its
     * {@code struct iommu_domain}.
     */
    public IommuDomain(DomainType type, IommuOps owner, IommuDomainOps ops, MmStruct mm) {
        this(type, owner, ops, mm, null, null, 0, 0);
    }

    private IommuDomain(DomainType type, IommuOps owner, IommuDomainOps ops, MmStruct mm, IoPgtable pgtable,
                        IommuDomain parent, long ownPgsizeBitmap, long ownApertureEnd) {
        this.type = Objects.requireNonNull(type, "type");
        this.owner = Objects.requireNonNull(owner, "owner");
        this.ops = Objects.requireNonNull(ops, "ops");
        if ((type == DomainType.SVA) != (mm != null)) {
            throw new IllegalArgumentException("an SVA domain, and only an SVA domain, has an mm");
        }
        if (parent != null && type != DomainType.NESTED) {
            throw new IllegalArgumentException("only a NESTED domain has a parent");
        }
        this.mm = mm;
        this.pgtable = pgtable;
        this.parent = parent;
        this.ownPgsizeBitmap = ownPgsizeBitmap;
        this.ownApertureEnd = ownApertureEnd;
    }

    /**
     * A paging domain (UNMANAGED until the core makes it DMA) translating through {@code pgtable}, as a driver's
     * {@code domain_alloc_paging} returns it.
     */
    public static IommuDomain paging(IommuOps owner, IommuDomainOps ops, IoPgtable pgtable) {
        return new IommuDomain(DomainType.UNMANAGED, owner, ops, null, Objects.requireNonNull(pgtable, "pgtable"),
                null, 0, 0);
    }

    /**
     * A paging domain (UNMANAGED until the core makes it DMA) whose driver keeps the mappings itself, through its
     * own {@link IommuDomainOps#mapPages}, {@link IommuDomainOps#unmapPages} and {@link IommuDomainOps#iovaToPhys}
     * rather than an io-pgtable — as virtio-iommu's viommu_domain_alloc_paging() does.
     *
     * @param pgsizeBitmap {@code domain->pgsize_bitmap}, not 0
     * @param apertureEnd  {@code domain->geometry.aperture_end}: the last IOVA the domain translates
     */
    public static IommuDomain paging(IommuOps owner, IommuDomainOps ops, long pgsizeBitmap, long apertureEnd) {
        if (pgsizeBitmap == 0) {
            throw new IllegalArgumentException("a paging domain maps at least one page size");
        }
        return new IommuDomain(DomainType.UNMANAGED, owner, ops, null, null, null, pgsizeBitmap, apertureEnd);
    }

    /** A NESTED domain on the paging domain {@code parent}, as a driver's {@code domain_alloc_nested} returns it. */
    public static IommuDomain nested(IommuOps owner, IommuDomainOps ops, IommuDomain parent) {
        if (!Objects.requireNonNull(parent, "parent").type().isPaging()) {
            throw new IllegalArgumentException("a nested domain's parent is a paging domain, not " + parent.type());
        }
        return new IommuDomain(DomainType.NESTED, owner, ops, null, null, parent, 0, 0);
    }

    public DomainType type() {
        return type;
    }

    /** iommu_domain_init() setting the type the core allocated a paging domain for (DMA or UNMANAGED). */
    void initType(DomainType pagingType) {
        if (pgsizeBitmap() == 0 || !pagingType.isPaging()) {
            throw new IllegalArgumentException(pagingType + " for a " + type + " domain");
        }
        this.type = pagingType;
    }

    /**
     * {@code domain->type = IOMMU_DOMAIN_DMA} in iommu_dma_init_domain(): a DMA_FQ domain whose flush queue cannot
     * be used (the driver lacks IOMMU_CAP_DEFERRED_FLUSH for the device) falls back to strict invalidation.
     *
     * @throws IllegalStateException for any other type
     */
    public void fallBackToStrict() {
        if (type != DomainType.DMA_FQ) {
            throw new IllegalStateException("only a DMA_FQ domain falls back to DMA, not " + type);
        }
        this.type = DomainType.DMA;
    }

    /** The driver that allocated the domain ({@code domain->owner}). */
    public IommuOps owner() {
        return owner;
    }

    /** The domain's ops ({@code domain->ops}), chosen by the driver for this domain's type. */
    public IommuDomainOps ops() {
        return ops;
    }

    /** The SVA domain's mm (domain->mm), or null. */
    public MmStruct mm() {
        return mm;
    }

    /** The io-pgtable of a paging domain, or null for every other type and for a driver that maps on its own. */
    public IoPgtable pgtable() {
        return pgtable;
    }

    /** {@code domain->pgsize_bitmap}: the page sizes the domain maps (0 for a domain without a page table). */
    public long pgsizeBitmap() {
        return pgtable == null ? ownPgsizeBitmap : pgtable.pgsizeBitmap();
    }

    /**
     * {@code domain->geometry.aperture_end} of a paging domain: the last IOVA its io-pgtable (or its driver)
     * translates; 0 for every other domain.
     */
    public long apertureEnd() {
        return pgtable == null ? ownApertureEnd : (1L << pgtable.format().iovaBits()) - 1;
    }

    /** The parent (second-stage) domain of a NESTED domain, or null. */
    public IommuDomain parent() {
        return parent;
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

    @Override
    public String toString() {
        return type + (mm != null ? "[" + mm.name() + "]" : "");
    }
}
