package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.AtsCompletion;
import dev.iommulab.hw.iommu.AtsTranslationRequest;
import dev.iommulab.hw.iommu.CompletionStatus;
import dev.iommulab.hw.iommu.DmaCompletion;
import dev.iommulab.hw.iommu.DmaRequest;
import dev.iommulab.hw.iommu.HwFault;
import dev.iommulab.hw.iommu.HwFaultObserver;
import dev.iommulab.hw.iommu.HwFaultReason;
import dev.iommulab.hw.iommu.InterruptLine;
import dev.iommulab.hw.iommu.IommuHardware;
import dev.iommulab.hw.iommu.PageRequestMessage;
import dev.iommulab.hw.iommu.PcieFabric;
import dev.iommulab.hw.mem.PhysicalMemory;
import dev.iommulab.hw.pgtable.Access;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.sim.Trace;
import dev.iommulab.hw.sim.TimingModel;
import java.util.Objects;

/**
 * A RISC-V IOMMU (riscv-iommu specification 1.0; reference/iommu-hardware.md §2.4). Software programs it
 * through the memory-mapped registers of {@link RiscvRegs} ({@link #readReg}/{@link #writeReg}) and through
 * structures in physical memory: the device directory table with base-format device contexts, process
 * directory tables, first-stage and G-stage page tables, and the command, fault and page-request queues.
 * Devices reach it through {@link IommuHardware}. Faults become 32-byte fault-queue records; every fault the
 * model detects also goes to the {@link HwFaultObserver}, with {@link HwFault#vendorCode()} = CAUSE and
 * {@link HwFault#recorded()} true only when the record reached the queue.
 *
 * <p>Fixed features: {@code fctl.BE} = 0 and {@code fctl.GXL} = 0 (not writable); {@code fctl.WSI} is writable
 * when {@code capabilities.IGS} is BOTH. Register writes take effect at once ({@code busy} reads 0).
 */
public final class RiscvIommu implements IommuHardware {

    private final RiscvConfig config;
    private final PhysicalMemory memory;
    private final EventLoop loop;
    private final PcieFabric fabric;
    private final HwFaultObserver faultObserver;
    private final InterruptPending ipsr;
    private final TranslationProcess translation;
    private final FaultQueue fq;
    private final PageRequestQueue pq;
    private final CommandQueue cq;
    private long ddtp = RiscvRegs.DDTP_MODE_OFF;
    private int fctl;
    private long icvec;

    public RiscvIommu(RiscvConfig config, PhysicalMemory memory, EventLoop loop, TimingModel timing, PcieFabric fabric,
                      HwFaultObserver faultObserver) {
        this.config = Objects.requireNonNull(config, "config");
        this.memory = Objects.requireNonNull(memory, "memory");
        this.loop = Objects.requireNonNull(loop, "loop");
        this.fabric = Objects.requireNonNull(fabric, "fabric");
        this.faultObserver = Objects.requireNonNull(faultObserver, "faultObserver");
        this.ipsr = new InterruptPending(loop, Objects.requireNonNull(timing, "timing"));
        this.translation = new TranslationProcess(memory, config);
        this.fq = new FaultQueue(memory, ipsr, config.faultQuota());
        this.pq = new PageRequestQueue(this, ipsr);
        this.cq = new CommandQueue(this, ipsr);
    }

    public RiscvConfig config() {
        return config;
    }

    // ---- interrupts: one vector per source (icvec / msi_cfg_tbl are not modelled) ----

    /** The vector signalled when {@code ipsr.cip} goes from 0 to 1. */
    public void setCommandQueueInterrupt(InterruptLine line) {
        ipsr.setLine(RiscvRegs.IPSR_CIP, line);
    }

    /** The vector signalled when {@code ipsr.fip} goes from 0 to 1. */
    public void setFaultQueueInterrupt(InterruptLine line) {
        ipsr.setLine(RiscvRegs.IPSR_FIP, line);
    }

    /** The vector signalled when {@code ipsr.pip} goes from 0 to 1. */
    public void setPageRequestInterrupt(InterruptLine line) {
        ipsr.setLine(RiscvRegs.IPSR_PIP, line);
    }

    // ---- MMIO ----

    /** Reads the register at {@code offset} with its width (4 or 8 bytes). Other offsets read 0. */
    public long readReg(int offset) {
        return switch (offset) {
            case RiscvRegs.CAPABILITIES -> config.capabilities();
            case RiscvRegs.FCTL -> fctl;
            case RiscvRegs.DDTP -> ddtp;
            case RiscvRegs.CQB, RiscvRegs.CQH, RiscvRegs.CQT, RiscvRegs.CQCSR -> cq.readReg(offset);
            case RiscvRegs.FQB, RiscvRegs.FQH, RiscvRegs.FQT, RiscvRegs.FQCSR -> fq.readReg(offset);
            case RiscvRegs.PQB, RiscvRegs.PQH, RiscvRegs.PQT, RiscvRegs.PQCSR ->
                    config.has(RiscvRegs.CAP_ATS) ? pq.readReg(offset) : 0;
            case RiscvRegs.IPSR -> ipsr.value();
            case RiscvRegs.ICVEC -> icvec;
            default -> 0;
        };
    }

    /**
     * Writes the register at {@code offset} with its width. Read-only registers and fields, reserved values
     * of WARL fields and unknown offsets are ignored, as the spec's attributes say.
     */
    public void writeReg(int offset, long value) {
        switch (offset) {
            case RiscvRegs.FCTL -> {
                boolean wsiWritable = (config.capabilities() & RiscvRegs.CAP_IGS_MASK) == RiscvRegs.CAP_IGS_BOTH;
                fctl = wsiWritable ? (int) value & RiscvRegs.FCTL_WSI : fctl;
            }
            case RiscvRegs.DDTP -> writeDdtp(value);
            case RiscvRegs.CQB, RiscvRegs.CQT, RiscvRegs.CQCSR -> cq.writeReg(offset, value);
            case RiscvRegs.FQB, RiscvRegs.FQH, RiscvRegs.FQCSR -> fq.writeReg(offset, value);
            case RiscvRegs.PQB, RiscvRegs.PQH, RiscvRegs.PQCSR -> {
                if (config.has(RiscvRegs.CAP_ATS)) {
                    pq.writeReg(offset, value);
                }
            }
            case RiscvRegs.IPSR -> ipsr.writeOneToClear((int) value);
            case RiscvRegs.ICVEC -> icvec = value & 0xffff;
            default -> {
            }
        }
    }

    /** WARL: a reserved or custom mode (5-15) keeps the previous mode; the PPN is kept to 44 bits. */
    private void writeDdtp(long value) {
        long mode = value & RiscvRegs.DDTP_MODE_MASK;
        if (mode > RiscvRegs.DDTP_MODE_3LVL) {
            mode = ddtp & RiscvRegs.DDTP_MODE_MASK;
        }
        ddtp = value & RiscvRegs.PPN_FIELD | mode;
        trace("riscv-ddtp", "ddtp = %#x (mode %d)", ddtp, mode);
    }

    // ---- device side ----

    @Override
    public DmaCompletion memoryRequest(DmaRequest request) {
        Transaction t = Transaction.of(request);
        TranslationProcess.Result r = translation.translate(ddtp, t);
        if (r.outcome() instanceof Outcome.Fault f) {
            report(t, f, r.dtf());
            return DmaCompletion.failed(CompletionStatus.UR);
        }
        long pa = ((Outcome.Page) r.outcome()).addr();
        return DmaCompletion.perform(memory, pa, request);
    }

    /**
     * riscv-iommu "PCIe ATS translation request handling": page and guest-page faults (and PDT entry not
     * valid) give Success with R = W = 0 and no record; configuration errors CA, disallowed requests and DDT
     * faults UR, both recorded with TTYP 8. X is granted only with R and when asked for.
     */
    @Override
    public AtsCompletion translationRequest(AtsTranslationRequest request) {
        Transaction t = Transaction.of(request);
        TranslationProcess.Result r = translation.translate(ddtp, t);
        if (r.outcome() instanceof Outcome.Fault f) {
            return switch (RiscvCause.atsOutcome(f.cause())) {
                case SUCCESS_NO_ACCESS -> AtsCompletion.notAccessible();
                case UNSUPPORTED_REQUEST -> {
                    report(t, f, r.dtf());
                    yield AtsCompletion.error(CompletionStatus.UR);
                }
                case COMPLETER_ABORT -> {
                    report(t, f, r.dtf());
                    yield AtsCompletion.error(CompletionStatus.CA);
                }
            };
        }
        Outcome.Page page = (Outcome.Page) r.outcome();
        boolean t2gpa = r.dc() != null && r.dc().has(RiscvDeviceContext.TC_T2GPA);
        long base = (t2gpa ? page.gpa() : page.addr()) & -page.pageSize();
        boolean write = !request.noWrite() && page.writable() && page.dirty();
        boolean exe = request.exe() && page.executable() && page.readable();
        AtsCompletion c = new AtsCompletion(CompletionStatus.SUCCESS, base, page.pageSize(), page.readable(), write,
                exe, t.pv() && t.priv());
        if (loop.trace().enabled()) { // spares the boxing and varargs when nobody listens
            trace("riscv-ats", "translation request %04x PASID %s %#x -> %#x R=%d W=%d", request.rid(),
                    t.pv() ? t.pid() : "-", request.addr(), base, c.read() ? 1 : 0, c.write() ? 1 : 0);
        }
        return c;
    }

    @Override
    public void pageRequest(PageRequestMessage message) {
        pq.receive(message);
    }

    @Override
    public void atsInvalidateCompletion(int rid, int itagVector) {
        cq.atsInvalidateCompletion(rid, itagVector);
    }

    // ---- package-private machinery ----

    private void report(Transaction t, Outcome.Fault f, boolean dtf) {
        RiscvFaultRecord record = new RiscvFaultRecord(f.cause(), t.pv() ? t.pid() : 0, t.pv(), t.pv() && t.priv(),
                t.ttyp(), t.did(), t.addr(), f.iotval2());
        report(record, dtf, f.reason(), t.addr(), t.access());
    }

    /** Queues {@code record} (subject to DTF and the queue's state) and tells the observer. */
    void report(RiscvFaultRecord record, boolean dtf, HwFaultReason reason, long addr, Access access) {
        FaultQueue.Result result = fq.record(record, dtf);
        trace("riscv-fq", "CAUSE %d (%s) TTYP %d DID %04x PID %s iotval %#x iotval2 %#x%s", record.cause(), reason,
                record.ttyp(), record.did(), record.pv() ? record.pid() : "-", record.iotval(), record.iotval2(),
                switch (result) {
                    case RECORDED -> "";
                    case NOT_RECORDED -> " [not recorded]";
                    case COALESCED -> " [fault quota: coalesced into the record in slot " + fq.coalescedSlot() + "]";
                    case OVER_QUOTA -> " [not recorded: fault quota reached, no pending record of this cause]";
                });
        faultObserver.faultDetected(HwFault.of(loop.now(), record, addr, access, reason, result.recorded(),
                result == FaultQueue.Result.COALESCED));
    }

    void trace(String symbol, String format, Object... args) {
        if (loop.trace().enabled()) { // spares the prefixed format and arguments when nobody listens
            loop.trace().step(loop.now(), Layer.IOMMU, symbol, "%s: " + format, Trace.prepend(config.name(), args));
        }
    }

    PhysicalMemory memory() {
        return memory;
    }

    EventLoop loop() {
        return loop;
    }

    PcieFabric fabric() {
        return fabric;
    }

    long ddtp() {
        return ddtp;
    }

    int fctl() {
        return fctl;
    }

    TranslationProcess translation() {
        return translation;
    }

    /** Width of a {@code device_id} in the current {@code ddtp.iommu_mode} (base format: 7, 16, 24). */
    int deviceIdBits() {
        return switch ((int) (ddtp & RiscvRegs.DDTP_MODE_MASK)) {
            case RiscvRegs.DDTP_MODE_1LVL -> 7;
            case RiscvRegs.DDTP_MODE_2LVL -> 16;
            default -> 24;
        };
    }

    /** Widest {@code process_id} the capabilities allow (PD20, PD17, PD8). */
    int processIdBits() {
        return config.has(RiscvRegs.CAP_PD20) ? 20 : config.has(RiscvRegs.CAP_PD17) ? 17 : 8;
    }
}
