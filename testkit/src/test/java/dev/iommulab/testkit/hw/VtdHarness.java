package dev.iommulab.testkit.hw;

import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.vtd.PageRequestDescriptor;
import dev.iommulab.hw.vtd.QiDescriptor;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdEntries;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Programs a VT-d unit in scalable mode the way the kernel's driver does (root, context, PASID
 * directory and table, first-stage x86 tables, queued invalidation, page request queue), writing only
 * memory and registers.
 */
final class VtdHarness implements ModelHarness {

    private static final int[] RIDS = {0x0018, 0x0020};

    private final EventLoop loop = new EventLoop(1);
    private final PhysicalMemory memory = new PhysicalMemory(512L << 20);
    private final List<HwFault> faults = new ArrayList<>();
    private final VtdUnit unit;
    private final X86PageTable tables = new X86PageTable(memory, 4);
    private final RecordingFunction[] functions = new RecordingFunction[2];
    private final Map<String, Long> roots = new HashMap<>();
    private final long rootTable;
    private final long iq;
    private long iqTail;
    private long nextFrame = 1L << 20;
    private long prq = -1;

    VtdHarness() {
        PcieFabric fabric = new PcieFabric(loop, TimingModel.ESTIMATES.pcieTlpNs());
        unit = new VtdUnit(VtdConfig.defaults("dmar0").withFaultRecords(2), memory, loop, TimingModel.ESTIMATES, fabric, faults::add);
        for (int i = 0; i < 2; i++) {
            functions[i] = new RecordingFunction(RIDS[i], unit);
            fabric.attach(functions[i]);
        }
        rootTable = frame();
        unit.writeReg(VtdRegs.RTADDR, rootTable | VtdRegs.RTADDR_SMT);
        unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_SRTP);
        iq = frame();
        unit.writeReg(VtdRegs.IQA, iq | VtdRegs.IQA_DW_256);
        unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_QIE | VtdRegs.GCMD_TE);
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
        return unit;
    }

    @Override
    public Set<ModelCapability> capabilities() {
        return EnumSet.allOf(ModelCapability.class);
    }

    @Override
    public int rid(int device) {
        return RIDS[device];
    }

    private long contextEntry(int device) {
        int rid = RIDS[device];
        long rootEntry = rootTable + (long) (rid >>> 8) * VtdEntries.ROOT_ENTRY_SIZE;
        long root = memory.readLong(rootEntry);
        if ((root & VtdEntries.PRESENT) == 0) {
            root = frame() | VtdEntries.PRESENT;
            memory.writeLong(rootEntry, root);
        }
        return (root & VtdEntries.ADDR_MASK) + (long) (rid & 0x7f) * VtdEntries.SM_CONTEXT_ENTRY_SIZE;
    }

    @Override
    public void attach(int device, int pasid) {
        long ctx = contextEntry(device);
        long dir = memory.readLong(ctx) & VtdEntries.ADDR_MASK;
        if (dir == 0) {
            dir = frame();
            memory.writeLong(ctx + 8, 0);
            memory.writeLong(ctx, dir | VtdEntries.CTX_DTE | VtdEntries.CTX_PASIDE | VtdEntries.CTX_PRE
                    | VtdEntries.PRESENT);
        }
        int p = Math.max(pasid, 0);
        long dirEntry = dir + (long) (p >>> VtdEntries.PASID_PDE_SHIFT) * 8;
        long table = memory.readLong(dirEntry) & VtdEntries.ADDR_MASK;
        if (table == 0) {
            table = frame();
            memory.writeLong(dirEntry, table | VtdEntries.PRESENT);
        }
        long pe = table + (long) (p & 0x3f) * VtdEntries.PASID_ENTRY_SIZE;
        long root = frame();
        roots.put(device + "/" + p, root);
        memory.writeLong(pe + 16, root);
        memory.writeLong(pe + 8, device + 1);
        memory.writeLong(pe, ((long) VtdEntries.PGTT_FIRST_STAGE << VtdEntries.PE_PGTT_SHIFT) | VtdEntries.PRESENT);
    }

    @Override
    public void map(int device, int pasid, long iova, long pa, Rights rights) {
        long flags = X86Pte.US | (rights == Rights.READ_WRITE ? X86Pte.RW : 0);
        tables.map4k(roots.get(device + "/" + Math.max(pasid, 0)), iova, pa, flags, this::frame);
    }

    @Override
    public void unmap(int device, int pasid, long iova) {
        long leaf = tables.leafEntryAddress(roots.get(device + "/" + Math.max(pasid, 0)), iova);
        memory.writeLong(leaf, 0);
    }

    @Override
    public void invalidate(int device, int pasid, long iova) {
        int did = device + 1;
        int p = Math.max(pasid, 0);
        submit(new QiDescriptor(QiDescriptor.TYPE_CONTEXT_CACHE | 1L << 4, 0, 0, 0),
                new QiDescriptor(QiDescriptor.TYPE_PASID_CACHE | 3L << 4, 0, 0, 0),
                new QiDescriptor(QiDescriptor.TYPE_PASID_IOTLB | (long) did << 16 | (long) p << 32 | 2L << 4, 0, 0, 0),
                new QiDescriptor(QiDescriptor.TYPE_IOTLB | 1L << 4, 0, 0, 0));
    }

    private void submit(QiDescriptor... descriptors) {
        long status = iq + 4096 - 64;
        memory.writeInt(status, 1);
        List<QiDescriptor> all = new ArrayList<>(List.of(descriptors));
        all.add(QiDescriptor.invalidationWait(2, status, QiDescriptor.IWD_FENCE));
        for (QiDescriptor d : all) {
            memory.writeLong(iq + iqTail, d.qw0());
            memory.writeLong(iq + iqTail + 8, d.qw1());
            memory.writeLong(iq + iqTail + 16, d.qw2());
            memory.writeLong(iq + iqTail + 24, d.qw3());
            iqTail = (iqTail + 32) % (4096 - 64);
        }
        unit.writeReg(VtdRegs.IQT, iqTail);
        loop.runUntilIdle();
        if (memory.readInt(status) != 2) {
            throw new IllegalStateException("invalidation wait did not complete");
        }
    }

    @Override
    public void breakDeviceContext(int device) {
        long ctx = contextEntry(device);
        memory.writeLong(ctx, memory.readLong(ctx) & ~VtdEntries.PRESENT);
    }

    @Override
    public List<HwFault> faults() {
        return List.copyOf(faults);
    }

    /** CAP.NFR + 1 fault recording registers. */
    @Override
    public int faultLogCapacity() {
        return VtdRegs.capNumFaultRegs(unit.readReg(VtdRegs.CAP));
    }

    /** What dmar_fault() does: clear F in every fault recording register, then PFO in FSTS. */
    @Override
    public void acknowledgeFaults() {
        int base = VtdRegs.capFaultRegOffset(unit.readReg(VtdRegs.CAP));
        for (int i = 0; i < faultLogCapacity(); i++) {
            unit.writeReg(base + VtdRegs.FRCD_SIZE * i + 12, 1L << 31);
        }
        unit.writeReg(VtdRegs.FSTS, VtdRegs.FSTS_PFO | VtdRegs.FSTS_PPF);
    }

    @Override
    public int enablePageRequests(int device, int pasid) {
        if (prq < 0) {
            prq = frame();
            unit.writeReg(VtdRegs.PQA, prq);
        }
        return 4096 / VtdRegs.DESC_SIZE - 1;
    }

    @Override
    public List<PageRequestMessage> drainPageRequests() {
        List<PageRequestMessage> out = new ArrayList<>();
        long head = unit.readReg(VtdRegs.PQH);
        long tail = unit.readReg(VtdRegs.PQT);
        while (head != tail) {
            PageRequestDescriptor d = PageRequestDescriptor.readFrom(memory, prq + head);
            out.add(new PageRequestMessage(d.rid(), d.pasidPresent(), d.pasid(), d.exeReq(), d.pmReq(), d.rdReq(),
                    d.wrReq(), d.lpig(), d.prgIndex(), d.addr()));
            head = (head + VtdRegs.DESC_SIZE) % 4096;
        }
        unit.writeReg(VtdRegs.PQH, tail);
        unit.writeReg(VtdRegs.PRS, VtdRegs.PRS_PPR | VtdRegs.PRS_PRO);
        return out;
    }

    @Override
    public List<PrgResponse> prgResponses(int device) {
        return List.copyOf(functions[device].responses);
    }
}
