package dev.iommulab.core;

/**
 * {@code iommu_domain.type}: the IOMMU_DOMAIN_* values, built from the __IOMMU_DOMAIN_* flags.
 */
public enum DomainType {
    BLOCKED(0),
    IDENTITY(DomainType.PT),
    UNMANAGED(DomainType.PAGING),
    DMA(DomainType.PAGING | DomainType.DMA_API),
    DMA_FQ(DomainType.PAGING | DomainType.DMA_API | DomainType.FQ),
    SVA(DomainType.SVA_FLAG),
    PLATFORM(DomainType.PLATFORM_FLAG),
    NESTED(DomainType.NESTED_FLAG);

    static final int PAGING = 1;
    static final int DMA_API = 1 << 1;
    static final int PT = 1 << 2;
    static final int FQ = 1 << 3;
    static final int SVA_FLAG = 1 << 4;
    static final int PLATFORM_FLAG = 1 << 5;
    static final int NESTED_FLAG = 1 << 6;

    private final int flags;

    DomainType(int flags) {
        this.flags = flags;
    }

    /** The kernel's numeric type value. */
    public int flags() {
        return flags;
    }

    public boolean isPaging() {
        return (flags & PAGING) != 0;
    }
}
