package dev.iommulab.drivers.intel;

import dev.iommulab.core.kernel.FrameAllocator;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.vtd.VtdEntries;

/**
 * The driver's writer of scalable-mode structures: root and context entries
 * ({@code context_entry_set_pasid_table()} in intel/iommu.c) and PASID directory and table entries
 * ({@code intel_pasid_setup_first_level()}, {@code intel_pasid_setup_second_level()},
 * {@code intel_pasid_setup_pass_through()}, {@code intel_pasid_setup_nested()},
 * {@code intel_pasid_tear_down_entry()} in intel/pasid.c). Every setup writes qwords 3..1 first and qword 0,
 * with the present bit, last.
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
        write(pasidDir, pasid, VtdEntries.PGTT_FIRST_STAGE, 0, domainId, pgd & VtdEntries.ADDR_MASK);
    }

    /** Second-stage only entry: SLPTPTR = {@code root}, AW 010b (4 levels), the domain's DID. */
    void setupSecondLevel(long pasidDir, int pasid, long root, int domainId) {
        write(pasidDir, pasid, VtdEntries.PGTT_SECOND_STAGE, root & VtdEntries.ADDR_MASK, domainId, 0);
    }

    /** Pass-through entry (PGTT 100b) with {@code FLPT_DEFAULT_DID}. */
    void setupPassThrough(long pasidDir, int pasid, int domainId) {
        write(pasidDir, pasid, VtdEntries.PGTT_PASS_THROUGH, 0, domainId, 0);
    }

    /**
     * Nested entry (PGTT 011b): the guest's first stage at {@code s1Table} (FLPM 4-level) translated by the
     * parent's second stage at {@code s2Root}.
     */
    void setupNested(long pasidDir, int pasid, long s1Table, long s2Root, int domainId) {
        write(pasidDir, pasid, VtdEntries.PGTT_NESTED, s2Root & VtdEntries.ADDR_MASK, domainId,
                s1Table & VtdEntries.ADDR_MASK);
    }

    /** An entry of {@code pgtt} with SLPTPTR/AW in qword 0, the DID in qword 1, qword 2 as given; P last. */
    private void write(long pasidDir, int pasid, int pgtt, long slptptr, int domainId, long qw2) {
        long pe = entryAddress(pasidDir, pasid, true);
        for (int i = 24; i < VtdEntries.PASID_ENTRY_SIZE; i += 8) {
            memory.writeLong(pe + i, 0);
        }
        memory.writeLong(pe + 16, qw2);
        memory.writeLong(pe + 8, domainId & VtdEntries.PE_DID_MASK);
        long qw0 = slptptr | ((long) pgtt << VtdEntries.PE_PGTT_SHIFT) | (2L << VtdEntries.PE_AW_SHIFT);
        memory.writeLong(pe, qw0 | VtdEntries.PRESENT);
    }

    /** The PGTT of a present entry at {@code pasid}, or 0 when it is not present. */
    int pgtt(long pasidDir, int pasid) {
        long pe = entryAddress(pasidDir, pasid, false);
        long qw0 = pe < 0 ? 0 : memory.readLong(pe);
        return (qw0 & VtdEntries.PRESENT) == 0 ? 0 : (int) ((qw0 & VtdEntries.PE_PGTT_MASK) >>> VtdEntries.PE_PGTT_SHIFT);
    }

    /** Whether the entry at {@code pasid} is not present but has FPD set (pasid_pte_is_fault_disabled()). */
    boolean faultDisabled(long pasidDir, int pasid) {
        long pe = entryAddress(pasidDir, pasid, false);
        long qw0 = pe < 0 ? 0 : memory.readLong(pe);
        return (qw0 & VtdEntries.PRESENT) == 0 && (qw0 & VtdEntries.FPD) != 0;
    }

    /** The DID of the entry at {@code pasid} (0 when there is none). */
    int did(long pasidDir, int pasid) {
        long pe = entryAddress(pasidDir, pasid, false);
        return pe < 0 ? 0 : (int) (memory.readLong(pe + 8) & VtdEntries.PE_DID_MASK);
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
