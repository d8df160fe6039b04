package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.InterruptLine;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.TimingModel;
import java.util.Objects;

/**
 * One Intel VT-d DMA-remapping unit in scalable mode. Software programs it through MMIO registers
 * ({@link #writeReg}/{@link #readReg}, offsets in {@link VtdRegs}) and structures in physical memory;
 * devices reach it through {@link IommuHardware}.
 */
public final class VtdUnit implements IommuHardware {

    private final VtdConfig config;
    private final PhysicalMemory memory;
    private final EventLoop loop;
    private final TimingModel timing;
    private final PcieFabric fabric;
    private final HwFaultObserver faultObserver;
    private final ContextWalk contextWalk;
    private final FirstStageTranslation translation;
    private final PageRequestQueue prq;
    private final InvalidationQueue iq;

    private int gsts;
    private long rtaddr;
    private int fsts;

    public VtdUnit(VtdConfig config, PhysicalMemory memory, EventLoop loop, TimingModel timing, PcieFabric fabric,
                   HwFaultObserver faultObserver) {
        this.config = Objects.requireNonNull(config, "config");
        this.memory = Objects.requireNonNull(memory, "memory");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.timing = Objects.requireNonNull(timing, "timing");
        this.fabric = Objects.requireNonNull(fabric, "fabric");
        this.faultObserver = Objects.requireNonNull(faultObserver, "faultObserver");
        this.contextWalk = new ContextWalk(memory);
        this.translation = new FirstStageTranslation(memory);
        this.prq = new PageRequestQueue(this);
        this.iq = new InvalidationQueue(this);
    }

    public VtdConfig config() {
        return config;
    }

    PhysicalMemory memory() {
        return memory;
    }

    EventLoop loop() {
        return loop;
    }

    TimingModel timing() {
        return timing;
    }

    PcieFabric fabric() {
        return fabric;
    }

    ContextWalk contextWalk() {
        return contextWalk;
    }

    long rootTable() {
        return rtaddr;
    }

    // ---- interrupts (MSI programming through PEDATA/PEADDR, FEDATA/FEADDR) ----

    /** The vector the page request event is delivered to. */
    public void setPageRequestInterrupt(InterruptLine line) {
        prq.setInterrupt(line);
    }

    // ---- MMIO ----

    /** A 64-bit MMIO read. Unknown offsets read as zero. */
    public long readReg(int offset) {
        return switch (offset) {
            case VtdRegs.GSTS -> gsts & 0xffffffffL;
            case VtdRegs.RTADDR -> rtaddr;
            case VtdRegs.FSTS -> fsts;
            case VtdRegs.IQH, VtdRegs.IQT, VtdRegs.IQA -> iq.readReg(offset);
            case VtdRegs.PQH, VtdRegs.PQT, VtdRegs.PQA, VtdRegs.PRS, VtdRegs.PECTL -> prq.readReg(offset);
            default -> 0;
        };
    }

    /** A 64-bit MMIO write. Writes to read-only or unknown offsets are ignored. */
    public void writeReg(int offset, long value) {
        switch (offset) {
            case VtdRegs.GCMD -> command((int) value);
            case VtdRegs.RTADDR -> rtaddr = value;
            case VtdRegs.FSTS -> fsts &= ~(int) value; // RW1C
            case VtdRegs.IQH, VtdRegs.IQT, VtdRegs.IQA -> iq.writeReg(offset, value);
            case VtdRegs.PQH, VtdRegs.PQT, VtdRegs.PQA, VtdRegs.PRS, VtdRegs.PECTL -> prq.writeReg(offset, value);
            default -> {
            }
        }
    }

    private void command(int gcmd) {
        int status = 0;
        if ((gcmd & VtdRegs.GCMD_TE) != 0) {
            status |= VtdRegs.GCMD_TE;
        }
        if ((gcmd & VtdRegs.GCMD_QIE) != 0) {
            status |= VtdRegs.GCMD_QIE;
        }
        if ((gcmd & VtdRegs.GCMD_SRTP) != 0) {
            status |= VtdRegs.GCMD_SRTP;
        }
        gsts = status | (gsts & VtdRegs.GCMD_SRTP);
    }

    boolean translationEnabled() {
        return (gsts & VtdRegs.GCMD_TE) != 0;
    }

    void setFaultStatus(int bits) {
        fsts |= bits;
    }

    // ---- device side ----

    @Override
    public AtsCompletion translationRequest(AtsTranslationRequest request) {
        ContextWalk.Result ctx = contextWalk.resolve(rtaddr, request.rid(), request.pasidPresent(), request.pasid());
        Access access = request.noWrite() ? Access.READ : Access.WRITE;
        if (!ctx.ok()) {
            reportFault(ctx.fault(), ctx.fpd(), request.rid(), request.pasidPresent() ? request.pasid() : -1,
                    request.addr(), access);
            return AtsCompletion.error(CompletionStatus.UR);
        }
        if (!ctx.contextHas(VtdEntries.CTX_DTE)) {
            reportFault(VtdFaultReason.SM_CONTEXT_DTE_CLEAR, ctx.fpd(), request.rid(), ctx.pasid(), request.addr(),
                    access);
            return AtsCompletion.error(CompletionStatus.UR);
        }
        AtsCompletion completion = translation.atsTranslate(ctx, request);
        loop.trace().step(loop.now(), Layer.IOMMU, "vtd-ats", String.format(
                "%s: translation request %04x PASID %d %#x -> %s R=%d W=%d", config.name(), request.rid(),
                request.pasid(), request.addr(), completion.status(), completion.read() ? 1 : 0,
                completion.write() ? 1 : 0));
        return completion;
    }

    @Override
    public DmaCompletion memoryRequest(DmaRequest request) {
        ContextWalk.Result ctx = contextWalk.resolve(rtaddr, request.rid(), request.pasidPresent(), request.pasid());
        int pasid = request.pasidPresent() ? request.pasid() : -1;
        if (!ctx.ok()) {
            reportFault(ctx.fault(), ctx.fpd(), request.rid(), pasid, request.addr(), request.access());
            return DmaCompletion.failed(CompletionStatus.UR);
        }
        long pa;
        switch (request.addressType()) {
            case TRANSLATED -> {
                if (!ctx.contextHas(VtdEntries.CTX_DTE)) {
                    reportFault(VtdFaultReason.SM_CONTEXT_DTE_CLEAR, ctx.fpd(), request.rid(), pasid, request.addr(),
                            request.access());
                    return DmaCompletion.failed(CompletionStatus.UR);
                }
                pa = request.addr();
            }
            case UNTRANSLATED -> {
                FirstStageTranslation.Outcome out = translation.translate(ctx, request);
                if (out.fault() != null) {
                    reportFault(out.fault(), ctx.fpd(), request.rid(), pasid, request.addr(), request.access());
                    return DmaCompletion.failed(CompletionStatus.UR);
                }
                pa = out.pa();
            }
            default -> throw new AssertionError(request.addressType());
        }
        if (!memory.contains(pa, request.length())) {
            return DmaCompletion.failed(CompletionStatus.UR);
        }
        if (request.access() == Access.WRITE) {
            memory.write(pa, request.data());
            return DmaCompletion.ok(null);
        }
        return DmaCompletion.ok(memory.read(pa, request.length()));
    }

    @Override
    public void pageRequest(PageRequestMessage message) {
        prq.receive(message);
    }

    /** Reports a translation fault; recording in fault registers arrives with the full fault model. */
    void reportFault(VtdFaultReason reason, boolean fpd, int rid, int pasid, long addr, Access access) {
        boolean recorded = !(fpd && reason.qualified());
        loop.trace().step(loop.now(), Layer.IOMMU, "vtd-fault", String.format(
                "%s: fault reason %#x (%s) SID %04x PASID %d addr %#x%s", config.name(), reason.code(), reason.name(),
                rid, pasid, addr, recorded ? "" : " [suppressed by FPD]"));
        faultObserver.faultDetected(new HwFault(loop.now(), rid, pasid, addr, access, reason.reason(),
                reason.code(), recorded));
    }
}
