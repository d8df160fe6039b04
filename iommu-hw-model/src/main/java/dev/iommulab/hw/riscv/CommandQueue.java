package dev.iommulab.hw.riscv;

import dev.iommulab.hw.iommu.AtsInvalidationTracker;
import dev.iommulab.hw.iommu.MemoryRing;
import dev.iommulab.hw.iommu.OverflowStyle;
import dev.iommulab.hw.iommu.PrgResponse;
import dev.iommulab.hw.mem.PhysicalMemory;

/**
 * The command queue (riscv-iommu "Command-Queue (CQ)" and register {@code cqcsr}; reference/iommu-hardware.md
 * §2.4.5, §6 scenario 14; RV-REF {@code process_commands}). The IOMMU fetches 16-byte commands from
 * {@code cqh} as soon as software moves {@code cqt}: {@code IOTINVAL.VMA/GVMA}, {@code IODIR.INVAL_DDT/PDT},
 * {@code ATS.INVAL}, {@code ATS.PRGR} and {@code IOFENCE.C}. An illegal command sets {@code cmd_ill}, a fetch
 * or fence-store fault {@code cqmf}; both leave {@code cqh} on the command. {@code IOFENCE.C} waits for every
 * earlier {@code ATS.INVAL}; if one timed out it sets {@code cmd_to} and {@code cqh} stays on the fence. While
 * any error bit is set nothing runs; clearing it (RW1C) resumes at {@code cqh}. The outstanding
 * {@code ATS.INVAL} commands share the 32 PCIe invalidation tags (riscv-iommu "IOMMU PCIe ATS commands", the
 * reference model's {@code itag_tracker}); a tag is freed by the function's Invalidate Completion or by the
 * protocol timeout, and a timeout is remembered until the next {@code IOFENCE.C} reports it.
 * {@code PR}/{@code PW} need no action: every device access the model handled is already in memory when the
 * request returns.
 */
final class CommandQueue {

    /** What executing one command did to the queue. */
    private enum Step {
        /** Done: advance {@code cqh}. */
        DONE,
        /** Waiting (fence on invalidations, no free ITAG): stay on the command, resume on an event. */
        WAIT,
        /** An error bit was set: stay on the command until software clears it. */
        STOP
    }

    private static final int ERRORS = RiscvRegs.CQCSR_CQMF | RiscvRegs.CQCSR_CMD_TO | RiscvRegs.CQCSR_CMD_ILL;

    private final RiscvIommu iommu;
    private final InterruptPending ipsr;
    private final AtsInvalidationTracker ats;
    private final MemoryRing ring;
    private long cqb;
    private int csr;
    private boolean atsTimedOut;

    CommandQueue(RiscvIommu iommu, InterruptPending ipsr) {
        this.iommu = iommu;
        this.ipsr = ipsr;
        this.ring = new MemoryRing(iommu.memory(), OverflowStyle.COMMAND_QUEUE, RiscvRegs.CQ_ENTRY_SIZE);
        cqb = RiscvRegs.writeQueueBase(ring, 0);
        this.ats = new AtsInvalidationTracker(iommu.loop(), iommu.fabric(), AtsInvalidationTracker.TagScope.SHARED,
                iommu.config().atsInvalidationTimeoutNs(), "riscv-ats-inval-timeout",
                new AtsInvalidationTracker.Listener() {
                    @Override
                    public void timedOut(int rid, int itag) {
                        atsTimedOut = true;
                        process();
                    }

                    @Override
                    public void notOutstanding(int rid, int itag) {
                        // completions for tags the requester does not own are ignored
                    }
                });
        ipsr.setLevelCondition(RiscvRegs.IPSR_CIP, () -> has(RiscvRegs.CQCSR_CIE)
                && has(ERRORS | RiscvRegs.CQCSR_FENCE_W_IP) ? 1 : 0);
    }

    /** An Invalidate Completion from {@code rid}: frees the tags it owns and resumes a waiting command. */
    void atsInvalidateCompletion(int rid, int itagVector) {
        if (ats.completion(rid, itagVector) > 0) {
            process();
        }
    }

    private boolean has(int bits) {
        return (csr & bits) != 0;
    }

    long readReg(int offset) {
        return switch (offset) {
            case RiscvRegs.CQB -> cqb;
            case RiscvRegs.CQH -> ring.head();
            case RiscvRegs.CQT -> ring.tail();
            case RiscvRegs.CQCSR -> csr;
            default -> 0;
        };
    }

    void writeReg(int offset, long value) {
        switch (offset) {
            case RiscvRegs.CQB -> {
                cqb = RiscvRegs.writeQueueBase(ring, value);
                ring.setTail(ring.tail());
            }
            case RiscvRegs.CQT -> {
                ring.setTail(value);
                process();
            }
            case RiscvRegs.CQCSR -> writeCsr((int) value);
            default -> {
            }
        }
    }

    private void writeCsr(int value) {
        boolean cieWasSet = has(RiscvRegs.CQCSR_CIE);
        csr &= ~(value & (ERRORS | RiscvRegs.CQCSR_FENCE_W_IP));
        boolean enable = (value & RiscvRegs.CQCSR_CQEN) != 0;
        if (enable && !has(RiscvRegs.CQCSR_CQEN)) {
            ring.setHead(0);
            csr &= ~(ERRORS | RiscvRegs.CQCSR_FENCE_W_IP);
            csr |= RiscvRegs.CQCSR_CQEN | RiscvRegs.CQCSR_CQON;
        } else if (!enable) {
            csr &= ~(RiscvRegs.CQCSR_CQEN | RiscvRegs.CQCSR_CQON);
        }
        csr = csr & ~RiscvRegs.CQCSR_CIE | value & RiscvRegs.CQCSR_CIE;
        if (!cieWasSet && has(RiscvRegs.CQCSR_CIE) && has(ERRORS | RiscvRegs.CQCSR_FENCE_W_IP)) {
            requestInterrupt();
        }
        process();
    }

    /** Runs commands from {@code cqh} until the queue is empty, an error stops it, or a command waits. */
    void process() {
        PhysicalMemory memory = iommu.memory();
        while (has(RiscvRegs.CQCSR_CQON) && !has(ERRORS) && !ring.isEmpty()) {
            long at = ring.slotAddress(ring.head());
            if (!memory.contains(at, RiscvRegs.CQ_ENTRY_SIZE)) {
                error(RiscvRegs.CQCSR_CQMF, "command fetch at %#x outside memory", at);
                return;
            }
            Step step = execute(RiscvCommand.readFrom(memory, at));
            if (step != Step.DONE) {
                return;
            }
            ring.advanceHead();
        }
    }

    private Step execute(RiscvCommand c) {
        return switch (c.opcode()) {
            case RiscvCommand.OPCODE_IOTINVAL -> iotinval(c);
            case RiscvCommand.OPCODE_IOFENCE -> iofence(c);
            case RiscvCommand.OPCODE_IODIR -> iodir(c);
            case RiscvCommand.OPCODE_ATS -> ats(c);
            default -> illegal(c);
        };
    }

    private Step iotinval(RiscvCommand c) {
        boolean reserved = c.flag(11) || c.field(43, 34) != 0 || c.field(63, 60) != 0 || (c.qw1() & 0x3ff) != 0
                || c.qw1() >>> 62 != 0;
        boolean gv = c.flag(33);
        boolean av = c.flag(10);
        boolean pscv = c.flag(32);
        int gscid = (int) c.field(59, 44);
        long addr = (c.qw1() >>> 10) << 12;
        if (reserved || c.func3() > RiscvCommand.FUNC3_GVMA || c.func3() == RiscvCommand.FUNC3_GVMA && pscv) {
            return illegal(c);
        }
        int pscid = (int) c.field(31, 12);
        iommu.translation().iotlb().invalidate(c.func3() == RiscvCommand.FUNC3_VMA
                ? (tag, e) -> invalidatedByVma(tag, e, gv, gscid, av, addr, pscv, pscid)
                : (tag, e) -> invalidatedByGvma(tag, e, gv, gscid, av, addr));
        return Step.DONE;
    }

    /** {@code IOTINVAL.VMA} with the operand rules of the spec's tables (the reference model's do_iotinval_vma). */
    private static boolean invalidatedByVma(long tag, IotlbEntry e, boolean gv, int gscid, boolean av, long addr,
                                            boolean pscv, int pscid) {
        return (gv ? IotlbEntry.gv(tag) && IotlbEntry.gscid(tag) == gscid : !IotlbEntry.gv(tag))
                && (!pscv || IotlbEntry.pscv(tag) && IotlbEntry.pscid(tag) == pscid && !e.global())
                && (!av || e.covers(addr));
    }

    /**
     * {@code IOTINVAL.GVMA}: entries translated by a G-stage (of {@code gscid} with {@code gv}). With {@code gv}
     * and {@code av} only those for the GPA; entries that also went through a first stage are not tagged with
     * their GPA, so they all go (the spec's "common technique").
     */
    private static boolean invalidatedByGvma(long tag, IotlbEntry e, boolean gv, int gscid, boolean av, long gpa) {
        return IotlbEntry.gv(tag) && (!gv || IotlbEntry.gscid(tag) == gscid)
                && (IotlbEntry.pscv(tag) || !gv || !av || e.covers(gpa));
    }

    private Step iodir(RiscvCommand c) {
        boolean dv = c.flag(33);
        int did = (int) c.field(63, 40);
        int pid = (int) c.field(31, 12);
        boolean reserved = c.field(11, 10) != 0 || c.flag(32) || c.field(39, 34) != 0 || c.qw1() != 0;
        if (reserved || dv && did >>> iommu.deviceIdBits() != 0) {
            return illegal(c);
        }
        switch (c.func3()) {
            case RiscvCommand.FUNC3_INVAL_DDT -> {
                if (pid != 0) {
                    return illegal(c);
                }
                iommu.translation().deviceContexts().invalidate(!dv, did);
                iommu.translation().processContexts().invalidateDevice(!dv, did);
            }
            case RiscvCommand.FUNC3_INVAL_PDT -> {
                if (!dv || pid >>> iommu.processIdBits() != 0) {
                    return illegal(c);
                }
                iommu.translation().processContexts().invalidate(did, pid);
            }
            default -> {
                return illegal(c);
            }
        }
        return Step.DONE;
    }

    private Step ats(RiscvCommand c) {
        if (!iommu.config().has(RiscvRegs.CAP_ATS) || c.field(11, 10) != 0 || c.field(39, 34) != 0) {
            return illegal(c);
        }
        int rid = (int) c.field(55, 40);
        boolean pv = c.flag(32);
        int pid = pv ? (int) c.field(31, 12) : 0;
        switch (c.func3()) {
            case RiscvCommand.FUNC3_ATS_INVAL -> {
                long[] range = c.atsInvalRange();
                return ats.send(rid, pv, pid, c.atsInvalGlobal(), range[0], range[1]) != null ? Step.DONE : Step.WAIT;
            }
            case RiscvCommand.FUNC3_ATS_PRGR -> {
                int prgi = (int) (c.qw1() >>> 32 & 0x1ff);
                int code = (int) (c.qw1() >>> 44 & 0xf);
                iommu.trace("riscv-cq", "ATS.PRGR to %04x PASID %s PRGI %d code %#x", rid, pv ? pid : "-", prgi, code);
                iommu.fabric().sendPrgResponse(new PrgResponse(rid, pv, pid, prgi, code));
                return Step.DONE;
            }
            default -> {
                return illegal(c);
            }
        }
    }

    private Step iofence(RiscvCommand c) {
        boolean wsi = c.flag(11);
        if (c.func3() != RiscvCommand.FUNC3_IOFENCE_C || c.field(31, 14) != 0 || c.qw1() >>> 62 != 0
                || wsi && (iommu.fctl() & RiscvRegs.FCTL_WSI) == 0) {
            return illegal(c);
        }
        if (ats.outstandingCount() > 0) {
            return Step.WAIT; // resumed when a tag is freed
        }
        if (atsTimedOut) {
            atsTimedOut = false;
            error(RiscvRegs.CQCSR_CMD_TO, "IOFENCE.C at cqh %d: an earlier ATS.INVAL timed out", ring.head());
            return Step.STOP;
        }
        if (c.flag(10)) {
            long addr = c.qw1() << 2;
            if (!iommu.memory().contains(addr, 4)) {
                error(RiscvRegs.CQCSR_CQMF, "IOFENCE.C store to %#x outside memory", addr);
                return Step.STOP;
            }
            iommu.memory().writeInt(addr, (int) (c.qw0() >>> 32));
        }
        if (wsi) {
            csr |= RiscvRegs.CQCSR_FENCE_W_IP;
            requestInterrupt();
        }
        return Step.DONE;
    }

    private Step illegal(RiscvCommand c) {
        error(RiscvRegs.CQCSR_CMD_ILL, "illegal command %#018x %#018x at cqh %d", c.qw0(), c.qw1(), ring.head());
        return Step.STOP;
    }

    private void error(int bit, String format, Object... args) {
        csr |= bit;
        iommu.trace("riscv-cq", format, args);
        requestInterrupt();
    }

    private void requestInterrupt() {
        ipsr.request(RiscvRegs.IPSR_CIP, has(RiscvRegs.CQCSR_CIE));
    }
}
