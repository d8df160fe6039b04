package dev.iommulab.hw.riscv;

import dev.iommulab.hw.pgtable.Access;

/**
 * The IOMMU address-translation cache for completed translations (riscv-iommu "Caching in-memory data
 * structures"; reference/iommu-hardware.md §2.4.5): IOVA → SPA with the rights of both stages, tagged by
 * GSCID (when the G-stage is active), PSCID (when the first stage is active) and the 4 KiB page of the
 * IOVA. A hit is used only if it grants the access (a write also needs D set in every stage); anything
 * else re-walks, which the spec allows because entries may be dropped at any time. Entries live until
 * evicted (LRU, {@link RiscvConfig#iotlbEntries()}) or invalidated by {@code IOTINVAL.VMA}/{@code .GVMA}
 * with the operand rules of the spec's tables (those of the reference model's {@code do_iotinval_vma}).
 */
final class Iotlb {

    record Key(boolean gv, int gscid, boolean pscv, int pscid, long vpn) {
    }

    /** A cached translation of the page {@code [iovaBase, iovaBase + pageSize)}. */
    record Entry(long iovaBase, long paBase, long pageSize, boolean readable, boolean writable, boolean executable,
                 boolean user, boolean global, boolean dirty) {

        boolean covers(long addr) {
            return addr - iovaBase >= 0 && addr - iovaBase < pageSize;
        }
    }

    private final LruCache<Key, Entry> cache;

    Iotlb(int entries) {
        this.cache = new LruCache<>(entries);
    }

    static Key key(AddressSpace as, long iova) {
        return new Key(as.gStage(), as.gStage() ? as.gscid() : 0, as.firstStage(), as.firstStage() ? as.pscid() : 0,
                iova >>> 12);
    }

    /** A cached page that allows {@code access} with the given privilege, or null (a miss). */
    Outcome.Page lookup(AddressSpace as, long iova, Access access, boolean supervisor) {
        Entry e = cache.get(key(as, iova));
        if (e == null || !allows(e, as, access, supervisor)) {
            return null;
        }
        long pa = e.paBase() + (iova - e.iovaBase());
        return new Outcome.Page(pa, pa, e.pageSize(), e.readable(), e.writable(), e.executable(), e.user(), e.global(),
                e.dirty());
    }

    private static boolean allows(Entry e, AddressSpace as, Access access, boolean supervisor) {
        boolean rights = switch (access) {
            case READ -> e.readable();
            case WRITE -> e.writable() && e.dirty();
            case EXEC -> e.executable();
        };
        if (!rights || !as.firstStage()) {
            return rights;
        }
        return supervisor ? !e.user() || as.sum() && access != Access.EXEC : e.user();
    }

    void insert(AddressSpace as, long iova, Outcome.Page page) {
        if (!as.firstStage() && !as.gStage()) {
            return;
        }
        cache.put(key(as, iova), new Entry(iova & -page.pageSize(), page.pageBase(), page.pageSize(), page.readable(),
                page.writable(), page.executable(), page.user(), page.global(), page.dirty()));
    }

    /** {@code IOTINVAL.VMA}. */
    void invalidateVma(boolean gv, int gscid, boolean av, long addr, boolean pscv, int pscid) {
        cache.invalidate((k, e) -> (gv ? k.gv() && k.gscid() == gscid : !k.gv())
                && (!pscv || k.pscv() && k.pscid() == pscid && !e.global())
                && (!av || e.covers(addr)));
    }

    /**
     * {@code IOTINVAL.GVMA}: entries translated by a G-stage (of {@code gscid} with {@code gv}). With
     * {@code gv} and {@code av} only those for the GPA; entries that also went through a first stage are
     * not tagged with their GPA, so they all go (the spec's "common technique").
     */
    void invalidateGvma(boolean gv, int gscid, boolean av, long gpa) {
        cache.invalidate((k, e) -> k.gv() && (!gv || k.gscid() == gscid)
                && (k.pscv() || !gv || !av || e.covers(gpa)));
    }

    int size() {
        return cache.size();
    }
}
