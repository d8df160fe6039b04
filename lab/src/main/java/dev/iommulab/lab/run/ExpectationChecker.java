package dev.iommulab.lab.run;

import dev.iommulab.lab.scenario.DeviceExpect;
import dev.iommulab.lab.scenario.DmaExpect;
import dev.iommulab.lab.scenario.Expectation;
import dev.iommulab.lab.scenario.FaultRecordExpect;
import dev.iommulab.lab.scenario.LogExpect;
import dev.iommulab.lab.scenario.ParkedExpect;
import dev.iommulab.lab.scenario.PageResponseExpect;
import java.util.List;
import java.util.Objects;

/** Evaluates a scenario's expectations against a run's result. */
final class ExpectationChecker {

    private final RunResult result;
    private final int steps;

    /** {@code steps}: how many steps the scenario has (its last step's sample is the end of the run). */
    ExpectationChecker(RunResult result, int steps) {
        this.result = result;
        this.steps = steps;
    }

    List<RunResult.ExpectationEntry> check(List<Expectation> expectations) {
        return expectations.stream().map(this::check).toList();
    }

    private RunResult.ExpectationEntry check(Expectation e) {
        if (e instanceof PageResponseExpect p) {
            long n = result.pageResponses().stream().filter(r -> r.device().equals(p.device())
                    && r.code().equals(p.code()) && (p.origin() == null || p.origin().equals(r.origin()))
                    && (p.grpid() == null || p.grpid() == r.grpid())
                    && (p.pasid() == null || Objects.equals(p.pasid(), r.pasid()))).count();
            return counted(e, n, p.count());
        }
        if (e instanceof DmaExpect d) {
            long n = result.dma().stream().filter(x -> x.device().equals(d.device()) && x.status().equals(d.status()))
                    .count();
            return counted(e, n, d.count());
        }
        if (e instanceof FaultRecordExpect f) {
            long n = result.faultRecords().stream().filter(x -> x.device().equals(f.device())
                    && x.reason().equals(f.reason()) && (f.recorded() == null || f.recorded() == x.recorded())).count();
            return counted(e, n, f.count());
        }
        if (e instanceof DeviceExpect d) {
            return result.devices().stream().filter(x -> x.name().equals(d.name())).findFirst()
                    .map(x -> {
                        boolean holds = (d.priEnabled() == null || d.priEnabled() == x.priEnabled())
                                && (d.priResponseFailure() == null || d.priResponseFailure() == x.priResponseFailure());
                        return new RunResult.ExpectationEntry(e.describe(), holds,
                                "pri-enabled " + x.priEnabled() + ", pri-response-failure " + x.priResponseFailure());
                    })
                    .orElse(new RunResult.ExpectationEntry(e.describe(), false, "no such device"));
        }
        if (e instanceof ParkedExpect p) {
            return parked(p);
        }
        if (e instanceof LogExpect l) {
            boolean found = result.log().stream().anyMatch(line -> line.contains(l.contains()));
            return new RunResult.ExpectationEntry(e.describe(), found, found ? "found" : "not in the log");
        }
        throw new IllegalArgumentException("unknown expectation " + e);
    }

    /** At the end: the devices entry (or its partials of one PASID); after a step: the sample taken then. */
    private RunResult.ExpectationEntry parked(ParkedExpect p) {
        List<RunResult.ParkedEntry> samples = result.parkedAfterSteps();
        int step = p.afterStep() != null ? p.afterStep() : steps;
        long n = samples.stream().filter(x -> x.afterStep() == step && x.device().equals(p.device())
                && (p.pasid() == null || Objects.equals(p.pasid(), x.pasid()))).mapToLong(RunResult.ParkedEntry::count)
                .sum();
        return counted(p, n, p.count());
    }

    private static RunResult.ExpectationEntry counted(Expectation e, long seen, Integer wanted) {
        boolean holds = wanted == null ? seen > 0 : seen == wanted;
        return new RunResult.ExpectationEntry(e.describe(), holds, Long.toString(seen));
    }
}
