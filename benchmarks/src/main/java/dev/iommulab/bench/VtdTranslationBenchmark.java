package dev.iommulab.bench;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.X86PageTable;
import dev.iommulab.hw.pgtable.X86Pte;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import dev.iommulab.hw.vtd.PageRequestDescriptor;
import dev.iommulab.hw.vtd.VtdConfig;
import dev.iommulab.hw.vtd.VtdEntries;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * The VT-d unit answering an ATS Translation Request for a present page, in scalable mode with a
 * first-stage x86-64 4-level table: {@code caches = on} hits the context cache, PASID cache and IOTLB
 * (the "translation with an IOTLB hit"); {@code caches = off} walks root, context, PASID
 * directory, PASID table and the four first-stage levels every time (the "4-level walk miss"). And
 * one page request queued by the unit and consumed by software ({@code pageRequestEnqueueDequeue}).
 * {@code untranslatedRead} is an 8-byte untranslated DMA read through the same caches, to compare with
 * {@link RiscvTranslationBenchmark#untranslatedRead}.
 */
public class VtdTranslationBenchmark extends TranslationBenchmark {

    private static final int RID = 0x0018;
    private static final int PASID = 1;
    private static final long VA = 0x7f00_0000_0000L;
    /** The mapped pages; the tables and the page request queue are below. */
    private static final long DATA = 64L << 20;

    @Param({"on", "off"})
    public String caches;

    private EventLoop loop;
    private PhysicalMemory memory;
    private VtdUnit unit;
    private long prq;
    private PageRequestMessage pageRequest;

    @Setup(Level.Trial)
    public void build() {
        loop = new EventLoop(1);
        memory = new PhysicalMemory(256L << 20);
        TableFrames frames = new TableFrames(1L << 20, DATA);
        VtdConfig config = VtdConfig.defaults("dmar0");
        if (caches.equals("off")) {
            config = config.withCacheEntries(0);
        }
        unit = new VtdUnit(config, memory, loop, TimingModel.ESTIMATES,
                new PcieFabric(loop, TimingModel.ESTIMATES.pcieTlpNs()), fault -> { });
        hw = unit;
        long root = frames.allocate();
        long ctxTable = frames.allocate();
        long dir = frames.allocate();
        long pasidTable = frames.allocate();
        long pgd = frames.allocate();
        memory.writeLong(root, ctxTable | VtdEntries.PRESENT);
        memory.writeLong(ctxTable + (RID & 0x7f) * 32L, dir | VtdEntries.CTX_DTE | VtdEntries.CTX_PASIDE
                | VtdEntries.CTX_PRE | VtdEntries.PRESENT);
        memory.writeLong(dir, pasidTable | VtdEntries.PRESENT);
        long pe = pasidTable + PASID * 64L;
        memory.writeLong(pe + 16, pgd);
        memory.writeLong(pe + 8, 1);
        memory.writeLong(pe, ((long) VtdEntries.PGTT_FIRST_STAGE << VtdEntries.PE_PGTT_SHIFT) | VtdEntries.PRESENT);
        X86PageTable table = new X86PageTable(memory, 4);
        for (int i = 0; i < PAGES; i++) {
            table.map4k(pgd, VA + 4096L * i, DATA + 4096L * i, X86Pte.US | X86Pte.RW | X86Pte.A | X86Pte.D,
                    frames::allocate);
            translationRequests[i] = new AtsTranslationRequest(RID, true, PASID, VA + 4096L * i, false, false, false);
            reads[i] = new DmaRequest(RID, AddressType.UNTRANSLATED, true, PASID, VA + 4096L * i + 8, 8, Access.READ,
                    false, null);
        }
        unit.writeReg(VtdRegs.RTADDR, root | VtdRegs.RTADDR_SMT);
        unit.writeReg(VtdRegs.GCMD, VtdRegs.GCMD_SRTP | VtdRegs.GCMD_TE);
        prq = frames.allocate();
        unit.writeReg(VtdRegs.PQA, prq);
        pageRequest = new PageRequestMessage(RID, true, PASID, false, false, true, false, true, 5, VA);
    }

    /** The unit checks and queues the request (one walk latency later), then software consumes it. */
    @Benchmark
    public PageRequestDescriptor pageRequestEnqueueDequeue() {
        unit.pageRequest(pageRequest);
        loop.runUntilIdle();
        long head = unit.readReg(VtdRegs.PQH);
        PageRequestDescriptor d = PageRequestDescriptor.readFrom(memory, prq + head);
        unit.writeReg(VtdRegs.PQH, (head + VtdRegs.DESC_SIZE) % 4096);
        unit.writeReg(VtdRegs.PRS, VtdRegs.PRS_PPR);
        return d;
    }
}
