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
 * One Intel VT-d DMA-remapping unit, legacy and scalable mode (RTADDR.TTM selects). Software programs it
 * through MMIO registers ({@link #writeReg}/{@link #readReg}, offsets in {@link VtdRegs}) and structures
 * in physical memory; devices reach it through {@link IommuHardware}. The parts: {@link RemappingEngine}
 * (contexts, PASID entries, first/second-stage and nested walks, context cache, PASID cache, IOTLB),
 * {@link FaultRecording} (fault recording registers, FSTS, fault event), {@link PageRequestQueue} and
 * {@link InvalidationQueue}.
 *
 * <p>Never throws on what software wrote: a bad structure gives the fault the hardware reports.
 */
public final class VtdUnit implements IommuHardware {

    private final VtdConfig config;
    private final PhysicalMemory memory;
    private final EventLoop loop;
    private final TimingModel timing;
    private final PcieFabric fabric;
    private final HwFaultObserver faultObserver;
    private final FaultRecording faults;
    private final RemappingEngine engine;
    private final PageRequestQueue prq;
    private final InvalidationQueue iq;

    private int gsts;
    private long rtaddr;

    public VtdUnit(VtdConfig config, PhysicalMemory memory, EventLoop loop, TimingModel timing, PcieFabric fabric,
                   HwFaultObserver faultObserver) {
        this.config = Objects.requireNonNull(config, "config");
        this.memory = Objects.requireNonNull(memory, "memory");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.timing = Objects.requireNonNull(timing, "timing");
        this.fabric = Objects.requireNonNull(fabric, "fabric");
        this.faultObserver = Objects.requireNonNull(faultObserver, "faultObserver");
        this.faults = new FaultRecording(this, config.faultRecords());
        this.engine = new RemappingEngine(this, memory, config);
        this.prq = new PageRequestQueue(this);
        this.iq = new InvalidationQueue(this, engine.caches(), engine.iotlb());
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

    FaultRecording faults() {
        return faults;
    }

    RemappingEngine engine() {
        return engine;
    }

    PageRequestQueue prq() {
        return prq;
    }

    InvalidationQueue invalidationQueue() {
        return iq;
    }

    long rootTable() {
        return rtaddr;
    }

    boolean queuedInvalidationEnabled() {
        return (gsts & VtdRegs.GCMD_QIE) != 0;
    }

    // ---- interrupts (MSI programming through PEDATA/PEADDR, FEDATA/FEADDR, IEDATA/IEADDR) ----

    /** The vector the page request event is delivered to. */
    public void setPageRequestInterrupt(InterruptLine line) {
        prq.event().setLine(line);
    }

    /** The vector the fault event (primary fault logging, IQE/ICE/ITE) is delivered to. */
    public void setFaultEventInterrupt(InterruptLine line) {
        faults.event().setLine(line);
    }

    /** The vector the invalidation completion event (wait descriptor with IF) is delivered to. */
    public void setInvalidationCompletionInterrupt(InterruptLine line) {
        iq.completionEvent().setLine(line);
    }

    // ---- MMIO ----

    /** A 64-bit MMIO read (the upper dword of a fault recording register also at +12). Unknown offsets read 0. */
    public long readReg(int offset) {
        if (faults.owns(offset)) {
            return faults.readReg(offset);
        }
        return switch (offset) {
            case VtdRegs.VER -> 0x30;
            case VtdRegs.CAP -> cap();
            case VtdRegs.ECAP -> ecap();
            case VtdRegs.GSTS -> gsts & 0xffffffffL;
            case VtdRegs.RTADDR -> rtaddr;
            case VtdRegs.IQH, VtdRegs.IQT, VtdRegs.IQA, VtdRegs.ICS, VtdRegs.IECTL, VtdRegs.IQERCD -> iq.readReg(offset);
            case VtdRegs.PQH, VtdRegs.PQT, VtdRegs.PQA, VtdRegs.PRS, VtdRegs.PECTL -> prq.readReg(offset);
            default -> 0;
        };
    }

    /** A 64-bit MMIO write. Writes to read-only or unknown offsets are ignored. */
    public void writeReg(int offset, long value) {
        if (faults.owns(offset)) {
            int cleared = faults.writeReg(offset, value);
            if ((cleared & (VtdRegs.FSTS_IQE | VtdRegs.FSTS_ITE)) != 0) {
                iq.progress();
            }
            return;
        }
        switch (offset) {
            case VtdRegs.GCMD -> command((int) value);
            case VtdRegs.RTADDR -> rtaddr = value;
            case VtdRegs.IQH, VtdRegs.IQT, VtdRegs.IQA, VtdRegs.ICS, VtdRegs.IECTL -> iq.writeReg(offset, value);
            case VtdRegs.PQH, VtdRegs.PQT, VtdRegs.PQA, VtdRegs.PRS, VtdRegs.PECTL -> prq.writeReg(offset, value);
            default -> {
            }
        }
    }

    private void command(int gcmd) {
        boolean qiWasOn = queuedInvalidationEnabled();
        int status = gcmd & (VtdRegs.GCMD_TE | VtdRegs.GCMD_QIE | VtdRegs.GCMD_SRTP);
        gsts = status | (gsts & VtdRegs.GCMD_SRTP);
        if (!qiWasOn && queuedInvalidationEnabled()) {
            iq.process();
        }
    }

    /**
     * CAP: 64K domains, 3/4/5-level second stage (SAGAW), MGAW 57, FRO/NFR for the fault recording
     * registers, 2M/1G second-stage pages, page-selective invalidation with MAMV 9, read/write draining,
     * 1G and 5-level first stage.
     */
    private long cap() {
        return 6L | 0b01110L << 8 | 56L << 16 | (long) (VtdRegs.FRCD_BASE / 16) << 24 | 0b11L << 34 | 1L << 39
                | (long) (faults.count() - 1) << 40 | (long) QiExecutor.MAMV << 48 | 1L << 54 | 1L << 55 | 1L << 56
                | 1L << 60;
    }

    /** ECAP: coherent, QI, device-TLB, pass-through; with scalable mode also PASID (20 bits), PRS, ... */
    private long ecap() {
        long ecap = VtdRegs.ECAP_C | VtdRegs.ECAP_QI | VtdRegs.ECAP_DT | VtdRegs.ECAP_PT;
        if (config.scalableModeSupported()) {
            ecap |= VtdRegs.ECAP_NEST | VtdRegs.ECAP_PRS | VtdRegs.ECAP_ERS | VtdRegs.ECAP_SRS
                    | 19L << VtdRegs.ECAP_PSS_SHIFT | VtdRegs.ECAP_PASID | VtdRegs.ECAP_PDS | VtdRegs.ECAP_SMTS
                    | VtdRegs.ECAP_SLADS | VtdRegs.ECAP_SLTS | VtdRegs.ECAP_FLTS | VtdRegs.ECAP_RPS
                    | (config.pageWalkCoherent() ? VtdRegs.ECAP_SMPWCS : 0);
        }
        return ecap;
    }

    // ---- device side ----

    @Override
    public AtsCompletion translationRequest(AtsTranslationRequest request) {
        long page = request.addr() & ~0xfffL;
        RemappingEngine.Request r = new RemappingEngine.Request(request.rid(), request.pasidPresent(), request.pasid(),
                page, !request.noWrite(), request.exe(), request.priv(), RemappingEngine.Kind.TRANSLATION_REQUEST);
        AtsCompletion completion = translate(r, request);
        if (loop.trace().enabled()) { // the arguments alone (boxing, varargs) cost a third of an IOTLB hit
            loop.trace().step(loop.now(), Layer.IOMMU, "vtd-ats",
                    "%s: translation request %04x PASID %d %#x -> %s R=%d W=%d", config.name(), request.rid(),
                    request.pasid(), request.addr(), completion.status(), completion.read() ? 1 : 0,
                    completion.write() ? 1 : 0);
        }
        return completion;
    }

    private AtsCompletion translate(RemappingEngine.Request r, AtsTranslationRequest request) {
        RemappingEngine.Result res = engine.remap(r);
        if (!res.ok()) {
            if (res.fault().pageWalk()) {
                return res.fault().notPresentForAts() ? AtsCompletion.notAccessible()
                        : AtsCompletion.error(CompletionStatus.CA);
            }
            reportFault(res.fault(), res.fpd(), record(r, request.addr(), 1, res.fault()),
                    request.noWrite() ? Access.READ : Access.WRITE);
            return AtsCompletion.error(CompletionStatus.UR);
        }
        PasidEntry pe = res.pasidEntry();
        if (res.effective().priv() && pe != null && !pe.sre()) {
            return AtsCompletion.error(CompletionStatus.UR);
        }
        AtsCompletion completion = AccessRights.completion(res);
        if ((completion.read() || completion.write()) && res.commit().use(completion.write()) != null) {
            return AtsCompletion.error(CompletionStatus.CA);
        }
        return completion;
    }

    @Override
    public DmaCompletion memoryRequest(DmaRequest request) {
        RemappingEngine.Kind kind = switch (request.addressType()) {
            case UNTRANSLATED -> RemappingEngine.Kind.UNTRANSLATED;
            case TRANSLATED -> RemappingEngine.Kind.TRANSLATED;
        };
        RemappingEngine.Request r = new RemappingEngine.Request(request.rid(), request.pasidPresent(), request.pasid(),
                request.addr(), request.access() == Access.WRITE, request.access() == Access.EXEC, request.priv(), kind);
        int at = kind == RemappingEngine.Kind.TRANSLATED ? 2 : 0;
        RemappingEngine.Result res = engine.remap(r);
        VtdFaultReason fault = res.fault();
        long pa = res.ok() ? res.translation().pa(request.addr()) : 0;
        if (fault == null && kind == RemappingEngine.Kind.UNTRANSLATED) {
            fault = AccessRights.check(res, pa);
            if (fault == null) {
                fault = res.commit().use(r.write());
            }
        }
        if (fault != null) {
            reportFault(fault, res.fpd(), record(r, request.addr(), at, fault), request.access());
            return DmaCompletion.failed(CompletionStatus.UR);
        }
        return DmaCompletion.perform(memory, pa, request);
    }

    @Override
    public void pageRequest(PageRequestMessage message) {
        prq.receive(message);
    }

    @Override
    public void atsInvalidateCompletion(int rid, int itagVector) {
        iq.atsInvalidateCompletion(rid, itagVector);
    }

    private static FaultRecord record(RemappingEngine.Request r, long addr, int at, VtdFaultReason reason) {
        return new FaultRecord(r.rid(), r.pasidPresent(), r.pasid(), addr,
                r.write() ? FaultRecord.Type.WRITE : FaultRecord.Type.READ, at, r.exec(), r.priv(), reason.code());
    }

    /**
     * Reports a fault: recorded in the fault recording registers unless FPD suppresses it (qualified
     * faults) or the registers lose it (PFO, same-SID collapse); the observer sees it either way.
     */
    void reportFault(VtdFaultReason reason, boolean fpd, FaultRecord record, Access access) {
        boolean suppressed = fpd && reason.qualified();
        boolean recorded = !suppressed && faults.record(record).recorded();
        loop.trace().step(loop.now(), Layer.IOMMU, "vtd-fault",
                "%s: fault reason %#x (%s) SID %04x PASID %d addr %#x%s", config.name(), reason.code(), reason.name(),
                record.sid(), record.pasidPresent() ? record.pasid() : -1, record.addr(),
                suppressed ? " [suppressed by FPD]" : recorded ? "" : " [not recorded]");
        faultObserver.faultDetected(HwFault.of(loop.now(), record, record.addr(), access, reason.reason(), recorded,
                false));
    }
}
