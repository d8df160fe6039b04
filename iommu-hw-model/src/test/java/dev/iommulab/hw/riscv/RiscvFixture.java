package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.iommu.WriteData;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.List;

/**
 * A RISC-V IOMMU programmed by hand the way a driver does, only through memory and registers
 * (reference/iommu-hardware.md §2.4): DDT → base-format device context → PDT → process context →
 * first-stage Sv39 table, plus the command, fault and page-request queues. Records faults, PRG responses,
 * ATS invalidations and interrupts.
 */
final class RiscvFixture {

    /** Requester 01:00.0. */
    static final int DID = 0x0100;
    static final int PASID = 5;
    static final int PSCID = 7;
    static final int GSCID = 3;
    static final long MEMORY_SIZE = 64L << 20;
    static final long VA = 0x0000_0020_0000_0000L;
    static final long PA = 0x0200_0000L;
    /** A leaf PTE for a user page with R, W, A and D. */
    static final long USER_RW = RiscvPte.R | RiscvPte.W | RiscvPte.U | RiscvPte.A | RiscvPte.D;

    final EventLoop loop = new EventLoop(11);
    final PhysicalMemory memory = new PhysicalMemory(MEMORY_SIZE);
    final PcieFabric fabric = new PcieFabric(loop, TimingModel.ESTIMATES.pcieTlpNs());
    final List<HwFault> faults = new ArrayList<>();
    final RiscvIommu iommu;
    final RecordingFunction function;
    final RiscvPageTable firstStage = new RiscvPageTable(memory, RiscvPagingMode.SV39);
    int fqInterrupts;
    int pqInterrupts;
    int cqInterrupts;
    int ddtMode;
    long ddtRoot;
    int pdtMode;
    long pdtRoot;
    long fsRoot;
    long fqBase;
    long pqBase;
    long cqBase;
    private long nextFrame = 0x10_0000;
    private int fenceCount;

    RiscvFixture() {
        this(RiscvConfig.defaults("riscv-iommu0"));
    }

    RiscvFixture(RiscvConfig config) {
        iommu = new RiscvIommu(config, memory, loop, TimingModel.ESTIMATES, fabric, faults::add);
        function = new RecordingFunction(DID, iommu);
        fabric.attach(function);
        iommu.setFaultQueueInterrupt(() -> fqInterrupts++);
        iommu.setPageRequestInterrupt(() -> pqInterrupts++);
        iommu.setCommandQueueInterrupt(() -> cqInterrupts++);
    }

    /** A zeroed 4 KiB frame. */
    long frame() {
        return frames(1, 4096);
    }

    /** End of the frames handed out so far (they start at 1 MiB). */
    long allocatedEnd() {
        return nextFrame;
    }

    /** {@code count} zeroed contiguous frames aligned to {@code align}. */
    long frames(int count, long align) {
        long at = (nextFrame + align - 1) & -align;
        nextFrame = at + 4096L * count;
        memory.zero(at, 4096L * count);
        return at;
    }

    // ---- DDT / PDT ----

    RiscvFixture ddt(int mode) {
        ddtMode = mode;
        ddtRoot = frame();
        iommu.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(mode, ddtRoot));
        return this;
    }

    /** Address of the device context of {@code did}, creating the non-leaf levels on the way. */
    long dcAddress(int did) {
        int[] ddi = {did & 0x7f, did >>> 7 & 0x1ff, did >>> 16 & 0xff};
        long table = ddtRoot;
        for (int i = ddtMode - RiscvRegs.DDTP_MODE_1LVL; i > 0; i--) {
            table = nextLevel(table + 8L * ddi[i]);
        }
        return table + (long) RiscvDeviceContext.SIZE * ddi[0];
    }

    long writeDc(int did, RiscvDeviceContext dc) {
        long at = dcAddress(did);
        dc.writeTo(memory, at);
        return at;
    }

    RiscvFixture pdt(int mode) {
        pdtMode = mode;
        pdtRoot = frame();
        return this;
    }

    /** Address of the process context of {@code pid} in the PDT at {@link #pdtRoot}. */
    long pcAddress(int pid) {
        int[] pdi = {pid & 0xff, pid >>> 8 & 0x1ff, pid >>> 17 & 0x7};
        long table = pdtRoot;
        for (int i = pdtMode - 1; i > 0; i--) {
            table = nextLevel(table + 8L * pdi[i]);
        }
        return table + (long) RiscvProcessContext.SIZE * pdi[0];
    }

    long writePc(int pid, RiscvProcessContext pc) {
        long at = pcAddress(pid);
        pc.writeTo(memory, at);
        return at;
    }

    private long nextLevel(long entryAddr) {
        long entry = memory.readLong(entryAddr);
        if ((entry & RiscvDeviceContext.NON_LEAF_V) == 0) {
            entry = RiscvDeviceContext.nonLeaf(frame());
            memory.writeLong(entryAddr, entry);
        }
        return RiscvRegs.ppnAddress(entry);
    }

    /**
     * The usual SVA device: 3LVL DDT, device context with EN_ATS, EN_PRI, PDTV, SADE and {@code extraTc},
     * PD17 PDT, process context for {@link #PASID} (PSCID {@link #PSCID}) with an Sv39 first stage.
     */
    RiscvFixture attachSva(long extraTc) {
        if (ddtRoot == 0) {
            ddt(RiscvRegs.DDTP_MODE_3LVL);
        }
        pdt(RiscvDeviceContext.PDTP_PD17);
        fsRoot = frame();
        writePc(PASID, RiscvProcessContext.of(PSCID, 0, RiscvDeviceContext.encodeAtp(8, fsRoot)));
        writeDc(DID, new RiscvDeviceContext(RiscvDeviceContext.TC_V | RiscvDeviceContext.TC_EN_ATS
                | RiscvDeviceContext.TC_EN_PRI | RiscvDeviceContext.TC_PDTV | RiscvDeviceContext.TC_SADE | extraTc, 0, 0,
                RiscvDeviceContext.encodeAtp(RiscvDeviceContext.PDTP_PD17, pdtRoot)));
        return this;
    }

    /** A device without PASIDs: {@code DC.fsc} = iosatp Sv39, PSCID in {@code DC.ta}, plus {@code tc}. */
    RiscvFixture attachNoPasid(long tc) {
        if (ddtRoot == 0) {
            ddt(RiscvRegs.DDTP_MODE_3LVL);
        }
        fsRoot = frame();
        writeDc(DID, new RiscvDeviceContext(RiscvDeviceContext.TC_V | tc, 0, RiscvDeviceContext.encodeTa(PSCID),
                RiscvDeviceContext.encodeAtp(8, fsRoot)));
        return this;
    }

    /** Rewrites the device context of {@link #DID} with {@code change} applied. */
    void editDc(java.util.function.UnaryOperator<RiscvDeviceContext> change) {
        long at = dcAddress(DID);
        change.apply(RiscvDeviceContext.readFrom(memory, at)).writeTo(memory, at);
    }

    long map(long va, long pa, long flags) {
        return firstStage.map(fsRoot, va, pa, 4096, flags, this::frame);
    }

    // ---- queues ----

    void enableFq(int entries, boolean fie) {
        fqBase = frames(Math.max(1, entries * RiscvRegs.FQ_ENTRY_SIZE / 4096), 4096);
        iommu.writeReg(RiscvRegs.FQB, RiscvRegs.queueBase(fqBase, entries));
        iommu.writeReg(RiscvRegs.FQCSR, RiscvRegs.FQCSR_FQEN | (fie ? RiscvRegs.FQCSR_FIE : 0));
    }

    void enablePq(int entries, boolean pie) {
        pqBase = frames(Math.max(1, entries * RiscvRegs.PQ_ENTRY_SIZE / 4096), 4096);
        iommu.writeReg(RiscvRegs.PQB, RiscvRegs.queueBase(pqBase, entries));
        iommu.writeReg(RiscvRegs.PQCSR, RiscvRegs.PQCSR_PQEN | (pie ? RiscvRegs.PQCSR_PIE : 0));
    }

    void enableCq(int entries, boolean cie) {
        cqBase = frames(Math.max(1, entries * RiscvRegs.CQ_ENTRY_SIZE / 4096), 4096);
        iommu.writeReg(RiscvRegs.CQB, RiscvRegs.queueBase(cqBase, entries));
        iommu.writeReg(RiscvRegs.CQCSR, RiscvRegs.CQCSR_CQEN | (cie ? RiscvRegs.CQCSR_CIE : 0));
    }

    /** Writes {@code commands} at {@code cqt} and moves {@code cqt} past them. */
    void submit(RiscvCommand... commands) {
        int entries = 1 << ((iommu.readReg(RiscvRegs.CQB) & RiscvRegs.QB_LOG2SZ_MASK) + 1);
        int tail = (int) iommu.readReg(RiscvRegs.CQT);
        for (RiscvCommand c : commands) {
            c.writeTo(memory, cqBase + (long) tail * RiscvRegs.CQ_ENTRY_SIZE);
            tail = (tail + 1) % entries;
        }
        iommu.writeReg(RiscvRegs.CQT, tail);
    }

    /** An {@code IOFENCE.C} that stores a fresh value at a status word; true when it completed. */
    boolean fence() {
        long status = fenceStatus();
        int value = ++fenceCount;
        submit(RiscvCommand.iofenceC(true, false, true, true, status, value));
        loop.runUntilIdle();
        return memory.readInt(status) == value;
    }

    long fenceStatus() {
        return MEMORY_SIZE - 4096;
    }

    List<RiscvFaultRecord> fqRecords() {
        List<RiscvFaultRecord> out = new ArrayList<>();
        int entries = 1 << ((iommu.readReg(RiscvRegs.FQB) & RiscvRegs.QB_LOG2SZ_MASK) + 1);
        for (int i = (int) iommu.readReg(RiscvRegs.FQH); i != (int) iommu.readReg(RiscvRegs.FQT); i = (i + 1) % entries) {
            out.add(RiscvFaultRecord.readFrom(memory, fqBase + (long) i * RiscvRegs.FQ_ENTRY_SIZE));
        }
        return out;
    }

    List<RiscvPageRequestRecord> pqRecords() {
        List<RiscvPageRequestRecord> out = new ArrayList<>();
        int entries = 1 << ((iommu.readReg(RiscvRegs.PQB) & RiscvRegs.QB_LOG2SZ_MASK) + 1);
        for (int i = (int) iommu.readReg(RiscvRegs.PQH); i != (int) iommu.readReg(RiscvRegs.PQT); i = (i + 1) % entries) {
            out.add(RiscvPageRequestRecord.readFrom(memory, pqBase + (long) i * RiscvRegs.PQ_ENTRY_SIZE));
        }
        return out;
    }

    int reg32(int offset) {
        return (int) iommu.readReg(offset);
    }

    List<Integer> causes() {
        return faults.stream().map(HwFault::vendorCode).toList();
    }

    HwFault lastFault() {
        return faults.get(faults.size() - 1);
    }

    // ---- requests ----

    static DmaRequest read(long addr) {
        return new DmaRequest(DID, AddressType.UNTRANSLATED, true, PASID, addr, 8, Access.READ, false, null);
    }

    static DmaRequest readNoPasid(long addr) {
        return new DmaRequest(DID, AddressType.UNTRANSLATED, false, 0, addr, 8, Access.READ, false, null);
    }

    static DmaRequest write(long addr, byte[] data) {
        return new DmaRequest(DID, AddressType.UNTRANSLATED, true, PASID, addr, data.length, Access.WRITE, false,
                WriteData.of(data));
    }

    static DmaRequest writeNoPasid(long addr, byte[] data) {
        return new DmaRequest(DID, AddressType.UNTRANSLATED, false, 0, addr, data.length, Access.WRITE, false,
                WriteData.of(data));
    }

    static DmaRequest translated(long addr, Access access) {
        WriteData data = access == Access.WRITE ? WriteData.of(new byte[8]) : null;
        return new DmaRequest(DID, AddressType.TRANSLATED, false, 0, addr, 8, access, false, data);
    }

    static AtsTranslationRequest ats(long addr, boolean noWrite) {
        return new AtsTranslationRequest(DID, true, PASID, addr, noWrite, false, false);
    }

    static PageRequestMessage pageRequest(int prgi, boolean last) {
        return new PageRequestMessage(DID, true, PASID, false, false, true, false, last, prgi, VA + 0x1000L * prgi);
    }

    static PageRequestMessage stopMarker() {
        return new PageRequestMessage(DID, true, PASID, false, false, false, false, true, 0, 0);
    }
}
