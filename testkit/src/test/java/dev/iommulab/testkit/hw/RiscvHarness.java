package dev.iommulab.testkit.hw;

import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import dev.iommulab.hw.riscv.RiscvCommand;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.riscv.RiscvPageRequestRecord;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import dev.iommulab.hw.riscv.RiscvRegs;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Programs a RISC-V IOMMU the way the Linux driver (drivers/iommu/riscv/iommu.c) does, writing only memory
 * and registers: a 3-level device directory table with base-format device contexts, one process directory
 * table per device (PD20 for device 0, PD8 for device 1), first-stage Sv48 (device 0) and Sv39 (device 1)
 * tables with A and D preset as the driver sets them, and the command, fault and page-request queues.
 * Invalidation is IODIR + IOTINVAL.VMA + IOFENCE.C, as after a PTE or context change.
 */
final class RiscvHarness implements ModelHarness {

    private static final int[] RIDS = {0x0100, 0x0208};
    private static final int[] PDT_MODES = {RiscvDeviceContext.PDTP_PD20, RiscvDeviceContext.PDTP_PD8};
    private static final RiscvPagingMode[] FIRST_STAGE = {RiscvPagingMode.SV48, RiscvPagingMode.SV39};
    private static final int FQ_ENTRIES = 8;
    private static final int PQ_ENTRIES = 16;
    private static final int CQ_ENTRIES = 64;

    private final EventLoop loop = new EventLoop(1);
    private final PhysicalMemory memory = new PhysicalMemory(512L << 20);
    private final List<HwFault> faults = new ArrayList<>();
    private final RiscvIommu iommu;
    private final RecordingFunction[] functions = new RecordingFunction[2];
    private final long[] pdtRoots = new long[2];
    private final Map<String, Long> roots = new HashMap<>();
    private final long ddtRoot;
    private final long cq;
    private final long fenceStatus;
    private int fenceValue;
    private long nextFrame = 1L << 20;
    private long pq = -1;

    RiscvHarness() {
        PcieFabric fabric = new PcieFabric(loop, TimingModel.ESTIMATES.pcieTlpNs());
        iommu = new RiscvIommu(RiscvConfig.defaults("riscv-iommu0"), memory, loop, TimingModel.ESTIMATES, fabric,
                faults::add);
        for (int i = 0; i < 2; i++) {
            functions[i] = new RecordingFunction(RIDS[i], iommu);
            fabric.attach(functions[i]);
        }
        cq = frame();
        fenceStatus = frame();
        iommu.writeReg(RiscvRegs.CQB, RiscvRegs.queueBase(cq, CQ_ENTRIES));
        iommu.writeReg(RiscvRegs.CQCSR, RiscvRegs.CQCSR_CQEN | RiscvRegs.CQCSR_CIE);
        long fq = frame();
        iommu.writeReg(RiscvRegs.FQB, RiscvRegs.queueBase(fq, FQ_ENTRIES));
        iommu.writeReg(RiscvRegs.FQCSR, RiscvRegs.FQCSR_FQEN | RiscvRegs.FQCSR_FIE);
        ddtRoot = frame();
        iommu.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(RiscvRegs.DDTP_MODE_3LVL, ddtRoot));
    }

    private long frame() {
        long f = nextFrame;
        nextFrame += 4096;
        return f;
    }

    @Override
    public EventLoop loop() {
        return loop;
    }

    @Override
    public PhysicalMemory memory() {
        return memory;
    }

    @Override
    public IommuHardware iommu() {
        return iommu;
    }

    @Override
    public Set<ModelCapability> capabilities() {
        return EnumSet.allOf(ModelCapability.class);
    }

    @Override
    public int rid(int device) {
        return RIDS[device];
    }

    private long nextLevel(long entryAddr) {
        long entry = memory.readLong(entryAddr);
        if ((entry & RiscvDeviceContext.NON_LEAF_V) == 0) {
            entry = RiscvDeviceContext.nonLeaf(frame());
            memory.writeLong(entryAddr, entry);
        }
        return RiscvRegs.ppnAddress(entry);
    }

    private long dcAddress(int device) {
        int did = RIDS[device];
        long leaf = nextLevel(nextLevel(ddtRoot + 8L * (did >>> 16 & 0xff)) + 8L * (did >>> 7 & 0x1ff));
        return leaf + (long) RiscvDeviceContext.SIZE * (did & 0x7f);
    }

    private long pcAddress(int device, int pasid) {
        long table = pdtRoots[device];
        if (PDT_MODES[device] == RiscvDeviceContext.PDTP_PD20) {
            table = nextLevel(nextLevel(table + 8L * (pasid >>> 17 & 0x7)) + 8L * (pasid >>> 8 & 0x1ff));
        }
        return table + (long) RiscvProcessContext.SIZE * (pasid & 0xff);
    }

    @Override
    public void attach(int device, int pasid) {
        long root = frame();
        roots.put(device + "/" + pasid, root);
        int mode = FIRST_STAGE[device].encoding();
        long tc = RiscvDeviceContext.TC_V | RiscvDeviceContext.TC_EN_ATS | RiscvDeviceContext.TC_EN_PRI
                | RiscvDeviceContext.TC_SADE;
        if (pasid < 0) {
            new RiscvDeviceContext(tc, 0, RiscvDeviceContext.encodeTa(pscid(device, pasid)),
                    RiscvDeviceContext.encodeAtp(mode, root)).writeTo(memory, dcAddress(device));
        } else {
            if (pdtRoots[device] == 0) {
                pdtRoots[device] = frame();
                new RiscvDeviceContext(tc | RiscvDeviceContext.TC_PDTV, 0, 0,
                        RiscvDeviceContext.encodeAtp(PDT_MODES[device], pdtRoots[device]))
                        .writeTo(memory, dcAddress(device));
            }
            RiscvProcessContext.of(pscid(device, pasid), 0, RiscvDeviceContext.encodeAtp(mode, root))
                    .writeTo(memory, pcAddress(device, pasid));
        }
        submitAndFence(RiscvCommand.iodirInvalDdt(true, RIDS[device]));
    }

    private static int pscid(int device, int pasid) {
        return device << 8 | Math.max(pasid, 0) + 1;
    }

    private long root(int device, int pasid) {
        return roots.get(device + "/" + pasid);
    }

    @Override
    public void map(int device, int pasid, long iova, long pa, Rights rights) {
        long flags = RiscvPte.R | RiscvPte.U | RiscvPte.A | RiscvPte.D
                | (rights == Rights.READ_WRITE ? RiscvPte.W : 0);
        new RiscvPageTable(memory, FIRST_STAGE[device]).map(root(device, pasid), iova, pa, 4096, flags, this::frame);
    }

    @Override
    public void unmap(int device, int pasid, long iova) {
        long leaf = new RiscvPageTable(memory, FIRST_STAGE[device]).entryAddress(root(device, pasid), iova, 0);
        memory.writeLong(leaf, 0);
    }

    @Override
    public void invalidate(int device, int pasid, long iova) {
        int did = RIDS[device];
        List<RiscvCommand> commands = new ArrayList<>();
        commands.add(RiscvCommand.iodirInvalDdt(true, did));
        if (pasid >= 0) {
            commands.add(RiscvCommand.iodirInvalPdt(did, pasid));
        }
        commands.add(RiscvCommand.iotinvalVma(false, 0, true, pscid(device, pasid), true, iova));
        submitAndFence(commands.toArray(RiscvCommand[]::new));
    }

    /** Queues {@code commands} and an IOFENCE.C, then waits for the fence's store, as the driver's sync does. */
    private void submitAndFence(RiscvCommand... commands) {
        List<RiscvCommand> all = new ArrayList<>(List.of(commands));
        int value = ++fenceValue;
        all.add(RiscvCommand.iofenceC(true, false, true, true, fenceStatus, value));
        int tail = (int) iommu.readReg(RiscvRegs.CQT);
        for (RiscvCommand c : all) {
            c.writeTo(memory, cq + (long) tail * RiscvRegs.CQ_ENTRY_SIZE);
            tail = (tail + 1) % CQ_ENTRIES;
        }
        iommu.writeReg(RiscvRegs.CQT, tail);
        loop.runUntilIdle();
        if (memory.readInt(fenceStatus) != value) {
            throw new IllegalStateException("IOFENCE.C did not complete, cqcsr " + iommu.readReg(RiscvRegs.CQCSR));
        }
    }

    @Override
    public void breakDeviceContext(int device) {
        long at = dcAddress(device);
        RiscvDeviceContext.readFrom(memory, at).without(RiscvDeviceContext.TC_V).writeTo(memory, at);
    }

    @Override
    public List<HwFault> faults() {
        return List.copyOf(faults);
    }

    @Override
    public int faultLogCapacity() {
        return FQ_ENTRIES - 1;
    }

    /** The driver's fault-queue handler: clear fip, consume every record, clear the error bits. */
    @Override
    public void acknowledgeFaults() {
        iommu.writeReg(RiscvRegs.IPSR, RiscvRegs.IPSR_FIP);
        iommu.writeReg(RiscvRegs.FQH, iommu.readReg(RiscvRegs.FQT));
        iommu.writeReg(RiscvRegs.FQCSR, RiscvRegs.FQCSR_FQEN | RiscvRegs.FQCSR_FIE | RiscvRegs.FQCSR_FQOF
                | RiscvRegs.FQCSR_FQMF);
    }

    @Override
    public int enablePageRequests(int device, int pasid) {
        if (pq < 0) {
            pq = frame();
            iommu.writeReg(RiscvRegs.PQB, RiscvRegs.queueBase(pq, PQ_ENTRIES));
            iommu.writeReg(RiscvRegs.PQCSR, RiscvRegs.PQCSR_PQEN | RiscvRegs.PQCSR_PIE);
        }
        return PQ_ENTRIES - 1;
    }

    @Override
    public List<PageRequestMessage> drainPageRequests() {
        List<PageRequestMessage> out = new ArrayList<>();
        iommu.writeReg(RiscvRegs.IPSR, RiscvRegs.IPSR_PIP);
        int head = (int) iommu.readReg(RiscvRegs.PQH);
        int tail = (int) iommu.readReg(RiscvRegs.PQT);
        for (int i = head; i != tail; i = (i + 1) % PQ_ENTRIES) {
            out.add(RiscvPageRequestRecord.readFrom(memory, pq + (long) i * RiscvRegs.PQ_ENTRY_SIZE).toMessage());
        }
        iommu.writeReg(RiscvRegs.PQH, tail);
        iommu.writeReg(RiscvRegs.PQCSR, RiscvRegs.PQCSR_PQEN | RiscvRegs.PQCSR_PIE | RiscvRegs.PQCSR_PQOF
                | RiscvRegs.PQCSR_PQMF);
        return out;
    }

    @Override
    public List<PrgResponse> prgResponses(int device) {
        return List.copyOf(functions[device].responses);
    }
}
