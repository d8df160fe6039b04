package dev.iommulab.lab.report;

import dev.iommulab.lab.run.RunResult;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;

/**
 * What the text report of a large run prints instead of long lists: the first {@link #SHOWN} entries of each list,
 * then, per device, counts and latency percentiles (HdrHistogram, 3 significant digits) of the whole list; for the
 * journey, how many steps each layer took. A run short enough to list in full prints none of this.
 */
final class LargeRun {

    /** Entries of a list the text report prints before it sums the list up. */
    static final int SHOWN = 100;

    private LargeRun() {
    }

    /** The entries of {@code all} the report prints. */
    static <T> List<T> first(List<T> all) {
        return all.size() <= SHOWN ? all : all.subList(0, SHOWN);
    }

    /** After the journey steps kept in full: how many more there were, per layer, and how to print them all. */
    static void journeyRest(StringBuilder out, RunResult r) {
        long all = r.journeyStepsByLayer().values().stream().mapToLong(Long::longValue).sum();
        if (all <= r.journey().size()) {
            return;
        }
        out.append(String.format(Locale.ROOT, "  ... and %,d more steps (%,d in all); --journey all prints every step%n",
                all - r.journey().size(), all));
        out.append("  steps per layer: ").append(r.journeyStepsByLayer().entrySet().stream()
                .map(e -> String.format(Locale.ROOT, "%s %,d", e.getKey(), e.getValue()))
                .collect(Collectors.joining(", "))).append(System.lineSeparator());
    }

    /** Per device: responses by code and by origin, and the time from the LPIG request's report to the response. */
    static void pageResponsesByDevice(StringBuilder out, RunResult r) {
        if (r.pageResponses().size() <= SHOWN) {
            return;
        }
        byDevice(r.pageResponses(), p -> DeviceFaults.qualified(p.guest(), p.device()))
                .forEach((device, entries) -> out.append(
                String.format(Locale.ROOT, "  %s: %,d page responses: %s; from %s; report to response %s%n", device,
                        entries.size(), counts(entries, RunResult.PageResponseEntry::code),
                        counts(entries, RunResult.PageResponseEntry::origin),
                        percentiles(entries.stream().map(RunResult.PageResponseEntry::latencyNs).toList()))));
    }

    /** Per device: DMA work items by status, and their latency. */
    static void dmaByDevice(StringBuilder out, RunResult r) {
        if (r.dma().size() <= SHOWN) {
            return;
        }
        byDevice(r.dma(), d -> DeviceFaults.qualified(d.guest(), d.device()))
                .forEach((device, entries) -> out.append(String.format(
                Locale.ROOT, "  %s: %,d DMA work items: %s; latency %s%n", device, entries.size(),
                counts(entries, RunResult.DmaEntry::status),
                percentiles(entries.stream().map(RunResult.DmaEntry::latencyNs).toList()))));
    }

    private static <T> Map<String, List<T>> byDevice(List<T> entries, Function<T, String> device) {
        return entries.stream().collect(Collectors.groupingBy(device, LinkedHashMap::new, Collectors.toList()));
    }

    /** {@code "SUCCESS 10, INVALID 2"}: how many entries have each value, values sorted. */
    private static <T> String counts(List<T> entries, Function<T, String> value) {
        Map<String, Long> counts = entries.stream().collect(Collectors.groupingBy(value, TreeMap::new,
                Collectors.counting()));
        return counts.entrySet().stream().map(e -> String.format(Locale.ROOT, "%s %,d", e.getKey(), e.getValue()))
                .collect(Collectors.joining(", "));
    }

    /** p50, p90, p99 and max of the non-null samples, or "not timed" without any. */
    static String percentiles(List<Long> samples) {
        Histogram h = new Histogram(3);
        samples.stream().filter(v -> v != null).forEach(h::recordValue);
        if (h.getTotalCount() == 0) {
            return "not timed";
        }
        return String.format(Locale.ROOT, "p50 %s, p90 %s, p99 %s, max %s (%,d timed)",
                TextReporter.time(h.getValueAtPercentile(50)), TextReporter.time(h.getValueAtPercentile(90)),
                TextReporter.time(h.getValueAtPercentile(99)), TextReporter.time(h.getMaxValue()), h.getTotalCount());
    }
}
