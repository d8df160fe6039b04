package dev.iommulab.hw.sim;

/**
 * Latency of each simulated step, in nanoseconds. The defaults are estimates of the right order of
 * magnitude (PCIe round trips of ~0.5-1 us, a page walk of a few hundred ns, interrupt delivery and
 * thread wake-up of a few microseconds, a VM exit to the VMM of ~5 us), not measurements of any particular part.
 *
 * @param pcieTlpNs       one-way PCIe transfer of a request or completion
 * @param iommuWalkNs     one table walk by the IOMMU (context, PASID, page table)
 * @param memoryAccessNs  a DMA burst of one page reaching memory
 * @param msiNs           from the IOMMU raising an interrupt to the handler running
 * @param threadWakeNs    from a hard IRQ to its threaded handler, or from queue_work to the worker
 * @param handleMmFaultNs one handle_mm_fault() that allocates and maps a page
 * @param queueRecordNs   a driver's queue thread handling one record of a hardware queue; 0 (the default) makes a
 *                        thread's pass over the queue take no simulated time, so nothing the hardware does can
 *                        interleave with it; a positive value spreads the pass over time, one record per step,
 *                        and the hardware may append records (or overflow) meanwhile
 * @param vmExitNs        from a guest's write to an emulated device register (a virtqueue kick) to the virtual
 *                        machine monitor's handler for it running on the host: a VM exit and the wake-up of the
 *                        VMM's thread
 */
public record TimingModel(long pcieTlpNs, long iommuWalkNs, long memoryAccessNs, long msiNs,
                          long threadWakeNs, long handleMmFaultNs, long queueRecordNs, long vmExitNs) {

    /** Estimated defaults; see the class comment. */
    public static final TimingModel ESTIMATES = new TimingModel(500, 250, 100, 1_000, 2_000, 1_500, 0, 5_000);

    public TimingModel {
        if (pcieTlpNs < 0 || iommuWalkNs < 0 || memoryAccessNs < 0 || msiNs < 0 || threadWakeNs < 0
                || handleMmFaultNs < 0 || queueRecordNs < 0 || vmExitNs < 0) {
            throw new IllegalArgumentException("latencies must not be negative");
        }
    }

    /** The same model with {@link #queueRecordNs()} = {@code ns}. */
    public TimingModel withQueueRecordNs(long ns) {
        return new TimingModel(pcieTlpNs, iommuWalkNs, memoryAccessNs, msiNs, threadWakeNs, handleMmFaultNs, ns,
                vmExitNs);
    }
}
