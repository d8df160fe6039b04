package dev.iommulab.lab.report;

import dev.iommulab.hw.sim.TraceEvent;
import dev.iommulab.lab.run.RunResult;
import java.util.List;
import java.util.Locale;

/**
 * The readable report: the fault's journey layer by layer, the kernel log, page responses, DMA outcomes,
 * fault records, device PRI state, invariants and expectations. A large run stays readable: long lists show their
 * first entries, then what {@link LargeRun} sums up per device and layer.
 */
public final class TextReporter {

    public String render(RunResult r) {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "iommu-lab run: %s (seed %d, hardware %s, kernel %s)%n", r.scenario(),
                r.seed(), r.hardware(), r.kernel()));
        r.policies().forEach((k, v) -> out.append("  policy ").append(k).append(" = ").append(v)
                .append(System.lineSeparator()));
        out.append(System.lineSeparator());
        section(out, "The journey, layer by layer");
        for (TraceEvent.Step s : r.journey()) {
            out.append(String.format(Locale.ROOT, "%12s  %-6s  %-28s %s%n", time(s.atNs()), s.layer(), s.symbol(),
                    s.message()));
        }
        LargeRun.journeyRest(out, r);
        section(out, "Kernel log (dmesg)");
        lines(out, LargeRun.first(r.log()), r.log().size(), "log lines");
        for (RunResult.GuestEntry g : r.guests()) {
            section(out, "Guest " + g.name() + ": kernel log (dmesg)");
            lines(out, LargeRun.first(g.log()), g.log().size(), "log lines");
            if (!g.vmmLog().isEmpty()) {
                out.append("  VMM:").append(System.lineSeparator());
                lines(out, g.vmmLog().stream().map(l -> "  " + l).toList());
            }
            if (g.deviceNeedsReset() || g.hung()) {
                out.append(String.format("  %s%s%n", g.deviceNeedsReset() ? "the virtio-iommu needs a reset" : "",
                        g.hung() ? (g.deviceNeedsReset() ? "; " : "") + "the guest hung waiting for a request" : ""));
            }
        }
        section(out, "Page responses");
        lines(out, LargeRun.first(r.pageResponses()).stream().map(p -> String.format(Locale.ROOT,
                "%12s  %s PASID %s grpid %d: %s (wire %s) from %s", time(p.atNs()), p.device(),
                p.pasid() == null ? "-" : p.pasid(), p.grpid(), p.code(), p.wireCode(), p.origin())).toList(),
                r.pageResponses().size(), "page responses");
        LargeRun.pageResponsesByDevice(out, r);
        section(out, "DMA");
        lines(out, LargeRun.first(r.dma()).stream().map(d -> String.format(Locale.ROOT, "%s %s %s+%d%s: %s%s%s%s",
                DeviceFaults.qualified(d.guest(), d.device()), d.access(), d.addr(), d.size(), d.pasid() == null ? "" : " PASID " + d.pasid(),
                d.status(), d.latencyNs() == null ? "" : " after " + time(d.latencyNs()),
                d.faultAddr() == null ? "" : " at " + d.faultAddr(),
                d.memoryMatches() == null ? "" : d.memoryMatches() ? "; the bytes are in the process's memory"
                        : "; process memory DIFFERS from the bytes written")).toList(), r.dma().size(),
                "DMA work items");
        LargeRun.dmaByDevice(out, r);
        section(out, "Fault records");
        lines(out, LargeRun.first(r.faultRecords()).stream().map(f -> String.format(Locale.ROOT,
                "%12s  %s PASID %s %s %s: %s (%s)%s", time(f.atNs()), DeviceFaults.qualified(f.guest(), f.device()),
                f.pasid() == null ? "-" : f.pasid(),
                f.access(), f.addr(), f.reason(), f.vendorCode(),
                f.recorded() ? "" : f.coalesced() ? " coalesced" : " not recorded")).toList(), r.faultRecords().size(),
                "fault records");
        DeviceFaults.of(r).stream().filter(DeviceFaults::any).forEach(f -> out.append(String.format(Locale.ROOT,
                "  %s: %d recorded, %d coalesced, %d lost; first recorded %s%n", f.name(), f.recorded(), f.coalesced(),
                f.lost(), f.firstRecordedNs() == null ? "never" : "at " + time(f.firstRecordedNs()))));
        if (!r.virtioEvents().isEmpty()) {
            section(out, "virtio-iommu fault events");
            lines(out, LargeRun.first(r.virtioEvents()).stream().map(TextReporter::virtioEvent).toList(),
                    r.virtioEvents().size(), "events");
        }
        section(out, "Devices");
        lines(out, r.devices().stream().map(d -> String.format(Locale.ROOT,
                "%s: PRI %s, RF %d, UPRGI %d, credits in use %d, partials parked %d",
                DeviceFaults.qualified(d.guest(), d.name()),
                d.priEnabled() ? "enabled" : "disabled", d.priResponseFailure() ? 1 : 0, d.uprgi() ? 1 : 0,
                d.creditsInUse(), d.partialsParked())).toList());
        if (!r.userspace().isEmpty()) {
            section(out, "User space (iommufd)");
            r.userspace().forEach(u -> UserspaceText.render(out, u));
        }
        if (!r.stepErrors().isEmpty()) {
            section(out, "Step errors");
            lines(out, r.stepErrors().stream().map(e -> e.location() + ": " + e.step() + ": " + e.error()
                    + (e.expected() ? " (expected)" : "")).toList());
        }
        section(out, "Invariants");
        lines(out, r.invariants().stream().map(i -> (i.holds() ? "[ok]   " : "[FAIL] ") + i.name()
                + (i.detail().isEmpty() ? "" : " - " + i.detail())).toList());
        section(out, "Expectations");
        lines(out, r.expectations().stream().map(e -> (e.holds() ? "[ok]   " : "[FAIL] ") + e.text() + " (seen "
                + e.seen() + ")").toList());
        out.append(String.format(Locale.ROOT, "%nOutcome: %s after %s simulated%n",
                r.passed() ? "PASS" : "FAIL", time(r.simulatedNs())));
        return out.toString();
    }

    private static String virtioEvent(RunResult.VirtioEventEntry e) {
        String fate = !e.delivered() ? "dropped"
                : e.delayNs() == 0 ? "delivered" : "delivered " + time(e.delayNs()) + " later";
        return String.format(Locale.ROOT, "%12s  %s (EP %d) %s %s %s: %s", time(e.atNs()),
                DeviceFaults.qualified(e.guest(), e.device()), e.endpoint(), e.reason(), e.flags(), e.address(), fate);
    }

    private static void section(StringBuilder out, String title) {
        out.append(String.format("%n== %s ==%n", title));
    }

    private static void lines(StringBuilder out, List<String> lines) {
        if (lines.isEmpty()) {
            out.append("  (none)").append(System.lineSeparator());
        }
        lines.forEach(l -> out.append("  ").append(l).append(System.lineSeparator()));
    }

    /** {@code shown}, the first of {@code all} entries, and a line counting the {@code noun} not shown. */
    private static void lines(StringBuilder out, List<String> shown, int all, String noun) {
        lines(out, shown);
        if (all > shown.size()) {
            out.append(String.format(Locale.ROOT, "  ... and %,d more %s (%,d in all; --format json lists every one)%n",
                    all - shown.size(), noun, all));
        }
    }

    /** Virtual time in microseconds with nanosecond precision. */
    static String time(long ns) {
        return String.format(Locale.ROOT, "%d.%03d us", ns / 1_000, ns % 1_000);
    }
}
