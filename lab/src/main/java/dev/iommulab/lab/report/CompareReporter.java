package dev.iommulab.lab.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Collectors;

/** The output of {@code iommu-lab compare}: one row per run, as a text table, CSV or JSON. */
public final class CompareReporter {

    private final String file;
    private final String key;

    /** {@code file} and {@code key} name what was compared. */
    public CompareReporter(String file, String key) {
        this.file = file;
        this.key = key;
    }

    /** An aligned table, one row per run. */
    public String text(List<CompareRow> rows) {
        List<List<String>> table = new ArrayList<>();
        boolean virtio = rows.stream().anyMatch(r -> r.virtio().any());
        List<String> header = new ArrayList<>(List.of(key, "outcome", "page responses", "device PRI", "DMA",
                "latency p50", "latency p99", "faults recorded/coalesced/lost", "first recorded fault"));
        if (virtio) {
            header.add("virtio events delivered/delayed/dropped");
        }
        table.add(header);
        for (CompareRow r : rows) {
            List<String> row = new ArrayList<>(List.of(r.value(), r.outcome(), counts(r.responses()), r.devices()
                            .stream().map(d -> d.name() + " PRI " + (d.priEnabled() ? "on" : "off") + " RF "
                                    + (d.priResponseFailure() ? 1 : 0)).collect(Collectors.joining(", ")),
                    counts(r.dma()), time(r.p50Ns()), time(r.p99Ns()),
                    faulting(r, f -> f.name() + " " + f.recorded() + "/" + f.coalesced() + "/" + f.lost()),
                    faulting(r, f -> f.name() + " " + time(f.firstRecordedNs()))));
            if (virtio) {
                CompareRow.VirtioEvents v = r.virtio();
                row.add(v.delivered() + "/" + v.delayed() + "/" + v.dropped()
                        + (v.delayed() > 0 ? " (longest wait " + time(v.maxDelayNs()) + ")" : ""));
            }
            table.add(row);
        }
        int[] widths = new int[table.get(0).size()];
        table.forEach(row -> {
            for (int i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        });
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "iommu-lab compare: %s, varying %s%n%n",
                file, key));
        for (List<String> row : table) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                line.append(String.format("%-" + widths[i] + "s", row.get(i))).append(i + 1 < row.size() ? "  " : "");
            }
            out.append(line.toString().stripTrailing()).append(System.lineSeparator());
        }
        out.append(String.format(Locale.ROOT, "%nLatency: simulated fault-service time (DMA start to end; raw LPIG"
                + " page request to its PRG response), HdrHistogram, 3 significant digits.%n"));
        out.append(String.format(Locale.ROOT, "Faults: per device that faulted, faults the IOMMU recorded / coalesced"
                + " into a pending record (fault-quota) / lost (no record: overflow, suppression); first recorded"
                + " fault: simulated time of the device's first record.%n"));
        if (virtio) {
            out.append(String.format(Locale.ROOT, "virtio events: fault records of a virtio-iommu delivered in an event"
                    + " buffer at once / after waiting for the driver to add one / dropped for want of a buffer.%n"));
        }
        return out.toString();
    }

    /**
     * CSV with a header: {@code key,value,scenario,seed,outcome}, then one column per response
     * {@code response:CODE/origin}, per DMA status {@code dma:status}, per device {@code pri:dev} and
     * {@code rf:dev}, then {@code p50Ns,p99Ns,latencySamples}, then per device that faulted in any run
     * {@code recorded:dev}, {@code coalesced:dev}, {@code lost:dev} and {@code firstRecordedNs:dev} (empty
     * without a recorded fault); counts absent from a run are 0.
     */
    public String csv(List<CompareRow> rows) {
        TreeSet<String> responses = union(rows, CompareRow::responses);
        TreeSet<String> dma = union(rows, CompareRow::dma);
        List<String> devices = rows.stream().flatMap(r -> r.devices().stream()).map(CompareRow.DevicePri::name)
                .distinct().toList();
        List<String> header = new ArrayList<>(List.of("key", "value", "scenario", "seed", "outcome"));
        responses.forEach(k -> header.add("response:" + k));
        dma.forEach(k -> header.add("dma:" + k));
        devices.forEach(d -> {
            header.add("pri:" + d);
            header.add("rf:" + d);
        });
        header.addAll(List.of("p50Ns", "p99Ns", "latencySamples"));
        List<String> faulted = rows.stream().flatMap(r -> r.faults().stream()).filter(DeviceFaults::any)
                .map(DeviceFaults::name).distinct().toList();
        faulted.forEach(d -> header.addAll(List.of("recorded:" + d, "coalesced:" + d, "lost:" + d,
                "firstRecordedNs:" + d)));
        StringBuilder out = new StringBuilder(csvLine(header));
        for (CompareRow r : rows) {
            List<String> cells = new ArrayList<>(List.of(key, r.value(), r.scenario(), Long.toString(r.seed()),
                    r.outcome()));
            responses.forEach(k -> cells.add(Long.toString(r.responses().getOrDefault(k, 0L))));
            dma.forEach(k -> cells.add(Long.toString(r.dma().getOrDefault(k, 0L))));
            for (String d : devices) {
                CompareRow.DevicePri pri = r.devices().stream().filter(x -> x.name().equals(d)).findFirst().orElse(null);
                cells.add(pri == null ? "" : pri.priEnabled() ? "enabled" : "disabled");
                cells.add(pri == null ? "" : pri.priResponseFailure() ? "1" : "0");
            }
            cells.add(r.p50Ns() == null ? "" : Long.toString(r.p50Ns()));
            cells.add(r.p99Ns() == null ? "" : Long.toString(r.p99Ns()));
            cells.add(Long.toString(r.latencySamples()));
            for (String d : faulted) {
                DeviceFaults f = r.faults().stream().filter(x -> x.name().equals(d)).findFirst()
                        .orElse(new DeviceFaults(d, 0, 0, 0, null));
                cells.addAll(List.of(Long.toString(f.recorded()), Long.toString(f.coalesced()),
                        Long.toString(f.lost()), f.firstRecordedNs() == null ? "" : Long.toString(f.firstRecordedNs())));
            }
            out.append(csvLine(cells));
        }
        return out.toString();
    }

    /** One JSON object: {@code file}, {@code key}, {@code runs} (the rows). */
    public String json(List<CompareRow> rows) {
        ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = mapper.createObjectNode();
        root.put("file", file);
        root.put("key", key);
        ArrayNode runs = root.putArray("runs");
        rows.forEach(r -> runs.add(mapper.valueToTree(r)));
        try {
            return mapper.writeValueAsString(root);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("compare result is not serialisable", e);
        }
    }

    private static TreeSet<String> union(List<CompareRow> rows, Function<CompareRow, Map<String, Long>> f) {
        TreeSet<String> keys = new TreeSet<>();
        rows.forEach(r -> keys.addAll(f.apply(r).keySet()));
        return keys;
    }

    private static String counts(Map<String, Long> counts) {
        return counts.isEmpty() ? "-" : counts.entrySet().stream().map(e -> e.getKey() + " x" + e.getValue())
                .collect(Collectors.joining(", "));
    }

    /** {@code cell} of every device of {@code r} that faulted, comma-separated, or "-". */
    private static String faulting(CompareRow r, Function<DeviceFaults, String> cell) {
        String s = r.faults().stream().filter(DeviceFaults::any).map(cell).collect(Collectors.joining(", "));
        return s.isEmpty() ? "-" : s;
    }

    private static String time(Long ns) {
        return ns == null ? "-" : TextReporter.time(ns);
    }

    private static String csvLine(List<String> cells) {
        return cells.stream().map(CompareReporter::csvCell).collect(Collectors.joining(",")) + "\n";
    }

    private static String csvCell(String cell) {
        return cell.contains(",") || cell.contains("\"") || cell.contains("\n")
                ? "\"" + cell.replace("\"", "\"\"") + "\"" : cell;
    }
}
