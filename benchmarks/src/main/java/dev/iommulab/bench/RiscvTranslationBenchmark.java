package dev.iommulab.bench;

import dev.iommulab.hw.iommu.AddressType;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.pgtable.RiscvPageTable;
import dev.iommulab.hw.pgtable.RiscvPagingMode;
import dev.iommulab.hw.pgtable.RiscvPte;
import dev.iommulab.hw.riscv.RiscvConfig;
import dev.iommulab.hw.riscv.RiscvDeviceContext;
import dev.iommulab.hw.riscv.RiscvIommu;
import dev.iommulab.hw.riscv.RiscvProcessContext;
import dev.iommulab.hw.riscv.RiscvRegs;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.TimingModel;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;

/**
 * The RISC-V IOMMU translating for an SVA device: 3-level DDT, device context with PDTV, PD17 process
 * directory, process context with an Sv39 first stage, 8 present user pages (A and D set).
 *
 * <p>{@code untranslatedRead} is an 8-byte untranslated DMA read with a {@code process_id}: with
 * {@code caches = on} it hits the device-context cache, the process-context cache and the IOTLB (the RISC-V
 * counterpart of {@link VtdTranslationBenchmark}'s IOTLB hit); with {@code caches = off} (all three of 0 entries)
 * it reads 3 DDT levels, 2 PDT levels and the 3 Sv39 levels every time. {@code translationRequest} is an ATS
 * Translation Request, which the model always walks (riscv-iommu "PCIe ATS translation request handling"), so
 * only the directory caches help it.
 */
public class RiscvTranslationBenchmark extends TranslationBenchmark {

    private static final int DEVICE_ID = 0x0100;
    private static final int PROCESS_ID = 5;
    private static final int PSCID = 7;
    private static final long VA = 0x0000_0020_0000_0000L;
    /** The mapped pages; the directory and page tables are below. */
    private static final long DATA = 32L << 20;
    private static final long FLAGS = RiscvPte.R | RiscvPte.W | RiscvPte.U | RiscvPte.A | RiscvPte.D;

    @Param({"on", "off"})
    public String caches;

    private PhysicalMemory memory;
    private TableFrames frames;

    @Setup(Level.Trial)
    public void build() {
        EventLoop loop = new EventLoop(1);
        memory = new PhysicalMemory(64L << 20);
        frames = new TableFrames(1L << 20, DATA);
        RiscvConfig config = RiscvConfig.defaults("riscv-iommu0");
        if (caches.equals("off")) {
            config = new RiscvConfig(config.name(), config.capabilities(), 0, 0, 0, config.atsInvalidationTimeoutNs(),
                    config.autoRespondPageRequests());
        }
        RiscvIommu iommu = new RiscvIommu(config, memory, loop, TimingModel.ESTIMATES,
                new PcieFabric(loop, TimingModel.ESTIMATES.pcieTlpNs()), fault -> { });
        hw = iommu;
        long ddt = frames.allocate();
        long pdt = frames.allocate();
        long fsRoot = frames.allocate();
        long dc = nextLevel(nextLevel(ddt + 8L * (DEVICE_ID >>> 16 & 0xff)) + 8L * (DEVICE_ID >>> 7 & 0x1ff))
                + (long) RiscvDeviceContext.SIZE * (DEVICE_ID & 0x7f);
        new RiscvDeviceContext(RiscvDeviceContext.TC_V | RiscvDeviceContext.TC_EN_ATS | RiscvDeviceContext.TC_PDTV
                | RiscvDeviceContext.TC_SADE, 0, 0, RiscvDeviceContext.encodeAtp(RiscvDeviceContext.PDTP_PD17, pdt))
                .writeTo(memory, dc);
        long pc = nextLevel(pdt + 8L * (PROCESS_ID >>> 8 & 0x1ff)) + (long) RiscvProcessContext.SIZE
                * (PROCESS_ID & 0xff);
        RiscvProcessContext.of(PSCID, 0, RiscvDeviceContext.encodeAtp(8, fsRoot)).writeTo(memory, pc);
        RiscvPageTable table = new RiscvPageTable(memory, RiscvPagingMode.SV39);
        for (int i = 0; i < PAGES; i++) {
            long va = VA + 4096L * i;
            table.map(fsRoot, va, DATA + 4096L * i, 4096, FLAGS, frames::allocate);
            reads[i] = new DmaRequest(DEVICE_ID, AddressType.UNTRANSLATED, true, PROCESS_ID, va + 8, 8, Access.READ,
                    false, null);
            translationRequests[i] = new AtsTranslationRequest(DEVICE_ID, true, PROCESS_ID, va, false, false, false);
        }
        iommu.writeReg(RiscvRegs.DDTP, RiscvRegs.ddtp(RiscvRegs.DDTP_MODE_3LVL, ddt));
        for (DmaRequest r : reads) {
            if (!iommu.memoryRequest(r).ok()) {
                throw new IllegalStateException("benchmark tables are broken: " + r);
            }
        }
    }

    /** The table the non-leaf entry at {@code entry} points to, allocated on first use. */
    private long nextLevel(long entry) {
        long value = memory.readLong(entry);
        if ((value & RiscvDeviceContext.NON_LEAF_V) == 0) {
            value = RiscvDeviceContext.nonLeaf(frames.allocate());
            memory.writeLong(entry, value);
        }
        return RiscvRegs.ppnAddress(value);
    }
}
