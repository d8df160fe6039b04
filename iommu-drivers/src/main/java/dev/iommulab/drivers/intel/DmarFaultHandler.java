package dev.iommulab.drivers.intel;

import dev.iommulab.core.IommuCore;
import dev.iommulab.core.kernel.KernelLog;
import dev.iommulab.core.kernel.Ratelimit;
import dev.iommulab.core.kernel.Workqueue;
import dev.iommulab.drivers.FaultOverflowRecovery;
import dev.iommulab.hw.pci.PcieEndpoint;
import dev.iommulab.hw.sim.EventLoop;
import dev.iommulab.hw.sim.Layer;
import dev.iommulab.hw.vtd.VtdRegs;
import dev.iommulab.hw.vtd.VtdUnit;
import java.util.Collection;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The fault event interrupt handler of one VT-d unit: the counterpart of {@code dmar_fault()},
 * {@code dmar_fault_do_one()} and {@code dmar_set_interrupt()} in drivers/iommu/intel/dmar.c
 * (reference/iommu-hardware.md §2.1.2). Registered with IRQF_NO_THREAD, it runs in the hard IRQ, i.e. as
 * soon as the unit's fault event message is delivered. In order:
 * <ol>
 *   <li>read FSTS; if it is not zero, and the rate limiter lets it, log
 *       {@code "DMAR: DRHD: handling fault status reg %x"} (for any set bit: PPF, PFO, IQE, ICE, ITE);</li>
 *   <li>without PPF stop here (IQE/ICE/ITE belong to the queued-invalidation code; FSTS is not written);</li>
 *   <li>from FSTS.FRI, register by register (wrapping at CAP.NFR + 1) while F is set: ask the rate limiter
 *       first; if it allows, read the record (reason, T, PASID from the upper dword, SID and PP from dword 2,
 *       FI from the low qword); clear F by writing it to the upper dword; then log the record in
 *       {@code dmar_fault_do_one()}'s format. A record the rate limiter refuses is cleared unread;</li>
 *   <li>write PFO | PPF | PRO to FSTS: PFO is cleared (PPF is read-only, bit 7 is ignored by the model).</li>
 * </ol>
 * One {@code static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST)} guards
 * both kinds of line, for every unit of the kernel, and it is asked once more per interrupt by the pass that
 * finds F clear and ends the loop, exactly as the kernel's loop does; once it refuses,
 * {@code "dmar_fault: N callbacks suppressed"} follows the interval.
 *
 * <p>Faithfully to the kernel, this handler only logs and clears: it does not call
 * {@code report_iommu_fault()} (no domain fault handler is told, unlike arm-smmu's context fault handler or
 * AMD's {@code amd_iommu_report_page_fault()}), does not touch the device, and does not dump the page tables
 * ({@code dmar_fault_dump_ptes()} is empty without CONFIG_DMAR_DEBUG, which this model leaves off).
 *
 * <p>Beyond mainline: when the status it read had PFO and the policy {@code fault.overflow-recovery} is not
 * {@code none} (the kernel's behaviour), the handler queues the recovery ({@link FaultOverflowRecovery}) on the
 * workqueue {@code dmar_fault_recovery}: a reset sleeps, and this handler runs in the hard IRQ.
 */
final class DmarFaultHandler {

    /** PRIMARY_FAULT_REG_LEN. */
    static final int PRIMARY_FAULT_REG_LEN = 16;
    /** DMA_FRCD_F in the upper dword of a fault recording register. */
    static final long DMA_FRCD_F = 1L << 31;
    /** The MSI address dmar_msi_write() programs into FEADDR: the local APIC range, destination 0. */
    static final long MSI_ADDRESS = 0xfee0_0000L;
    /** The vector programmed into FEDATA (any vector; the model delivers to the registered handler). */
    static final int VECTOR = 0x24;

    private final String name;
    private final VtdUnit unit;
    private final KernelLog log;
    private final EventLoop loop;
    private final Ratelimit rs;
    private final Supplier<Collection<PcieEndpoint>> endpoints;
    private final FaultOverflowRecovery recovery;
    private final Workqueue recoveryWq;
    private int interrupts;

    /**
     * {@code endpoints} are the functions behind the unit, for {@code recovery} (policy
     * {@code fault.overflow-recovery}), whose work runs {@code wakeNs} after it is queued.
     */
    DmarFaultHandler(String name, VtdUnit unit, KernelLog log, EventLoop loop,
                     Supplier<Collection<PcieEndpoint>> endpoints, FaultOverflowRecovery recovery, long wakeNs) {
        this.name = name;
        this.unit = unit;
        this.log = log;
        this.loop = loop;
        this.rs = log.ratelimitState("dmar_fault");
        this.endpoints = endpoints;
        this.recovery = recovery;
        this.recoveryWq = new Workqueue("dmar_fault_recovery", loop, wakeNs);
    }

    /**
     * Counterpart of {@code dmar_set_interrupt()} and {@code enable_drhd_fault_handling()}: request_irq() with
     * {@link #dmarFault()}; the MSI is written while masked (FECTL.IM, the register's reset value) —
     * {@code dmar_msi_write()}: FEDATA, FEADDR — and unmasked ({@code dmar_msi_unmask()}: FECTL = 0); then
     * "clear any previous faults": one {@code dmar_fault()} and FSTS written back with what it reads.
     */
    void setInterrupt() {
        unit.writeReg(VtdRegs.FECTL, VtdRegs.ECTL_IM & 0xffffffffL);
        unit.setFaultEventInterrupt(this::irq);
        unit.writeReg(VtdRegs.FEDATA, VECTOR);
        unit.writeReg(VtdRegs.FEADDR, MSI_ADDRESS);
        unit.writeReg(VtdRegs.FECTL, 0);
        dmarFault();
        unit.writeReg(VtdRegs.FSTS, unit.readReg(VtdRegs.FSTS));
    }

    /** How many fault event interrupts were delivered (the call in {@link #setInterrupt()} is not one). */
    int interrupts() {
        return interrupts;
    }

    private void irq() {
        interrupts++;
        dmarFault();
    }

    /** Counterpart of {@code dmar_fault()}: see the class comment. */
    void dmarFault() {
        int faultStatus = (int) unit.readReg(VtdRegs.FSTS);
        if (faultStatus != 0 && rs.allow()) {
            log.err("DMAR: DRHD: handling fault status reg %x", faultStatus);
        }
        if ((faultStatus & VtdRegs.FSTS_PPF) == 0) {
            return;
        }
        long cap = unit.readReg(VtdRegs.CAP);
        int reg = VtdRegs.capFaultRegOffset(cap);
        int faultIndex = VtdRegs.fstsFaultRecordIndex(faultStatus);
        int cleared = 0;
        while (true) {
            boolean ratelimited = !rs.allow();
            int at = reg + faultIndex * PRIMARY_FAULT_REG_LEN;
            int data = (int) unit.readReg(at + 12);
            if ((data & DMA_FRCD_F) == 0) {
                break;
            }
            String line = ratelimited ? null : readRecord(at, data);
            unit.writeReg(at + 12, DMA_FRCD_F);
            cleared++;
            if (line != null) {
                log.err("%s", line);
            }
            faultIndex++;
            if (faultIndex >= VtdRegs.capNumFaultRegs(cap)) {
                faultIndex = 0;
            }
        }
        unit.writeReg(VtdRegs.FSTS, VtdRegs.FSTS_PFO | VtdRegs.FSTS_PPF | VtdRegs.FSTS_PRO);
        if ((faultStatus & VtdRegs.FSTS_PFO) != 0 && recovery != FaultOverflowRecovery.NONE) {
            recoveryWq.queueWork("fault-overflow-recovery", () -> recovery.recover(endpoints.get(), log));
        }
        loop.trace().step(loop.now(), Layer.DRIVER, "dmar_fault", "%s: FSTS %#x, %d fault record(s) cleared from FRCD %d",
                name, faultStatus, cleared, VtdRegs.fstsFaultRecordIndex(faultStatus));
    }

    /** Reads one record as dmar_fault() does (dword 3 already read as {@code data}) and formats it. */
    private String readRecord(int at, int data) {
        int faultReason = data & 0xff;
        int type = (data >>> 30) & 1;
        int pasid = (data >>> 8) & 0xfffff;
        int dword2 = (int) unit.readReg(at + 8);
        int sourceId = dword2 & 0xffff;
        boolean pasidPresent = ((dword2 >>> 31) & 1) != 0;
        long guestAddr = unit.readReg(at) & ~0xfffL;
        return dmarFaultDoOne(type, faultReason, pasidPresent ? pasid : IommuCore.IOMMU_PASID_INVALID, sourceId,
                guestAddr);
    }

    /**
     * Counterpart of {@code dmar_fault_do_one()}: the line it prints (with dmar.c's pr_fmt "DMAR: "). Type 1 is
     * "DMA Read" (FRCD T1 set: read and AtomicOp requests), 0 "DMA Write" (writes and page requests);
     * {@code pasid} is {@link IommuCore#IOMMU_PASID_INVALID} when the record had no PASID.
     */
    static String dmarFaultDoOne(int type, int faultReason, int pasid, int sourceId, long addr) {
        DmarFaultReasons.Reason reason = DmarFaultReasons.get(faultReason);
        String device = String.format(Locale.ROOT, "%02x:%02x.%d", (sourceId >>> 8) & 0xff, (sourceId >>> 3) & 0x1f,
                sourceId & 7);
        int fr = faultReason & 0xff;
        if (reason.type() == DmarFaultReasons.FaultType.INTR_REMAP) {
            return String.format(Locale.ROOT, "DMAR: [INTR-REMAP] Request device [%s] fault index 0x%x "
                    + "[fault reason 0x%02x] %s", device, addr >>> 48, fr, reason.text());
        }
        String kind = type != 0 ? "DMA Read" : "DMA Write";
        String tag = pasid == IommuCore.IOMMU_PASID_INVALID ? kind + " NO_PASID"
                : String.format(Locale.ROOT, "%s PASID 0x%x", kind, pasid);
        return String.format(Locale.ROOT, "DMAR: [%s] Request device [%s] fault addr 0x%x [fault reason 0x%02x] %s",
                tag, device, addr, fr, reason.text());
    }
}
