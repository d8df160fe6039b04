package dev.iommulab.hw.iommu;

/**
 * What an IOMMU's fault or page-request log does when a record meets a full log, as data
 * (reference/iommu-hardware.md §2 and the table of §3.1). In every style the record that meets the full log is
 * lost and the faulting transaction is still aborted; the styles differ in the indicator software sees, whether
 * logging goes on while the overflow is pending, how much of the ring can be filled, whether software must
 * restart the log, and whether the IOMMU answers a page request it could not queue.
 *
 * <p>{@link MemoryRing} applies the style to a ring in memory; {@link #VTD_FAULT_RECORDING} describes VT-d's
 * fault recording registers, which are not a ring (the VT-d model applies it to its register file).
 */
public enum OverflowStyle {

    /**
     * VT-d page request queue (VT-d spec §7.5, Table 31): full → PRS.PRO set (RW1C); while PRO is set no request
     * is queued; an LPIG request that is not queued gets Success from the unit, a non-LPIG one is dropped.
     */
    VTD_PAGE_REQUEST_QUEUE(new Rule(Indicator.STICKY, false, false, Capacity.ONE_SLOT_SHORT,
            PrgResponseCode.SUCCESS)),

    /**
     * VT-d primary fault logging (§7.2.1): N fault recording registers, not a ring; the next register still
     * holding a fault → FSTS.PFO set (RW1C), the fault is not recorded, and none is until software clears PFO.
     */
    VTD_FAULT_RECORDING(new Rule(Indicator.STICKY, false, false, Capacity.ALL_ENTRIES, null)),

    /** RISC-V fault queue: full → {@code fqof} (RW1C); every later record is discarded until software clears it. */
    RISCV_FAULT_QUEUE(new Rule(Indicator.STICKY, false, false, Capacity.ONE_SLOT_SHORT, null)),

    /**
     * RISC-V page-request queue: full → {@code pqof} (RW1C); every later request is discarded until software
     * clears it, and the IOMMU may answer discarded L = 1 requests with Success.
     */
    RISCV_PAGE_REQUEST_QUEUE(new Rule(Indicator.STICKY, false, false, Capacity.ONE_SLOT_SHORT,
            PrgResponseCode.SUCCESS)),

    /**
     * SMMUv3 event queue (§7.4): full → {@code PROD.OVFLG} toggled if no overflow is pending (pending means
     * {@code OVFLG != CONS.OVACKFLG}); events go on being written once there is room again (only a second
     * overflow is invisible). Indices carry a wrap bit, so all N entries are usable.
     */
    SMMUV3_EVENT_QUEUE(new Rule(Indicator.TOGGLE, true, false, Capacity.ALL_ENTRIES, null)),

    /**
     * SMMUv3 PRI queue (§8.1): full → {@code OVFLG} toggled; while the overflow is unacknowledged nothing is
     * written; a discarded {@code Last} = 1 request is answered Success, {@code Last} = 0 and stop markers not.
     */
    SMMUV3_PRI_QUEUE(new Rule(Indicator.TOGGLE, false, false, Capacity.ALL_ENTRIES,
            PrgResponseCode.SUCCESS)),

    /**
     * AMD-Vi event log: full → {@code EventOverflow} (RW1C) and the log stops ({@code EventLogRun} = 0); no entry
     * is written until software clears the overflow and restarts the log ({@code EventLogEn} 0 then 1).
     */
    AMD_EVENT_LOG(new Rule(Indicator.STICKY, false, true, Capacity.ONE_SLOT_SHORT, null)),

    /**
     * AMD-Vi PPR log: the event log's sticky overflow and restart ({@code PPROverflow}, {@code PPRRun}). Whether
     * the IOMMU answers requests it drops is not public [UNVERIFIED]: this style does not.
     */
    AMD_PPR_LOG(new Rule(Indicator.STICKY, false, true, Capacity.ONE_SLOT_SHORT, null)),

    /**
     * Not a log: a command queue software fills and the IOMMU consumes (RISC-V command queue), so the IOMMU
     * never pushes and nothing overflows; head and tail are plain indices, one slot short of full.
     */
    COMMAND_QUEUE(new Rule(Indicator.STICKY, false, false, Capacity.ONE_SLOT_SHORT, null));

    /** How the overflow shows in the registers. */
    public enum Indicator {
        /** A status bit set by the IOMMU and cleared by software writing 1 (PFO, PRO, fqof, EventOverflow). */
        STICKY,
        /** A flag the IOMMU toggles in the producer register; pending while it differs from the consumer's ack. */
        TOGGLE
    }

    /** How many of a ring's N entries can hold records. */
    public enum Capacity {
        /** Head and tail are plain indices: full when tail + 1 == head, so N - 1 entries. */
        ONE_SLOT_SHORT,
        /**
         * All N entries: ring indices carry a wrap bit above the index, full when they differ only in it
         * (SMMUv3); VT-d's fault registers are full when the next one still holds a fault.
         */
        ALL_ENTRIES
    }

    /**
     * The rule of a style.
     *
     * @param writesWhilePending  records are still written, when there is room, while an overflow is pending
     *                            (SMMUv3 event queue)
     * @param stopsOnOverflow     an overflow stops the log until software restarts it (AMD-Vi)
     * @param lostRequestResponse the code the IOMMU answers a last-in-group page request it could not queue for
     *                            overflow with, or null when it answers none (fault logs, AMD-Vi); non-last
     *                            requests and stop markers are never answered
     */
    public record Rule(Indicator indicator, boolean writesWhilePending, boolean stopsOnOverflow, Capacity capacity,
                       PrgResponseCode lostRequestResponse) {
    }

    private final Rule rule;

    OverflowStyle(Rule rule) {
        this.rule = rule;
    }

    public Rule rule() {
        return rule;
    }

    /** The response the IOMMU sends for {@code m} when overflow keeps it out of the queue, or null for none. */
    public PrgResponseCode responseToLost(PageRequestMessage m) {
        return m.last() && !m.isStopMarker() ? rule.lostRequestResponse() : null;
    }
}
