package dev.iommulab.lab.report;

import dev.iommulab.lab.run.RunResult;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * The headline figures of one run of {@code iommu-lab compare}: page responses by code and origin, the
 * devices' PRI state, DMA outcomes by status, the simulated fault-service latency (p50/p99 of
 * {@link RunResult#serviceLatenciesNs()} through an HdrHistogram with 3 significant digits), and per device
 * its faults recorded, coalesced and lost and the time of its first recorded fault ({@link DeviceFaults}).
 *
 * @param value     the value of the varied key for this run
 * @param responses {@code CODE/origin} to count, sorted
 * @param dma       DMA status to count, sorted
 * @param p50Ns     median latency, or null without samples
 * @param p99Ns     99th percentile latency, or null without samples
 * @param virtio    what became of the virtio-iommu fault events of the run (all zero without a virtio-iommu)
 */
public record CompareRow(String value, String scenario, long seed, String outcome, Map<String, Long> responses,
                         List<DevicePri> devices, Map<String, Long> dma, Long p50Ns, Long p99Ns,
                         long latencySamples, List<DeviceFaults> faults, VirtioEvents virtio) {

    /** PRI state of a device at the end of the run. */
    public record DevicePri(String name, boolean priEnabled, boolean priResponseFailure) {
    }

    /**
     * The virtio-iommu fault events of a run: delivered at once, delivered after waiting for a buffer (the longest
     * wait), dropped.
     */
    public record VirtioEvents(long delivered, long delayed, long dropped, long maxDelayNs) {

        public static final VirtioEvents NONE = new VirtioEvents(0, 0, 0, 0);

        static VirtioEvents of(List<RunResult.VirtioEventEntry> events) {
            long delivered = events.stream().filter(e -> e.delivered() && e.delayNs() == 0).count();
            long delayed = events.stream().filter(e -> e.delivered() && e.delayNs() > 0).count();
            long maxDelay = events.stream().mapToLong(RunResult.VirtioEventEntry::delayNs).max().orElse(0);
            return new VirtioEvents(delivered, delayed, events.size() - delivered - delayed, maxDelay);
        }

        public boolean any() {
            return delivered + delayed + dropped > 0;
        }
    }

    public CompareRow {
        responses = Collections.unmodifiableMap(new TreeMap<>(responses));
        dma = Collections.unmodifiableMap(new TreeMap<>(dma));
        devices = List.copyOf(devices);
        faults = List.copyOf(faults);
    }

    /** The headline of {@code result}, the run for {@code value}. */
    public static CompareRow of(String value, RunResult result) {
        Map<String, Long> responses = new TreeMap<>();
        result.pageResponses().forEach(p -> responses.merge(p.code() + "/" + p.origin(), 1L, Long::sum));
        Map<String, Long> dma = new TreeMap<>();
        result.dma().forEach(d -> dma.merge(d.status(), 1L, Long::sum));
        List<DevicePri> devices = result.devices().stream()
                .map(d -> new DevicePri(DeviceFaults.qualified(d.guest(), d.name()), d.priEnabled(),
                        d.priResponseFailure())).toList();
        Histogram h = new Histogram(3);
        result.serviceLatenciesNs().forEach(h::recordValue);
        boolean any = h.getTotalCount() > 0;
        return new CompareRow(value, result.scenario(), result.seed(), result.outcome(), responses, devices, dma, any ? h.getValueAtPercentile(50) : null,
                any ? h.getValueAtPercentile(99) : null, h.getTotalCount(), DeviceFaults.of(result),
                VirtioEvents.of(result.virtioEvents()));
    }
}
