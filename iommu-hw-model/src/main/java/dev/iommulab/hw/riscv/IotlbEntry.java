package dev.iommulab.hw.riscv;

import dev.iommulab.hw.pgtable.Access;

/**
 * A completed translation in the IOMMU address-translation cache (riscv-iommu "Caching in-memory data
 * structures"; reference/iommu-hardware.md §2.4.5): IOVA → SPA of the page {@code [iovaBase, iovaBase +
 * pageSize)} with the rights of both stages. The IOTLB tags it by GSCID (when the G-stage is active), PSCID
 * (when the first stage is active) and files it under the 4 KiB page of the IOVA that filled it. A hit is used
 * only if it grants the access (a write also needs D set in every stage); anything else re-walks, which the
 * spec allows because entries may be dropped at any time. Entries live until evicted (LRU,
 * {@link RiscvConfig#iotlbEntries()}) or invalidated by {@code IOTINVAL.VMA}/{@code .GVMA}
 * ({@link CommandQueue}).
 */
record IotlbEntry(long iovaBase, long paBase, long pageSize, boolean readable, boolean writable, boolean executable,
                  boolean user, boolean global, boolean dirty) {

    /** The model files every entry under a 4 KiB page of its IOVA. */
    static final long FILED_PAGE = 4096;

    private static final long GV = 1L << 63;
    private static final long PSCV = 1L << 62;

    /** The tag of {@code as}: GV, GSCID 47:32 with an active G-stage; PSCV, PSCID 19:0 with an active first stage. */
    static long tag(AddressSpace as) {
        return (as.gStage() ? GV | (long) (as.gscid() & 0xffff) << 32 : 0)
                | (as.firstStage() ? PSCV | as.pscid() & 0xfffff : 0);
    }

    static boolean gv(long tag) {
        return (tag & GV) != 0;
    }

    static int gscid(long tag) {
        return (int) (tag >>> 32 & 0xffff);
    }

    static boolean pscv(long tag) {
        return (tag & PSCV) != 0;
    }

    static int pscid(long tag) {
        return (int) (tag & 0xfffff);
    }

    static IotlbEntry of(long iova, Outcome.Page page) {
        return new IotlbEntry(iova & -page.pageSize(), page.pageBase(), page.pageSize(), page.readable(),
                page.writable(), page.executable(), page.user(), page.global(), page.dirty());
    }

    boolean covers(long addr) {
        return addr - iovaBase >= 0 && addr - iovaBase < pageSize;
    }

    /** Whether this entry grants {@code access} with the given privilege in {@code as}. */
    boolean allows(AddressSpace as, Access access, boolean supervisor) {
        boolean rights = switch (access) {
            case READ -> readable;
            case WRITE -> writable && dirty;
            case EXEC -> executable;
        };
        if (!rights || !as.firstStage()) {
            return rights;
        }
        return supervisor ? !user || as.sum() && access != Access.EXEC : user;
    }

    /** The page this entry gives for {@code iova}. */
    Outcome.Page page(long iova) {
        long pa = paBase + (iova - iovaBase);
        return new Outcome.Page(pa, pa, pageSize, readable, writable, executable, user, global, dirty);
    }
}
