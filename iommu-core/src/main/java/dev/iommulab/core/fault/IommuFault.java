package dev.iommulab.core.fault;

/**
 * A recoverable page fault as the core sees it: {@code struct iommu_fault} of type
 * {@code IOMMU_FAULT_PAGE_REQ} with its {@code struct iommu_fault_page_request} (include/linux/iommu.h).
 *
 * @param flags IOMMU_FAULT_PAGE_REQUEST_* bits
 * @param grpid PCI Page Request Group Index
 * @param perm  IOMMU_FAULT_PERM_* bits
 * @param addr  page address
 */
public record IommuFault(int type, int flags, int pasid, int grpid, int perm, long addr) {

    /** The only fault type left after the 2024 rework. */
    public static final int IOMMU_FAULT_PAGE_REQ = 1;

    public static final int PAGE_REQUEST_PASID_VALID = 1;
    public static final int PAGE_REQUEST_LAST_PAGE = 1 << 1;
    public static final int PAGE_RESPONSE_NEEDS_PASID = 1 << 2;

    public static final int PERM_READ = 1;
    public static final int PERM_WRITE = 1 << 1;
    public static final int PERM_EXEC = 1 << 2;
    public static final int PERM_PRIV = 1 << 3;

    /** A page request fault. */
    public static IommuFault pageRequest(int flags, int pasid, int grpid, int perm, long addr) {
        return new IommuFault(IOMMU_FAULT_PAGE_REQ, flags, pasid, grpid, perm, addr);
    }

    public boolean pasidValid() {
        return (flags & PAGE_REQUEST_PASID_VALID) != 0;
    }

    public boolean lastPage() {
        return (flags & PAGE_REQUEST_LAST_PAGE) != 0;
    }

    public boolean hasPerm(int bit) {
        return (perm & bit) != 0;
    }

    /** Readable permissions, e.g. {@code rw}. */
    public String permString() {
        StringBuilder sb = new StringBuilder();
        sb.append(hasPerm(PERM_READ) ? 'r' : '-').append(hasPerm(PERM_WRITE) ? 'w' : '-')
                .append(hasPerm(PERM_EXEC) ? 'x' : '-');
        if (hasPerm(PERM_PRIV)) {
            sb.append('p');
        }
        return sb.toString();
    }
}
