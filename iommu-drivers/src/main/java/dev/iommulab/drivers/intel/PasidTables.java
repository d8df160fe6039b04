package dev.iommulab.drivers.intel;

import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.vtd.VtdEntries;

/**
 * The driver's writer of scalable-mode structures: root and context entries
 * ({@code context_entry_set_pasid_table()} in intel/iommu.c) and PASID directory and table entries
 * ({@code intel_pasid_setup_first_level()}, {@code intel_pasid_tear_down_entry()} in intel/pasid.c).
 */
final class PasidTables {

    private final PhysicalMemory memory;
    private final FrameAllocator frames;
    private final long rootTable;

    PasidTables(FrameAllocator frames) {
        this.frames = frames;
        this.memory = frames.memory();
        this.rootTable = frames.allocate();
    }

    long rootTable() {
        return rootTable;
    }

    /** Allocates a PASID directory covering {@code maxPasids} and returns its address and PDTS. */
    long[] allocPasidDirectory(int maxPasids) {
        int entries = Math.max(128, Integer.highestOneBit(Math.max(1, maxPasids - 1) >>> VtdEntries.PASID_PDE_SHIFT) << 1);
        int pdts = Integer.numberOfTrailingZeros(entries) - 7;
        long dir = frames.allocateContiguous(Math.max(1, entries * VtdEntries.PASID_DIR_ENTRY_SIZE / 4096));
        return new long[] {dir, pdts};
    }

    /** Writes the scalable context entry of {@code rid}: PASID directory, RID_PASID 0, DTE/PASIDE/PRE. */
    void setContext(int rid, long pasidDir, int pdts, boolean ats, boolean pasid, boolean pri) {
        long rootEntry = rootTable + (long) (rid >>> 8) * VtdEntries.ROOT_ENTRY_SIZE + ((rid & 0xff) >= 0x80 ? 8 : 0);
        long root = memory.readLong(rootEntry);
        if ((root & VtdEntries.PRESENT) == 0) {
            root = frames.allocate() | VtdEntries.PRESENT;
            memory.writeLong(rootEntry, root);
        }
        long ctx = (root & VtdEntries.ADDR_MASK) + (long) (rid & 0x7f) * VtdEntries.SM_CONTEXT_ENTRY_SIZE;
        long lo = pasidDir | ((long) pdts << VtdEntries.CTX_PDTS_SHIFT) | (ats ? VtdEntries.CTX_DTE : 0)
                | (pasid ? VtdEntries.CTX_PASIDE : 0) | (pri ? VtdEntries.CTX_PRE : 0);
        memory.writeLong(ctx + 8, 0); // RID_PASID = IOMMU_NO_PASID
        memory.writeLong(ctx, lo | VtdEntries.PRESENT);
    }

    private long entryAddress(long pasidDir, int pasid, boolean allocate) {
        long dirEntry = pasidDir + (long) (pasid >>> VtdEntries.PASID_PDE_SHIFT) * VtdEntries.PASID_DIR_ENTRY_SIZE;
        long pde = memory.readLong(dirEntry);
        if ((pde & VtdEntries.PRESENT) == 0) {
            if (!allocate) {
                return -1;
            }
            pde = frames.allocate() | VtdEntries.PRESENT;
            memory.writeLong(dirEntry, pde);
        }
        return (pde & VtdEntries.ADDR_MASK)
                + (long) (pasid & ((1 << VtdEntries.PASID_PDE_SHIFT) - 1)) * VtdEntries.PASID_ENTRY_SIZE;
    }

    /** First-stage only entry pointing at {@code pgd}, user requests only (no SRE), present bit last. */
    void setupFirstLevel(long pasidDir, int pasid, long pgd, int domainId) {
        long pe = entryAddress(pasidDir, pasid, true);
        for (int i = 0; i < VtdEntries.PASID_ENTRY_SIZE; i += 8) {
            memory.writeLong(pe + i, 0);
        }
        memory.writeLong(pe + 16, pgd & VtdEntries.ADDR_MASK);
        memory.writeLong(pe + 8, domainId & VtdEntries.PE_DID_MASK);
        long qw0 = ((long) VtdEntries.PGTT_FIRST_STAGE << VtdEntries.PE_PGTT_SHIFT) | (2L << 2); // AW: 4-level
        memory.writeLong(pe, qw0 | VtdEntries.PRESENT);
    }

    /** Clears the PASID entry; with {@code faultIgnore} it stays with FPD set. Returns its old DID. */
    int tearDown(long pasidDir, int pasid, boolean faultIgnore) {
        long pe = entryAddress(pasidDir, pasid, false);
        if (pe < 0) {
            return 0;
        }
        int did = (int) (memory.readLong(pe + 8) & VtdEntries.PE_DID_MASK);
        memory.writeLong(pe, faultIgnore ? VtdEntries.FPD : 0);
        for (int i = 8; i < VtdEntries.PASID_ENTRY_SIZE; i += 8) {
            memory.writeLong(pe + i, 0);
        }
        return did;
    }
}
