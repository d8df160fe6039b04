package dev.iommulab.hw.vtd;

import dev.iommulab.hw.iommu.OverflowStyle;
import dev.iommulab.hw.sim.Layer;

/**
 * Primary fault logging of a VT-d unit (VT-d spec §7.2.1, reference/iommu-hardware.md §2.1.2): N fault
 * recording registers used round robin, the fault status register FSTS and the fault event (FECTL,
 * FEDATA, FEADDR). Counterpart, on the hardware side, of what {@code dmar_fault()} in
 * drivers/iommu/intel/dmar.c reads and clears.
 *
 * <p>Recording (QEMU {@code vtd_report_frcd_fault()}, datasheet FSTS/FRCD text):
 * <ol>
 *   <li>FSTS.PFO set: the fault is not recorded;</li>
 *   <li>a record of the same SID is still pending (F = 1): the new fault is collapsed into it (this
 *       model always collapses, which the spec allows);</li>
 *   <li>the next register still has F = 1: PFO is set and the fault is not recorded;</li>
 *   <li>otherwise the record is written, the index moves on, and if PPF was clear FSTS.FRI names the
 *       register and PPF becomes set.</li>
 * </ol>
 * That is {@link OverflowStyle#VTD_FAULT_RECORDING} applied to a register file instead of a ring in memory.
 * PPF is read-only, the OR of all F bits; software clears F by writing 1 to it (bit 127) and clears
 * PFO, IQE, ICE and ITE by writing 1 to them in FSTS. Writing PPF (as Linux does) has no effect.
 *
 * <p>Fault event (spec §7.4): an interrupt condition arises when PPF, IQE, ICE or ITE becomes set while
 * none of PFO, PPF, IQE, ICE, ITE was set before. With FECTL.IM clear the message goes out (after the
 * MSI latency); with IM set FECTL.IP is set and the message goes out when software clears IM. IP is
 * also cleared once software has cleared every status bit.
 */
final class FaultRecording {

    private static final int STATUS_BITS = VtdRegs.FSTS_PFO | VtdRegs.FSTS_PPF | VtdRegs.FSTS_IQE
            | VtdRegs.FSTS_ICE | VtdRegs.FSTS_ITE;
    private static final OverflowStyle STYLE = OverflowStyle.VTD_FAULT_RECORDING;
    private static final int RW1C_BITS = VtdRegs.FSTS_PFO | VtdRegs.FSTS_IQE | VtdRegs.FSTS_ICE
            | VtdRegs.FSTS_ITE;

    /** What became of a fault handed to {@link #record}. */
    enum Outcome {
        RECORDED, COLLAPSED, LOST_PFO_SET, LOST_OVERFLOW;

        boolean recorded() {
            return this == RECORDED;
        }
    }

    private final VtdUnit unit;
    private final long[] lo;
    private final long[] hi;
    private final EventControl event;
    private int next;
    private int fsts;
    private int fedata;
    private long feaddr;

    FaultRecording(VtdUnit unit, int registers) {
        this.unit = unit;
        this.lo = new long[registers];
        this.hi = new long[registers];
        this.event = new EventControl(unit, "fault-event", () -> unit.loop().trace().step(unit.loop().now(),
                Layer.IOMMU, "vtd-fault-event", unit.config().name() + ": fault event interrupt"));
    }

    EventControl event() {
        return event;
    }

    int count() {
        return lo.length;
    }

    /** FSTS as software reads it: the stored bits, PPF from the F bits, FRI. */
    int fsts() {
        return fsts | (pending() ? VtdRegs.FSTS_PPF : 0);
    }

    private boolean pending() {
        for (long h : hi) {
            if ((h & FaultRecord.F) != 0) {
                return true;
            }
        }
        return false;
    }

    private boolean anyStatus() {
        return (fsts() & STATUS_BITS) != 0;
    }

    Outcome record(FaultRecord r) {
        Outcome outcome = place(r);
        unit.loop().trace().step(unit.loop().now(), Layer.IOMMU, "vtd-frcd",
                "%s: fault %#x SID %04x %s", unit.config().name(), r.reason(), r.sid(), switch (outcome) {
                    case RECORDED -> "recorded in FRCD " + Math.floorMod(next - 1, lo.length);
                    case COLLAPSED -> "collapsed into the pending record of the same SID";
                    case LOST_PFO_SET -> "not recorded: FSTS.PFO is set";
                    case LOST_OVERFLOW -> "not recorded: next FRCD busy, FSTS.PFO set";
                });
        return outcome;
    }

    private Outcome place(FaultRecord r) {
        if ((fsts & VtdRegs.FSTS_PFO) != 0 && !STYLE.rule().writesWhilePending()) {
            return Outcome.LOST_PFO_SET;
        }
        for (long h : hi) {
            if ((h & FaultRecord.F) != 0 && (int) (h & 0xffff) == r.sid()) {
                return Outcome.COLLAPSED;
            }
        }
        if ((hi[next] & FaultRecord.F) != 0) {
            fsts |= VtdRegs.FSTS_PFO;
            return Outcome.LOST_OVERFLOW;
        }
        boolean wasAnyStatus = anyStatus();
        boolean hadPpf = pending();
        lo[next] = r.lo();
        hi[next] = r.hi();
        if (!hadPpf) {
            fsts = (fsts & ~(0xff << VtdRegs.FSTS_FRI_SHIFT)) | next << VtdRegs.FSTS_FRI_SHIFT;
        }
        next = (next + 1) % lo.length;
        if (!wasAnyStatus) {
            event.raise();
        }
        return Outcome.RECORDED;
    }

    /** Sets IQE, ICE or ITE on behalf of the invalidation queue. */
    void setErrorStatus(int bit) {
        boolean wasAnyStatus = anyStatus();
        boolean newlySet = (fsts & bit) == 0;
        fsts |= bit;
        if (newlySet && !wasAnyStatus) {
            event.raise();
        }
    }


    boolean owns(int offset) {
        return offset == VtdRegs.FSTS || offset == VtdRegs.FECTL || offset == VtdRegs.FEDATA
                || offset == VtdRegs.FEADDR || offset >= VtdRegs.FRCD_BASE
                && offset < VtdRegs.FRCD_BASE + VtdRegs.FRCD_SIZE * lo.length;
    }

    long readReg(int offset) {
        switch (offset) {
            case VtdRegs.FSTS -> {
                return fsts() & 0xffffffffL;
            }
            case VtdRegs.FECTL -> {
                return event.read();
            }
            case VtdRegs.FEDATA -> {
                return fedata & 0xffffffffL;
            }
            case VtdRegs.FEADDR -> {
                return feaddr;
            }
            default -> {
                int index = (offset - VtdRegs.FRCD_BASE) / VtdRegs.FRCD_SIZE;
                return switch ((offset - VtdRegs.FRCD_BASE) % VtdRegs.FRCD_SIZE) {
                    case 0 -> lo[index];
                    case 4 -> lo[index] >>> 32;
                    case 8 -> hi[index];
                    case 12 -> hi[index] >>> 32;
                    default -> 0;
                };
            }
        }
    }

    /** Returns the FSTS error bits (IQE, ITE) this write cleared, so the caller can resume the queue. */
    int writeReg(int offset, long value) {
        switch (offset) {
            case VtdRegs.FSTS -> {
                int cleared = fsts & RW1C_BITS & (int) value;
                fsts &= ~cleared;
                clearIpIfServiced();
                return cleared;
            }
            case VtdRegs.FECTL -> event.write(value);
            case VtdRegs.FEDATA -> fedata = (int) value;
            case VtdRegs.FEADDR -> feaddr = value;
            default -> {
                int index = (offset - VtdRegs.FRCD_BASE) / VtdRegs.FRCD_SIZE;
                int sub = (offset - VtdRegs.FRCD_BASE) % VtdRegs.FRCD_SIZE;
                if (sub == 8 && (value & FaultRecord.F) != 0 || sub == 12 && (value & (1L << 31)) != 0) {
                    hi[index] &= ~FaultRecord.F;
                    clearIpIfServiced();
                }
            }
        }
        return 0;
    }

    private void clearIpIfServiced() {
        if (!anyStatus()) {
            event.clearPending();
        }
    }

    /** The record in register {@code index}, or null when its F bit is clear. */
    FaultRecord recordAt(int index) {
        return (hi[index] & FaultRecord.F) == 0 ? null : FaultRecord.decode(lo[index], hi[index]);
    }
}
