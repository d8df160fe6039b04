package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.VtdSecondStageTable;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.List;

/**
 * A VT-d unit in scalable mode with its tables written by hand into {@link PhysicalMemory}, as the
 * driver would (reference/iommu-hardware.md §2.1.1): root table → scalable context entry → PASID
 * directory → PASID table → first-stage x86-64 table. Also programs the page request queue and the
 * invalidation queue, and records faults, PRG responses and page-request interrupts.
 */
final class VtdFixture {

    /** Requester 01:00.0. */
    static final int RID = 0x0100;
    static final int PASID = 5;
    static final int DOMAIN_ID = 1;
    static final long MEMORY_SIZE = 64L << 20;
    /** Descriptors in a PQS = 0 ring (one 4 KiB page of 32-byte descriptors). */
    static final int PRQ_ENTRIES = 4096 / VtdRegs.DESC_SIZE;

    final EventLoop loop = new EventLoop(3);
    final PhysicalMemory memory = new PhysicalMemory(MEMORY_SIZE);
    final PcieFabric fabric = new PcieFabric(loop, TimingModel.ESTIMATES.pcieTlpNs());
    final List<HwFault> faults = new ArrayList<>();
    final RecordingFunction function = new RecordingFunction(RID);
    final X86PageTable firstStage = new X86PageTable(memory, 4);
    /** A 4-level second-stage table (AW 010b) at {@link #slRoot}. */
    final VtdSecondStageTable secondStage = new VtdSecondStageTable(memory, 4, 46);
    final VtdUnit unit;
    final long rootTable;
    final long pasidDir;
    final long flRoot;
    final long slRoot;
    int prqInterrupts;
    int faultEvents;
    int completionEvents;
    long contextAddr;
    long pasidEntryAddr;
    long prqBase = -1;
    long iqBase = -1;
    long legacyRoot = -1;
    private long nextFrame = 0x10_0000;

    VtdFixture() {
        this(VtdConfig.defaults("dmar0"));
    }

    VtdFixture(VtdConfig config) {
        unit = new VtdUnit(config, memory, loop, TimingModel.ESTIMATES, fabric, faults::add);
        fabric.attach(function);
        unit.setPageRequestInterrupt(() -> prqInterrupts++);
        unit.setFaultEventInterrupt(() -> faultEvents++);
        unit.setInvalidationCompletionInterrupt(() -> completionEvents++);
        rootTable = allocateFrame();
        pasidDir = allocateFrame();
        flRoot = allocateFrame();
        slRoot = allocateFrame();
        unit.writeReg(VtdRegs.RTADDR, rootTable | VtdRegs.RTADDR_SMT);
        unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_SRTP);
        unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_TE);
    }

    /** A zeroed 4 KiB frame. */
    long allocateFrame() {
        long frame = nextFrame;
        nextFrame += PhysicalMemory.PAGE_SIZE;
        memory.zero(frame, PhysicalMemory.PAGE_SIZE);
        return frame;
    }

    /**
     * Writes the scalable context entry of {@link #RID}: P plus {@code flags} (e.g. DTE, PASIDE, PRE,
     * FPD), PDTS = 0 (8192 PASIDs), RID_PASID = 0, and the first-stage PASID entry of {@link #PASID}.
     */
    VtdFixture attach(long contextFlags) {
        contextAddr = writeContext(RID, VtdEntries.PRESENT | contextFlags);
        pasidEntryAddr = writePasidEntry(PASID, VtdEntries.PRESENT
                | (long) VtdEntries.PGTT_FIRST_STAGE << VtdEntries.PE_PGTT_SHIFT, flRoot);
        return this;
    }

    /** The usual SVA device: ATS (DTE), PASID and PRI (PRE) enabled in the context entry. */
    VtdFixture attachSvaDevice() {
        return attach(VtdEntries.CTX_DTE | VtdEntries.CTX_PASIDE | VtdEntries.CTX_PRE);
    }

    /** Root entry (lower half for devfn < 0x80) → context table → 32-byte scalable context entry. */
    long writeContext(int rid, long contextLo) {
        int devfn = rid & 0xff;
        long rootEntry = rootTable + (long) (rid >>> 8) * VtdEntries.ROOT_ENTRY_SIZE + (devfn >= 0x80 ? 8 : 0);
        long root = memory.readLong(rootEntry);
        long contextTable = root & VtdEntries.ADDR_MASK;
        if ((root & VtdEntries.PRESENT) == 0) {
            contextTable = allocateFrame();
            memory.writeLong(rootEntry, contextTable | VtdEntries.PRESENT);
        }
        long entry = contextTable + (long) (devfn & 0x7f) * VtdEntries.SM_CONTEXT_ENTRY_SIZE;
        memory.writeLong(entry, pasidDir | contextLo);
        memory.writeLong(entry + 8, 0);
        return entry;
    }

    /** PASID directory entry (PASID[19:6]) → PASID table → 64-byte PASID entry (PASID[5:0]), DID {@link #DOMAIN_ID}. */
    long writePasidEntry(int pasid, long qw0, long qw2) {
        return writePasidEntry(pasid, qw0, DOMAIN_ID, qw2);
    }

    long writePasidEntry(int pasid, long qw0, long qw1, long qw2) {
        long dirEntry = pasidDir + (long) (pasid >>> VtdEntries.PASID_PDE_SHIFT) * VtdEntries.PASID_DIR_ENTRY_SIZE;
        long pde = memory.readLong(dirEntry);
        long table = pde & VtdEntries.ADDR_MASK;
        if ((pde & VtdEntries.PRESENT) == 0) {
            table = allocateFrame();
            memory.writeLong(dirEntry, table | VtdEntries.PRESENT);
        }
        long entry = table + (long) (pasid & ((1 << VtdEntries.PASID_PDE_SHIFT) - 1)) * VtdEntries.PASID_ENTRY_SIZE;
        memory.writeLong(entry, qw0);
        memory.writeLong(entry + 8, qw1);
        memory.writeLong(entry + 16, qw2);
        return entry;
    }

    /** Second-stage PASID entry (PGTT 010b, AW 010b) of {@link #PASID} on {@link #slRoot}, plus {@code flags}. */
    long writeSecondStagePasidEntry(long flags) {
        pasidEntryAddr = writePasidEntry(PASID, VtdEntries.PRESENT | slRoot | 2L << VtdEntries.PE_AW_SHIFT
                | (long) VtdEntries.PGTT_SECOND_STAGE << VtdEntries.PE_PGTT_SHIFT | flags, 0);
        return pasidEntryAddr;
    }

    /** Maps {@code gpa → hpa} (4 KiB) in the second-stage table; returns the leaf entry's address. */
    long mapSecondStage(long gpa, long hpa, long flags) {
        return secondStage.map(slRoot, gpa, hpa, 4096, flags, this::allocateFrame);
    }

    // ---- legacy mode ----

    /**
     * Switches the unit to legacy mode (RTADDR.TTM = 00b) on a fresh root table and writes the 16-byte
     * context entry of {@code rid}: {@code lo} (P, FPD, TT, SLPTPTR) and {@code hi} (AW, DID).
     */
    long useLegacyMode(int rid, long lo, long hi) {
        legacyRoot = allocateFrame();
        unit.writeReg(VtdRegs.RTADDR, legacyRoot);
        unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_SRTP);
        unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_TE | VtdRegs.GCMD_QIE);
        return writeLegacyContext(rid, lo, hi);
    }

    long writeLegacyContext(int rid, long lo, long hi) {
        long rootEntry = legacyRoot + (long) (rid >>> 8) * VtdEntries.ROOT_ENTRY_SIZE;
        long root = memory.readLong(rootEntry);
        if ((root & VtdEntries.PRESENT) == 0) {
            root = allocateFrame() | VtdEntries.PRESENT;
            memory.writeLong(rootEntry, root);
        }
        long entry = (root & VtdEntries.ADDR_MASK) + (long) (rid & 0xff) * VtdEntries.CONTEXT_ENTRY_SIZE;
        memory.writeLong(entry, lo);
        memory.writeLong(entry + 8, hi);
        contextAddr = entry;
        return entry;
    }

    /** A legacy context entry: P, TT, SLPTPTR = {@link #slRoot}; AW 010b and DID {@link #DOMAIN_ID}. */
    static long legacyLo(long slRoot, int tt) {
        return VtdEntries.PRESENT | (long) tt << VtdEntries.CTX_TT_SHIFT | slRoot;
    }

    static long legacyHi() {
        return 2L | (long) DOMAIN_ID << VtdEntries.CTX_DID_SHIFT;
    }

    // ---- fault recording registers ----

    /** The record in FRCD {@code index}, read through MMIO as dmar_fault() does, or null when F is clear. */
    FaultRecord frcd(int index) {
        int base = VtdRegs.capFaultRegOffset(unit.readReg(VtdRegs.CAP)) + index * VtdRegs.FRCD_SIZE;
        long hi = unit.readReg(base + 8);
        return (hi & FaultRecord.F) == 0 ? null : FaultRecord.decode(unit.readReg(base), hi);
    }

    /** Clears F of FRCD {@code index} by writing 1 to it (the dword at +12, as dmar_fault() does). */
    void clearFrcd(int index) {
        int base = VtdRegs.capFaultRegOffset(unit.readReg(VtdRegs.CAP)) + index * VtdRegs.FRCD_SIZE;
        unit.writeReg(base + 12, 1L << 31);
    }

    int fsts() {
        return (int) unit.readReg(VtdRegs.FSTS);
    }

    /** Maps {@code va → pa} in the PASID's first-stage table; returns the PTE's address. */
    long map(long va, long pa, long pteFlags) {
        return firstStage.map4k(flRoot, va, pa, pteFlags, this::allocateFrame);
    }

    /** Programs PQA with a one-page ring (PQS = 0: 128 descriptors). */
    void enablePageRequestQueue() {
        prqBase = allocateFrame();
        unit.writeReg(VtdRegs.PQA, prqBase);
    }

    /** Programs IQA with a one-page ring of 256-bit descriptors and turns queued invalidation on. */
    void enableInvalidationQueue() {
        iqBase = allocateFrame();
        unit.writeReg(VtdRegs.IQA, iqBase | VtdRegs.IQA_DW_256);
        unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_TE | VtdRegs.GCMD_QIE);
    }

    /** Writes {@code descriptors} at IQT and moves IQT past them, as qi_submit_sync() does. */
    void submit(QiDescriptor... descriptors) {
        long tail = unit.readReg(VtdRegs.IQT);
        for (QiDescriptor d : descriptors) {
            long at = iqBase + tail;
            memory.writeLong(at, d.qw0());
            memory.writeLong(at + 8, d.qw1());
            memory.writeLong(at + 16, d.qw2());
            memory.writeLong(at + 24, d.qw3());
            tail = (tail + VtdRegs.DESC_SIZE) % PhysicalMemory.PAGE_SIZE;
        }
        unit.writeReg(VtdRegs.IQT, tail);
    }

    /** A global context-cache invalidation through the invalidation queue (enabling it if needed). */
    void submitContextInvalidation() {
        if (iqBase < 0) {
            enableInvalidationQueue();
        }
        submit(QiDescriptor.contextCache(QiDescriptor.CC_GLOBAL, 0, 0, 0),
                QiDescriptor.pasidCache(QiDescriptor.PC_GLOBAL, 0, 0));
    }

    /** A read page request from {@link #RID} with {@link #PASID}. */
    static PageRequestMessage pageRequest(int prgi, boolean last, long pageAddr) {
        return new PageRequestMessage(RID, true, PASID, false, false, true, false, last, prgi, pageAddr);
    }

    static PageRequestMessage stopMarker() {
        return new PageRequestMessage(RID, true, PASID, false, false, false, false, true, 0, 0);
    }

    /** The descriptor in PRQ slot {@code index}. */
    PageRequestDescriptor prqSlot(int index) {
        return PageRequestDescriptor.readFrom(memory, prqBase + (long) index * VtdRegs.DESC_SIZE);
    }

    int prs() {
        return (int) unit.readReg(VtdRegs.PRS);
    }

    /** Runs the machine until nothing is left to do. */
    void settle() {
        loop.runUntilIdle();
    }

    List<Integer> faultCodes() {
        return faults.stream().map(HwFault::vendorCode).toList();
    }
}
